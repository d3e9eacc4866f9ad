/**
 * The worker's training task in-process, through an in-memory channel: the order of the
 * protocol messages, checkpoints at the configured interval, cancellation between steps
 * with a checkpoint, and a resumed run continuing from that checkpoint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCancelled } from '../../src/shared/errors';
import { parseRunConfig } from '../../src/shared/runConfig';
import { generatePlanted } from '../../src/main/generate/planted';
import { openActivations } from '../../src/main/formats/open';
import { writeNpy } from '../../src/main/formats/npyWrite';
import { computeStatistics } from '../../src/main/formats/statistics';
import type { DatasetLocation, TrainTask, WorkerToMain } from '../../src/worker/protocol';
import { CancelledAtStep, type Channel, type Outgoing } from '../../src/worker/training/channel';
import { runTraining } from '../../src/worker/training/train';

let folder: string;
let dataset: DatasetLocation;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'basis-worker-'));
  const planted = generatePlanted({
    dimensions: 8,
    features: 12,
    activePerRow: 2,
    rows: 800,
    magnitudes: 'uniform',
    probabilities: 'uniform',
    noise: 0.01,
    seed: 2,
  });
  const path = join(folder, 'data.npy');
  await writeNpy(path, [800, 8], planted.data);
  const source = await openActivations(path);
  const statistics = await computeStatistics(source);
  await source.close();
  dataset = { path, options: {}, rows: 800, columns: 8, statistics };
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

/** Collects messages; cancels once `cancelAtStep` steps have been reported. */
function recordingChannel(cancelAtStep = Infinity): { channel: Channel; messages: Outgoing[] } {
  const messages: Outgoing[] = [];
  let cancel = false;
  const channel: Channel = {
    send(message) {
      messages.push(message);
      if (message.type === 'checkpoint' && message.step >= cancelAtStep) cancel = true;
    },
    cancelled: () => cancel,
  };
  return { channel, messages };
}

function task(config: object, resume: TrainTask['resume'] = null): TrainTask {
  return {
    type: 'train',
    requestId: 1,
    runId: 1,
    config: parseRunConfig(config, 8),
    dataset,
    resume,
    elapsedMsBefore: 0,
  };
}

const CONFIG = {
  method: 'sae-topk',
  features: 16,
  k: 2,
  steps: 30,
  batchSize: 32,
  checkpointEvery: 10,
  evaluationRows: 100,
};

describe('worker training task', () => {
  it('reports started, progress, checkpoints, warnings, analysis and done, in that order', async () => {
    const { channel, messages } = recordingChannel();
    await runTraining(task(CONFIG), channel);
    const types = messages.map((message) => message.type);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('done');
    expect(types.indexOf('analysis')).toBe(types.length - 2);
    expect(types.lastIndexOf('progress')).toBeLessThan(types.indexOf('analysis'));
    const checkpoints = messages.flatMap((message) =>
      message.type === 'checkpoint' ? [message.step] : [],
    );
    expect(checkpoints).toEqual([10, 20, 30]);
    const records = messages.flatMap((message) =>
      message.type === 'progress' ? message.records : [],
    );
    expect(records.map((record) => record.step)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    const analysis = messages.find((message) => message.type === 'analysis') as Extract<
      WorkerToMain,
      { type: 'analysis' }
    >;
    expect(analysis.result.metrics.evaluationRows).toBe(100);
    expect(analysis.result.features).toHaveLength(16);
    expect(analysis.result.features[0]!.laplace.kind).toBe('one-sided');
  });

  it('stops between steps when cancelled, after saving a checkpoint, and resumes from it', async () => {
    const { channel, messages } = recordingChannel(10);
    const error = await runTraining(task(CONFIG), channel).catch((caught: unknown) => caught);
    expect(isCancelled(error)).toBe(true);
    expect(error).toBeInstanceOf(CancelledAtStep);
    const stoppedAt = (error as CancelledAtStep).step;
    expect(stoppedAt).toBeGreaterThanOrEqual(10);
    const last = messages.at(-1)!;
    expect(last).toMatchObject({ type: 'checkpoint', step: stoppedAt });
    expect(messages.some((message) => message.type === 'analysis')).toBe(false);

    const tensors = (last as Extract<WorkerToMain, { type: 'checkpoint' }>).tensors;
    const resumed = recordingChannel();
    await runTraining(task(CONFIG, { step: stoppedAt, tensors }), resumed.channel);
    const records = resumed.messages.flatMap((message) =>
      message.type === 'progress' ? message.records : [],
    );
    expect(records[0]!.step).toBe(stoppedAt + 1);
    expect(resumed.messages.at(-1)).toMatchObject({ type: 'done', step: 30 });
  });

  it('refuses a dataset that changed since it was recorded', async () => {
    const { channel } = recordingChannel();
    await expect(
      runTraining({ ...task(CONFIG), dataset: { ...dataset, rows: 801 } }, channel),
    ).rejects.toThrow(/changed since it was opened/);
  });
});
