/**
 * Cancellation: Ctrl-C cancels a run cleanly, marked cancelled and resumable. Workers killed with
 * SIGKILL are the subject of test/safety/crash.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { childPids } from '../safety/harness';
import { assertBuilt, json, runCli, smallRunFlags, startCli, waitForOutput } from './cliHarness';

let folder: string;
let database: string;
let data: string;
const TRAIN = smallRunFlags({ 'checkpoint-every': 20 });

beforeAll(async () => {
  assertBuilt();
  folder = mkdtempSync(join(tmpdir(), 'basis-cancel-'));
  database = join(folder, 'basis.sqlite');
  data = join(folder, 'planted.npy');
  const generated = await runCli(
    ['generate', '--out', data, '--dimensions', '16', '--features', '24', '--rows', '2000'],
    database,
  );
  expect(generated.code).toBe(0);
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

/** Waits until the run has recorded at least `step` steps. */
async function waitForStep(runId: number, step: number): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const runs = json<RunSummary[]>(await runCli(['runs', '--json'], database));
    if ((runs.find((run) => run.id === runId)?.step ?? 0) >= step) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`run ${runId} never reached step ${step}`);
}

describe('cancellation', () => {
  it('Ctrl-C cancels the run cleanly: exit 130, status cancelled, the step it reached', async () => {
    const { child, done } = startCli(['train', data, ...TRAIN, '--steps', '100000'], database);
    await waitForOutput(child.stderr!, (text) => /run \d+: sae-topk/.test(text));
    await waitForStep(1, 25);
    // A terminal's Ctrl-C reaches the whole process group: the CLI and its worker.
    const workers = childPids(child.pid!);
    child.kill('SIGINT');
    for (const worker of workers) process.kill(Number(worker), 'SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(
      /basis: run 1 cancelled at step \d+; continue it with "basis resume 1"/,
    );

    const run = json<RunSummary[]>(await runCli(['runs', '--json'], database))[0]!;
    expect(run.status).toBe('cancelled');
    expect(run.step).toBeGreaterThanOrEqual(25);
  });
});
