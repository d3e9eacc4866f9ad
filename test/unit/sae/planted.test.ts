/**
 * Recovery of planted features, the acceptance test of sae-topk on synthetic data: the
 * shared benchmark generator (src/main/generate/planted.ts), 32 dimensions, 64 planted unit
 * features, 3 active per row on average, signed Laplacian magnitudes, no noise.
 */
import { beforeAll, expect, test } from 'vitest';
import { generatePlanted } from '../../../src/main/generate/planted';
import { initializeBackend } from '../../../src/worker/backend';
import { saeTopkMethod } from '../../../src/worker/sae/methods';
import { batches, configFor, contextFor, meanMaxCosine } from './helpers';

const MIN_MMCS = 0.95;

beforeAll(async () => {
  await initializeBackend();
});

test('sae-topk recovers 64 planted features in 32 dimensions (MMCS >= 0.95)', () => {
  const dimensions = 32;
  const rows = 20000;
  const planted = generatePlanted({
    dimensions,
    features: 64,
    activePerRow: 3,
    rows,
    magnitudes: 'laplacian',
    probabilities: 'uniform',
    noise: 0,
    seed: 42,
  });
  // Codes are nonnegative, so a signed planted feature needs two atoms (+f and -f): 128.
  const config = configFor('sae-topk', dimensions, {
    features: 128,
    k: 3,
    auxK: 32,
    steps: 1500,
    batchSize: 256,
    seed: 1,
  });
  const trainer = saeTopkMethod.create(contextFor(config, planted.data, rows, dimensions));
  const stream = batches(planted.data, rows, dimensions, config.batchSize, 2);
  for (let step = 0; step < config.steps; step++) {
    trainer.step(stream.next().value!, config.batchSize, step);
  }
  const mmcs = meanMaxCosine(planted.truth, trainer.model().atoms(), dimensions);
  expect(mmcs).toBeGreaterThanOrEqual(MIN_MMCS);
});
