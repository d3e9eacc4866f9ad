/** The steps table: the points of a run's loss curves. */
import type Database from 'better-sqlite3';
import type { StepRecord } from '../../shared/contract';
import { fromJson, toJson } from './encoding';

interface StepRow {
  step: number;
  losses: string;
  rows_per_second: number;
  elapsed_ms: number;
}

export class StepRepository {
  constructor(private readonly database: Database.Database) {}

  /** Adds records; a step recorded twice (a resumed run) keeps the newer values. */
  add(runId: number, records: readonly StepRecord[]): void {
    const insert = this.database.prepare(
      `INSERT OR REPLACE INTO steps (run_id, step, losses, rows_per_second, elapsed_ms)
       VALUES (?, ?, ?, ?, ?)`,
    );
    for (const record of records) {
      insert.run(runId, record.step, toJson(record.losses), record.rowsPerSecond, record.elapsedMs);
    }
  }

  list(runId: number): StepRecord[] {
    const rows = this.database
      .prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY step')
      .all(runId) as StepRow[];
    return rows.map(toRecord);
  }

  latest(runId: number): StepRecord | null {
    const row = this.database
      .prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY step DESC LIMIT 1')
      .get(runId) as StepRow | undefined;
    return row === undefined ? null : toRecord(row);
  }

  /** Forgets the records after `step` (a run resumed from an earlier checkpoint). */
  deleteAfter(runId: number, step: number): void {
    this.database.prepare('DELETE FROM steps WHERE run_id = ? AND step > ?').run(runId, step);
  }
}

function toRecord(row: StepRow): StepRecord {
  return {
    step: row.step,
    losses: fromJson<Record<string, number>>(row.losses),
    rowsPerSecond: row.rows_per_second,
    elapsedMs: row.elapsed_ms,
  };
}
