/**
 * Two writers on one database at once: two CLI processes train at the same time while a
 * third lists the runs in a loop. WAL and the busy timeout must let all of them through:
 * every step and checkpoint recorded, and no "database is locked" reaching the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { json, runCli, startCli } from '../integration/cliHarness';
import { createWorkspace, integrityCheck, query, type Workspace } from './harness';

const STEPS = 120;
const TRAIN = [
  '--method',
  'sae-relu',
  '--features',
  '32',
  '--batch',
  '64',
  '--eval-rows',
  '200',
  '--steps',
  String(STEPS),
  // A checkpoint every step makes the two writers collide as often as they can.
  '--checkpoint-every',
  '1',
];

let workspace: Workspace;

beforeAll(async () => {
  workspace = await createWorkspace('concurrency');
});

afterAll(() => workspace.remove());

describe('two processes training into one database at the same time', () => {
  it('both complete with all their steps while a third process reads in a loop', async () => {
    const { database, data } = workspace;
    // The first open creates the schema; the writers then race on an existing file.
    json<RunSummary[]>(await runCli(['runs', '--json'], database));

    const first = startCli(['train', data, ...TRAIN, '--seed', '1', '--json'], database);
    const second = startCli(['train', data, ...TRAIN, '--seed', '2', '--json'], database);
    let readerDone = false;
    let reads = 0;
    const readerErrors: string[] = [];
    const reader = (async () => {
      while (!readerDone) {
        const result = await runCli(['runs', '--json'], database);
        if (result.code !== 0) readerErrors.push(result.stderr);
        else JSON.parse(result.stdout);
        reads++;
      }
    })();
    const results = await Promise.all([first.done, second.done]);
    readerDone = true;
    await reader;

    for (const result of results) {
      expect(result.stderr).not.toMatch(/locked|SQLITE_BUSY/i);
      expect(result.code).toBe(0);
    }
    expect(readerErrors).toEqual([]);
    expect(reads).toBeGreaterThan(0);

    const runs = results.map((result) => JSON.parse(result.stdout) as RunSummary);
    expect(new Set(runs.map((run) => run.id)).size).toBe(2);
    for (const run of runs) {
      expect(run.status).toBe('completed');
      expect(run.step).toBe(STEPS);
      const recorded = query<{ steps: number; last: number }>(
        database,
        'SELECT COUNT(DISTINCT step) AS steps, MAX(step) AS last FROM steps WHERE run_id = ?',
        run.id,
      )!;
      expect(recorded.last).toBe(STEPS);
      const checkpoint = query<{ step: number }>(
        database,
        'SELECT MAX(step) AS step FROM checkpoints WHERE run_id = ?',
        run.id,
      )!;
      expect(checkpoint.step).toBe(STEPS);
    }
    expect(integrityCheck(database)).toBe('ok');
  });
});
