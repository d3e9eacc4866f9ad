import { describe, expect, it } from 'vitest';
import { generatePlanted } from '../../../src/main/generate/planted';
import { recoveryScores } from '../../../src/main/analysis/recovery';
import { icaMethod } from '../../../src/worker/ica/method';
import { contextFor, icaConfig, train } from './helpers';

describe('ica on planted features', () => {
  it('unit-norm recovers 64 planted features in 32 dimensions', () => {
    const planted = generatePlanted({
      dimensions: 32,
      features: 64,
      activePerRow: 3,
      rows: 20000,
      magnitudes: 'laplacian',
      probabilities: 'uniform',
      noise: 0,
      seed: 1,
    });
    const config = icaConfig(32, { features: 64, alpha: 0.05, batchSize: 256, steps: 600 });
    const trainer = icaMethod.create(contextFor(config, planted.data, 20000, 32));
    const start = performance.now();
    train(trainer, planted.data, 20000, 32, 256, 600);
    const elapsed = performance.now() - start;
    const scores = recoveryScores(planted.truth, 64, trainer.model().atoms(), 64, 32);
    console.log(scores, elapsed, trainer.warnings());
    expect(scores.mmcs).toBeGreaterThan(0.95);
  });
});
