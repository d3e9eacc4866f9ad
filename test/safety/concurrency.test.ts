/**
 * Two writers on one database at once: two CLI processes train at the same time while a
 * third lists the runs in a loop. WAL and the busy timeout must let all of them through:
 * every step and checkpoint recorded, and no "database is locked" reaching the user.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../../src/main/service/service';
import type { RunSummary } from '../../src/shared/contract';
import { json, ROOT, runCli, startCli, waitForOutput } from '../integration/cliHarness';
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
      expect(result.stderr, 'a training process').not.toMatch(/locked|SQLITE_BUSY/i);
      expect(result.code, result.stderr).toBe(0);
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

describe('a write that must wait for another process', () => {
  it('waits for it instead of failing: re-opening a dataset while another process commits', async () => {
    const { database, data } = workspace;
    const service = createService({
      databasePath: database,
      workerPath: join(ROOT, 'out', 'main', 'worker.js'),
      sampleFolder: join(ROOT, 'resources', 'sample'),
    });
    try {
      await service.openDataset(data, {});
      // Another process takes the write lock, changes a row, holds it 1.5 s, then commits.
      const holder = spawn(
        process.execPath,
        [
          '-e',
          `const Database = require('better-sqlite3');
           const db = new Database(process.argv[1]);
           db.exec('BEGIN IMMEDIATE');
           db.prepare('UPDATE datasets SET labels_path = labels_path').run();
           process.stdout.write('locked\\n');
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
           db.exec('COMMIT');
           db.close();`,
          database,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      await waitForOutput(holder.stdout!, (text) => text.includes('locked'));
      // Recording the same dataset again reads its row, then updates it.
      await expect(service.openDataset(data, {})).resolves.toMatchObject({ path: data });
      await exited;
    } finally {
      await service.close();
    }
  });
});
