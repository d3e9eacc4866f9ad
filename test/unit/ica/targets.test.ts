/**
 * Target T4 of spec/overcomplete-ica.md: 16 dimensions, 32 unit Gaussian atoms, sources
 * Bernoulli(3/32) x Laplacian, learned M = 32, alpha = 0.05, batch 256. The spec runs 1500
 * updates on 50000 rows; this test runs 800 updates on 30000 rows to stay within its time
 * budget, so it asks for MMCS >= 0.95 instead of 0.97 (bench/ica-learning.run.ts runs the
 * full setting).
 */
import { describe, expect, it } from 'vitest';
import { generatePlanted } from '../../../src/main/generate/planted';
import { recoveryScores } from '../../../src/main/analysis/recovery';
import type { IcaVariant } from '../../../src/shared/methods';
import { icaMethod } from '../../../src/worker/ica/method';
import { contextFor, icaConfig, train } from './helpers';

const ROWS = 30000;
const STEPS = 800;

describe('T4: 16 x 32 recovery', () => {
  const planted = generatePlanted({
    dimensions: 16,
    features: 32,
    activePerRow: 3,
    rows: ROWS,
    magnitudes: 'laplacian',
    probabilities: 'uniform',
    noise: 0,
    seed: 4,
  });

  function mmcs(variant: IcaVariant): number {
    const config = icaConfig(16, {
      features: 32,
      alpha: 0.05,
      batchSize: 256,
      steps: STEPS,
      variant,
    });
    // Random unit initial atoms, as in the spec.
    const trainer = icaMethod.create(contextFor(config, planted.data, ROWS, 16, 0));
    train(trainer, planted.data, ROWS, 16, 256, STEPS);
    return recoveryScores(planted.truth, 32, trainer.model().atoms(), 32, 16).mmcs;
  }

  it('unit-norm and activity recover the atoms; literal does clearly worse', () => {
    const unitNorm = mmcs('unit-norm');
    const activity = mmcs('activity');
    const literal = mmcs('literal');
    console.log(
      `T4 MMCS: unit-norm ${unitNorm.toFixed(4)}, activity ${activity.toFixed(4)}, literal ` +
        `${literal.toFixed(4)}`,
    );
    expect(unitNorm).toBeGreaterThanOrEqual(0.95);
    expect(activity).toBeGreaterThanOrEqual(0.95);
    expect(literal).toBeLessThan(Math.min(unitNorm, activity) - 0.02);
  });
});
