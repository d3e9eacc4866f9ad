/**
 * The checkpoints table: a run's parameters and optimiser state as safetensors bytes. Only
 * the newest few are kept; the newest one resumes a run and rebuilds its model.
 */
import type Database from 'better-sqlite3';
import type { NamedTensors } from '../../shared/tensors';
import { decodeSafetensors, encodeSafetensors } from '../formats/safetensorsCodec';
import { now } from './encoding';

export const CHECKPOINTS_KEPT = 3;

export interface Checkpoint {
  step: number;
  tensors: NamedTensors;
}

export class CheckpointRepository {
  constructor(private readonly database: Database.Database) {}

  save(runId: number, step: number, tensors: NamedTensors, keep = CHECKPOINTS_KEPT): void {
    const bytes = encodeSafetensors(tensors);
    this.database.transaction(() => {
      this.database
        .prepare(
          'INSERT OR REPLACE INTO checkpoints (run_id, step, tensors, created_at) VALUES (?, ' +
            '?, ?, ?)',
        )
        .run(runId, step, bytes, now());
      this.database
        .prepare(
          `DELETE FROM checkpoints WHERE run_id = ? AND step NOT IN
             (SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT ?)`,
        )
        .run(runId, runId, keep);
    })();
  }

  latest(runId: number): Checkpoint | null {
    const row = this.database
      .prepare('SELECT step, tensors FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1')
      .get(runId) as { step: number; tensors: Buffer } | undefined;
    if (row === undefined) return null;
    return { step: row.step, tensors: decodeSafetensors(row.tensors).tensors };
  }

  steps(runId: number): number[] {
    const rows = this.database
      .prepare('SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step')
      .all(runId) as { step: number }[];
    return rows.map((row) => row.step);
  }
}
