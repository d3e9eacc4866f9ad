/**
 * ICA on the section-6 benchmark at the "small" size: L = 32 dimensions, 64 planted
 * features, 3 active per row, Laplacian magnitudes, no noise.
 */
import { describe, expect, it } from 'vitest';
import { generatePlanted } from '../../../src/main/generate/planted';
import { recoveryScores } from '../../../src/main/analysis/recovery';
import type { IcaVariant } from '../../../src/shared/methods';
import { icaMethod } from '../../../src/worker/ica/method';
import { contextFor, icaConfig, train } from './helpers';

const ROWS = 20000;
const STEPS = 400;

describe('ica on planted features (L = 32, 64 features, 3 active per row)', () => {
  const planted = generatePlanted({
    dimensions: 32,
    features: 64,
    activePerRow: 3,
    rows: ROWS,
    magnitudes: 'laplacian',
    probabilities: 'uniform',
    noise: 0,
    seed: 1,
  });

  function run(variant: IcaVariant) {
    const config = icaConfig(32, { features: 64, alpha: 0.05, steps: STEPS, variant });
    const trainer = icaMethod.create(contextFor(config, planted.data, ROWS, 32));
    train(trainer, planted.data, ROWS, 32, config.batchSize, STEPS);
    return { trainer, scores: recoveryScores(planted.truth, 64, trainer.model().atoms(), 64, 32) };
  }

  it('unit-norm recovers the planted features (MMCS >= 0.95)', () => {
    const { scores } = run('unit-norm');
    expect(scores.mmcs).toBeGreaterThanOrEqual(0.95);
  });

  it('literal collapses atoms and recovers less', () => {
    const { trainer, scores } = run('literal');
    expect(trainer.warnings().join('\n')).toMatch(
      /atoms collapsed \(norm < 0\.01\) under the literal rule/,
    );
    expect(scores.recovered99).toBeLessThan(0.5);
  });
});
