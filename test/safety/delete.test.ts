/**
 * Deleting asks first, and nothing else deletes user data. `basis delete RUN` without --yes
 * on a non-terminal refuses; a run another process is training cannot be deleted under it;
 * and the source holds no file or row deletion besides the reviewed ones listed here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { json, ROOT, runCli, startCli, waitForOutput } from '../integration/cliHarness';
import { childPids, createWorkspace, query, waitForStep, type Workspace } from './harness';

const TRAIN = ['--method', 'sae-relu', '--features', '32', '--batch', '64', '--eval-rows', '200'];

let workspace: Workspace;

beforeAll(async () => {
  workspace = await createWorkspace('delete');
});

afterAll(() => workspace.remove());

function runCount(): number {
  return query<{ count: number }>(workspace.database, 'SELECT COUNT(*) AS count FROM runs')!.count;
}

describe('deleting a run', () => {
  it('without --yes on a non-terminal refuses with a clear message and deletes nothing', async () => {
    const { database, data } = workspace;
    const run = json<RunSummary>(
      await runCli(['train', data, ...TRAIN, '--steps', '10', '--json'], database),
    );
    const checkpoints = query<{ count: number }>(
      database,
      'SELECT COUNT(*) AS count FROM checkpoints WHERE run_id = ?',
      run.id,
    )!.count;
    expect(checkpoints).toBeGreaterThan(0);

    const refused = await runCli(['delete', String(run.id)], database);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `basis: deleting run ${run.id} needs confirmation: add --yes`,
    );
    expect(runCount()).toBe(1);
    expect(
      query<{ count: number }>(
        database,
        'SELECT COUNT(*) AS count FROM checkpoints WHERE run_id = ?',
        run.id,
      )!.count,
    ).toBe(checkpoints);

    const deleted = await runCli(['delete', String(run.id), '--yes'], database);
    expect(deleted.code).toBe(0);
    expect(runCount()).toBe(0);
    // Its checkpoints, steps and analysis go with it (foreign keys cascade).
    for (const table of ['checkpoints', 'steps', 'run_metrics', 'features']) {
      expect(
        query<{ count: number }>(
          database,
          `SELECT COUNT(*) AS count FROM ${table} WHERE run_id = ?`,
          run.id,
        )!.count,
      ).toBe(0);
    }
    // The activation file is the user's: never touched.
    expect(statSync(data).size).toBeGreaterThan(0);
  });

  it('refuses, even with --yes, to delete a run that another process is training', async () => {
    const { database, data } = workspace;
    const { child, done } = startCli(['train', data, ...TRAIN, '--steps', '100000'], database);
    const banner = await waitForOutput(child.stderr!, (text) => /run \d+: sae-relu/.test(text));
    const runId = Number(/run (\d+):/.exec(banner)![1]);
    await waitForStep(database, runId, 5);

    const refused = await runCli(['delete', String(runId), '--yes'], database);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is running in another process .*cancel it first/);
    expect(query(database, 'SELECT id FROM runs WHERE id = ?', runId)).toBeDefined();

    const workers = childPids(child.pid!);
    child.kill('SIGINT');
    for (const worker of workers) process.kill(worker, 'SIGINT');
    await done;
  });
});

/** Every deletion in the Node side of the source, and why it is harmless. */
const REVIEWED_DELETIONS: Record<string, string> = {
  'src/main/export/atomicWrite.ts': 'removes its own .partial temporary file or folder',
  'src/main/formats/npz.ts': 'removes the basis-npz-* folder it made to inflate a member',
  'src/main/store/analysis.ts': "replaces a run's analysis rows when it is recomputed",
  'src/main/store/steps.ts': 'forgets steps after the checkpoint a resumed run restarts from',
  'src/main/store/checkpoints.ts': 'keeps the newest checkpoints of a run, drops older ones',
  'src/main/store/runs.ts': 'the one delete of a run, reached only by deleteRun',
};

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

describe('nothing else deletes user data', () => {
  it('the source deletes files and rows only in the reviewed places', () => {
    const deleting =
      /\b(unlink|unlinkSync|rmSync|rmdir|rmdirSync)\b|\bfs\.rm\(|\brm\(|DELETE\s+FROM|DROP\s+TABLE/;
    const found = new Set<string>();
    for (const folder of ['src/main', 'src/cli', 'src/worker', 'src/preload', 'src/shared']) {
      for (const file of sourceFiles(join(ROOT, folder))) {
        if (deleting.test(readFileSync(file, 'utf8'))) found.add(relative(ROOT, file));
      }
    }
    expect([...found].sort()).toEqual(Object.keys(REVIEWED_DELETIONS).sort());
  });

  it('only the delete command and the renderer (after its confirmation dialog) call deleteRun', () => {
    const callers = new Set<string>();
    for (const folder of ['src/main', 'src/cli', 'src/worker', 'src/renderer/src']) {
      for (const file of sourceFiles(join(ROOT, folder))) {
        if (/\.deleteRun\(/.test(readFileSync(file, 'utf8'))) callers.add(relative(ROOT, file));
      }
    }
    expect([...callers].sort()).toEqual([
      'src/cli/commands/delete.ts',
      'src/renderer/src/views/RunsView.tsx',
    ]);
    const view = readFileSync(join(ROOT, 'src/renderer/src/views/RunsView.tsx'), 'utf8');
    expect(view).toMatch(/setToDelete/);
  });
});
