/** Recovery of planted features: the acceptance test of sae-topk on synthetic data. */
import { beforeAll, expect, test } from 'vitest';
import { initializeBackend } from '../../../src/worker/backend';
import { saeTopkMethod } from '../../../src/worker/sae/methods';
import { batches, configFor, contextFor, meanMaxCosine, plantedData } from './helpers';

const MIN_MMCS = 0.95;

beforeAll(async () => {
  await initializeBackend();
});

test('sae-topk recovers 64 planted features in 32 dimensions (MMCS >= 0.95)', () => {
  const dimensions = 32;
  const rows = 20000;
  const { values, atoms } = plantedData(42, rows, dimensions, 64, 3);
  const config = configFor('sae-topk', dimensions, {
    features: 128,
    k: 3,
    auxK: 32,
    steps: 1500,
    batchSize: 256,
    learningRate: 3e-3,
    seed: 1,
  });
  const trainer = saeTopkMethod.create(contextFor(config, values, rows, dimensions));
  const stream = batches(values, rows, dimensions, config.batchSize, 2);
  for (let step = 0; step < config.steps; step++)
    trainer.step(stream.next().value!, config.batchSize, step);
  const mmcs = meanMaxCosine(atoms, trainer.model().atoms(), dimensions);
  console.log(`planted recovery: MMCS ${mmcs.toFixed(4)}`);
  expect(mmcs).toBeGreaterThanOrEqual(MIN_MMCS);
});
