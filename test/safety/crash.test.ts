/**
 * Nothing lost: a training worker or the CLI that supervises it is killed with SIGKILL in the
 * middle of a run (and of its checkpoint writes). The database must stay intact, the run
 * must end up interrupted with its last checkpoint, and resuming must give the same
 * dictionary as a run that was never interrupted (SAE training restores bit-exactly).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { json, runCli, smallRunFlags, startCli, waitForOutput } from '../integration/cliHarness';
import {
  childPids,
  createWorkspace,
  integrityCheck,
  largestDifference,
  latestCheckpoint,
  checkpointAt,
  checkpointSteps,
  query,
  waitForStep,
  waitUntilGone,
  type Workspace,
} from './harness';

/**
 * A resumed run reads past the batches its first steps consumed (src/worker/training/
 * train.ts) and TopK's steps draw no random numbers of their own, so the resumed run must end
 * with exactly the parameters of an uninterrupted run of the same seed.
 */
const STEPS = 3000;
const TRAIN = smallRunFlags({ seed: 11 });

let workspace: Workspace;

beforeAll(async () => {
  workspace = await createWorkspace('crash');
});

afterAll(() => workspace.remove());

describe('a training worker killed with SIGKILL', () => {
  it('leaves an intact database, an interrupted run with its checkpoint, and resume ends with exactly the parameters of an uninterrupted run', async () => {
    const { database, data } = workspace;
    const args = ['train', data, ...TRAIN, '--steps', String(STEPS), '--checkpoint-every', '20'];

    // The reference: the same run, never interrupted.
    const reference = json<RunSummary>(await runCli([...args, '--json'], database));
    expect(reference.status).toBe('completed');

    // The victim: killed after its second checkpoint.
    const { child, done } = startCli(args, database);
    await waitForOutput(child.stderr!, (text) => /run \d+: sae-topk/.test(text));
    const victimId = reference.id + 1;
    await waitForStep(database, victimId, 45);
    const workers = childPids(child.pid!);
    expect(workers).toHaveLength(1);
    process.kill(workers[0]!, 'SIGKILL');
    const result = await done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/interrupted/);

    expect(integrityCheck(database)).toBe('ok');
    const listed = json<RunSummary[]>(await runCli(['runs', '--json'], database));
    const interrupted = listed.find((run) => run.id === victimId)!;
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.error?.message).toMatch(/SIGKILL/);
    const kept = latestCheckpoint(database, victimId);
    expect(kept).not.toBeNull();
    expect(kept!.step).toBeGreaterThanOrEqual(40);
    expect(kept!.step).toBeLessThan(STEPS);

    const resumed = json<RunSummary>(
      await runCli(['resume', String(victimId), '--json'], database),
    );
    expect(resumed.status).toBe('completed');
    expect(resumed.step).toBe(STEPS);

    const referenceFinal = latestCheckpoint(database, reference.id)!;
    const resumedFinal = latestCheckpoint(database, victimId)!;
    expect(resumedFinal.step).toBe(referenceFinal.step);
    expect(largestDifference(resumedFinal.tensors, referenceFinal.tensors)).toBe(0);
    expect(resumed.metrics!.mse).toBe(reference.metrics!.mse);
    expect(resumed.metrics!.explainedVariance).toBe(reference.metrics!.explainedVariance);
    expect(integrityCheck(database)).toBe('ok');
  });
});

describe('the CLI killed with SIGKILL while its run writes a checkpoint every step', () => {
  it('recovers on the next open: intact database, whole rows only, the orphaned run interrupted, its worker gone', async () => {
    const { database, data } = workspace;
    const before = query<{ id: number }>(database, 'SELECT MAX(id) AS id FROM runs')?.id ?? 0;
    const runId = before + 1;
    const { child, done } = startCli(
      ['train', data, ...TRAIN, '--steps', '100000', '--checkpoint-every', '1'],
      database,
    );
    await waitForOutput(child.stderr!, (text) => /run \d+: sae-topk/.test(text));
    await waitForStep(database, runId, 30);
    const workers = childPids(child.pid!);
    expect(workers).toHaveLength(1);
    child.kill('SIGKILL');
    const result = await done;
    expect(result.signal).toBe('SIGKILL');

    // The worker must not train on for nobody: it notices its supervisor is gone.
    expect(await waitUntilGone(workers[0]!)).toBe(true);

    expect(integrityCheck(database)).toBe('ok');
    // The next open (any command) marks the orphan interrupted.
    const listed = json<RunSummary[]>(await runCli(['runs', '--json'], database));
    const orphan = listed.find((run) => run.id === runId)!;
    expect(orphan.status).toBe('interrupted');
    expect(orphan.error?.message).toMatch(/stopped/);

    // Every checkpoint row decodes whole: no row was half-written.
    const checkpoint = latestCheckpoint(database, runId);
    expect(checkpoint).not.toBeNull();
    expect(checkpoint!.step).toBeGreaterThanOrEqual(30);
    for (const step of checkpointSteps(database, runId)) {
      expect(() => checkpointAt(database, runId, step)).not.toThrow();
    }

    // And it resumes from there (then is cancelled: 100000 steps would take too long).
    const { child: resumer, done: resumeDone } = startCli(['resume', String(runId)], database);
    const resumedText = await waitForOutput(resumer.stderr!, (text) =>
      /resuming at step \d+/.test(text),
    );
    resumer.kill('SIGINT');
    for (const worker of childPids(resumer.pid!)) process.kill(worker, 'SIGINT');
    await resumeDone;
    expect(Number(/resuming at step (\d+)/.exec(resumedText)![1])).toBeGreaterThanOrEqual(
      checkpoint!.step,
    );
    expect(integrityCheck(database)).toBe('ok');
  });
});
