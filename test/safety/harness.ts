/**
 * Helpers of the fault-injection tests: a temporary folder with a small generated data set,
 * direct read-only looks into the database (cheaper than spawning `basis runs` in a loop on a
 * loaded machine), and the worker processes of a CLI process.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeSafetensors } from '../../src/main/formats/safetensorsCodec';
import type { NamedTensors } from '../../src/shared/tensors';
import { assertBuilt, runCli } from '../integration/cliHarness';

export interface Workspace {
  folder: string;
  database: string;
  data: string;
  remove(): void;
}

/** A temporary folder with a database path and a planted data set (16 columns, 2000 rows). */
export async function createWorkspace(prefix: string): Promise<Workspace> {
  assertBuilt();
  const folder = mkdtempSync(join(tmpdir(), `basis-safety-${prefix}-`));
  const database = join(folder, 'basis.sqlite');
  const data = join(folder, 'planted.npy');
  const generated = await runCli(
    ['generate', '--out', data, '--dimensions', '16', '--features', '24', '--rows', '2000'],
    database,
  );
  if (generated.code !== 0) throw new Error(`generate failed: ${generated.stderr}`);
  return { folder, database, data, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/**
 * Reads one value from the database without holding it open (WAL lets it read while a run
 * writes).
 */
export function query<T>(database: string, sql: string, ...parameters: unknown[]): T | undefined {
  const connection = new Database(database, { readonly: true, fileMustExist: true });
  try {
    connection.pragma('busy_timeout = 10000');
    return connection.prepare(sql).get(...parameters) as T | undefined;
  } finally {
    connection.close();
  }
}

export function integrityCheck(database: string): string {
  const connection = new Database(database, { fileMustExist: true });
  try {
    return connection.pragma('integrity_check', { simple: true }) as string;
  } finally {
    connection.close();
  }
}

/** Resolves once run `runId` has recorded at least `step` steps. */
export async function waitForStep(
  database: string,
  runId: number,
  step: number,
  timeoutMs = 40_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const row = query<{ step: number }>(database, 'SELECT step FROM runs WHERE id = ?', runId);
      if (row !== undefined && row.step >= step) return row.step;
    } catch {
      // The database may not exist yet, or be mid-migration.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} never reached step ${step}`);
}

/** The pids of `pid`'s children (the training workers of a CLI process), read from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // It exited meanwhile.
    }
    // "pid (command) state ppid ...": the command may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitUntilGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** The newest checkpoint of a run, decoded. */
export function latestCheckpoint(
  database: string,
  runId: number,
): { step: number; tensors: NamedTensors } | null {
  const row = query<{ step: number; tensors: Buffer }>(
    database,
    'SELECT step, tensors FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1',
    runId,
  );
  if (row === undefined) return null;
  return { step: row.step, tensors: decodeSafetensors(row.tensors).tensors };
}

/** Largest |a - b| over every tensor the two hold (Infinity when names, sizes or NaNs differ). */
export function largestDifference(a: NamedTensors, b: NamedTensors): number {
  const names = Object.keys(a).sort();
  if (names.join() !== Object.keys(b).sort().join()) return Infinity;
  let largest = 0;
  for (const name of names) {
    const x = a[name]!;
    const y = b[name]!;
    if (x.values.length !== y.values.length) return Infinity;
    for (let i = 0; i < x.values.length; i++) {
      const u = x.values[i]!;
      const v = y.values[i]!;
      // NaN marks "not estimated yet" in some state tensors: equal when both hold it.
      if (Number.isNaN(u) && Number.isNaN(v)) continue;
      const difference = Math.abs(u - v);
      if (Number.isNaN(difference)) return Infinity;
      largest = Math.max(largest, difference);
    }
  }
  return largest;
}

export function checkpointSteps(database: string, runId: number): number[] {
  const connection = new Database(database, { readonly: true, fileMustExist: true });
  try {
    const rows = connection
      .prepare('SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step')
      .all(runId) as { step: number }[];
    return rows.map((row) => row.step);
  } finally {
    connection.close();
  }
}

/** Decodes one checkpoint; throws when its bytes are not whole safetensors. */
export function checkpointAt(database: string, runId: number, step: number): NamedTensors {
  const row = query<{ tensors: Buffer }>(
    database,
    'SELECT tensors FROM checkpoints WHERE run_id = ? AND step = ?',
    runId,
    step,
  );
  if (row === undefined) throw new Error(`run ${runId} has no checkpoint at step ${step}`);
  return decodeSafetensors(row.tensors).tensors;
}
