/**
 * The runs table: a run's identity (dataset, method, configuration, seed) and its life
 * (status, step, timings, error, warnings, the process that supervises it).
 */
import type Database from 'better-sqlite3';
import type { RunMetrics, RunStatus, RunSummary } from '../../shared/contract';
import type { SerializedError } from '../../shared/errors';
import { notFound } from '../../shared/errors';
import type { Method, RunConfig } from '../../shared/methods';
import { fromJson, now, toJson } from './encoding';

export type RunOrigin = 'trained' | 'imported';

export interface RunRecord extends RunSummary {
  origin: RunOrigin;
  totalSteps: number;
  ownerPid: number | null;
  cancelRequested: boolean;
}

interface RunRow {
  id: number;
  dataset_id: number;
  dataset_path: string;
  method: string;
  origin: string;
  config: string;
  backend: string | null;
  seed: number;
  status: string;
  step: number;
  total_steps: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  elapsed_ms: number | null;
  peak_memory_bytes: number | null;
  error: string | null;
  warnings: string;
  owner_pid: number | null;
  cancel_requested: number;
  metrics: string | null;
}

const SELECT_RUN = `
  SELECT runs.*, datasets.path AS dataset_path, run_metrics.metrics AS metrics
  FROM runs
  JOIN datasets ON datasets.id = runs.dataset_id
  LEFT JOIN run_metrics ON run_metrics.run_id = runs.id`;

export class RunRepository {
  constructor(private readonly database: Database.Database) {}

  create(datasetId: number, config: RunConfig, origin: RunOrigin = 'trained'): RunRecord {
    const result = this.database
      .prepare(
        `INSERT INTO runs (dataset_id, method, origin, config, seed, status, total_steps, created_at)
         VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)`,
      )
      .run(datasetId, config.method, origin, toJson(config), config.seed, config.steps, now());
    return this.get(Number(result.lastInsertRowid));
  }

  get(id: number): RunRecord {
    const row = this.database.prepare(`${SELECT_RUN} WHERE runs.id = ?`).get(id) as
      RunRow | undefined;
    if (row === undefined) throw notFound(`no run ${id}: list the runs with "basis runs"`);
    return toRecord(row);
  }

  list(): RunRecord[] {
    const rows = this.database.prepare(`${SELECT_RUN} ORDER BY runs.id`).all() as RunRow[];
    return rows.map(toRecord);
  }

  /** The run is now supervised by this process. */
  markRunning(id: number, ownerPid: number): void {
    this.database
      .prepare(
        `UPDATE runs SET status = 'running', owner_pid = ?, heartbeat_at = ?,
           started_at = COALESCE(started_at, ?), finished_at = NULL, error = NULL,
           cancel_requested = 0
         WHERE id = ?`,
      )
      .run(ownerPid, now(), now(), id);
  }

  setBackend(id: number, backend: string): void {
    this.database.prepare('UPDATE runs SET backend = ? WHERE id = ?').run(backend, id);
  }

  /**
   * Records progress and proves the owner alive. `peakMemoryBytes`, when given, raises the
   * run's recorded peak (a resumed run keeps the largest of its workers').
   */
  heartbeat(
    id: number,
    step: number | null,
    elapsedMs: number | null,
    peakMemoryBytes: number | null = null,
  ): void {
    this.database
      .prepare(
        `UPDATE runs SET heartbeat_at = ?, step = COALESCE(?, step),
           elapsed_ms = COALESCE(?, elapsed_ms),
           peak_memory_bytes = MAX(COALESCE(peak_memory_bytes, 0), COALESCE(?, 0))
         WHERE id = ?`,
      )
      .run(now(), step, elapsedMs, peakMemoryBytes, id);
  }

  setWarnings(id: number, warnings: string[]): void {
    this.database.prepare('UPDATE runs SET warnings = ? WHERE id = ?').run(toJson(warnings), id);
  }

  /** Ends the run's life: completed, failed, cancelled or interrupted. */
  finish(
    id: number,
    status: RunStatus,
    error: SerializedError | null,
    elapsedMs: number | null,
  ): void {
    this.database
      .prepare(
        `UPDATE runs SET status = ?, error = ?, finished_at = ?, owner_pid = NULL,
           elapsed_ms = COALESCE(?, elapsed_ms), cancel_requested = 0
         WHERE id = ?`,
      )
      .run(status, error === null ? null : toJson(error), now(), elapsedMs, id);
  }

  /** Asks the supervising process, whichever it is, to cancel at its next heartbeat. */
  requestCancel(id: number): void {
    this.database.prepare('UPDATE runs SET cancel_requested = 1 WHERE id = ?').run(id);
  }

  isCancelRequested(id: number): boolean {
    const row = this.database.prepare('SELECT cancel_requested FROM runs WHERE id = ?').get(id) as
      { cancel_requested: number } | undefined;
    return row?.cancel_requested === 1;
  }

  /** Deletes the run and, by cascade, everything recorded about it. */
  delete(id: number): void {
    this.database.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    datasetPath: row.dataset_path,
    method: row.method as Method,
    config: fromJson<RunConfig>(row.config),
    backend: row.backend,
    status: row.status as RunStatus,
    step: row.step,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    elapsedMs: row.elapsed_ms,
    peakMemoryBytes: row.peak_memory_bytes || null,
    error: row.error === null ? null : fromJson<SerializedError>(row.error),
    metrics: row.metrics === null ? null : fromJson<RunMetrics>(row.metrics),
    warnings: fromJson<string[]>(row.warnings),
    origin: row.origin as RunOrigin,
    totalSteps: row.total_steps,
    ownerPid: row.owner_pid,
    cancelRequested: row.cancel_requested === 1,
  };
}

/** The contract's view of a run (without the bookkeeping fields). */
export function toSummary(record: RunRecord): RunSummary {
  return {
    id: record.id,
    datasetId: record.datasetId,
    datasetPath: record.datasetPath,
    method: record.method,
    config: record.config,
    backend: record.backend,
    status: record.status,
    step: record.step,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    elapsedMs: record.elapsedMs,
    peakMemoryBytes: record.peakMemoryBytes,
    error: record.error,
    metrics: record.metrics,
    warnings: record.warnings,
  };
}
