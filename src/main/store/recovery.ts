/**
 * A run is 'running' only while a process supervises its worker. When that process died
 * (killed, crashed, machine rebooted) the row stays 'running'; on the next open it becomes
 * 'interrupted', keeping its checkpoints so it can be resumed.
 */
import type Database from 'better-sqlite3';
import { now } from './encoding';

/** A heartbeat older than this means the owner stopped (or its pid was reused). */
export const STALE_HEARTBEAT_MS = 60_000;

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Marks orphaned running runs interrupted; returns their ids. */
export function markOrphanedRuns(
  database: Database.Database,
  alive: (pid: number) => boolean = isProcessAlive,
  nowMs: number = Date.now(),
): number[] {
  const running = database
    .prepare(
      `SELECT id, owner_pid AS ownerPid, heartbeat_at AS heartbeatAt FROM runs
       WHERE status IN ('running', 'queued')`,
    )
    .all() as { id: number; ownerPid: number | null; heartbeatAt: string | null }[];
  const orphaned = running.filter((run) => {
    if (run.ownerPid === null) return true;
    const heartbeatMs = run.heartbeatAt === null ? 0 : Date.parse(run.heartbeatAt);
    const stale = nowMs - heartbeatMs > STALE_HEARTBEAT_MS;
    // Our own pid may be a reused one (a container's pid 1): only the heartbeat can tell.
    if (run.ownerPid === process.pid) return stale;
    return stale || !alive(run.ownerPid);
  });
  const mark = database.prepare(
    `UPDATE runs SET status = 'interrupted', owner_pid = NULL, finished_at = ?,
       error = json_object('kind', 'io', 'message', ?)
     WHERE id = ?`,
  );
  database.transaction(() => {
    for (const run of orphaned) {
      mark.run(now(), 'the process running it stopped before the run finished', run.id);
    }
  })();
  return orphaned.map((run) => run.id);
}
