import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { gramOfRows, invert, multiplyTransposed } from '../../../src/worker/linalg/dense';
import {
  applyLearningRule,
  learningRateAt,
  normaliseRows,
  overcompleteRateScale,
  rowNorms,
} from '../../../src/worker/ica/learning';
import { fistaCodes } from '../../../src/worker/ica/fista';
import { sparseCode } from '../../../src/worker/ica/inference';
import { naturalGradientStep } from '../../../src/worker/ica/complete';
import { icaMethod } from '../../../src/worker/ica/method';
import { recoveryScores } from '../../../src/main/analysis/recovery';
import { contextFor, icaConfig, train } from './helpers';

function randomSquare(random: Random, l: number): Float64Array {
  const matrix = new Float64Array(l * l);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j < l; j++) matrix[i * l + j] = (i === j ? 2 : 0) + 0.5 * random.gaussian();
  }
  return matrix;
}

describe('the learning rule', () => {
  it('equals Amari natural-gradient ICA mapped to A when M = L', () => {
    const random = new Random(4);
    const l = 4;
    const b = 50;
    const theta = 1.7;
    const rate = 0.01;
    const unmixing = randomSquare(random, l); // W
    const mixing = invert(unmixing, l); // A = W^-1
    const rows = new Float64Array(b * l);
    for (let i = 0; i < rows.length; i++) rows[i] = random.laplacian(1);

    // Codes s = W x (the noiseless complete case), B x L.
    const codes = new Float64Array(b * l);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < l; i++) {
        for (let k = 0; k < l; k++) {
          codes[r * l + i] = codes[r * l + i]! + unmixing[i * l + k]! * rows[r * l + k]!;
        }
      }
    }

    // Basis rule on D = A^T.
    const dictionary = new Float64Array(l * l);
    for (let i = 0; i < l; i++)
      for (let j = 0; j < l; j++) dictionary[j * l + i] = mixing[i * l + j]!;
    const before = Float64Array.from(dictionary);
    applyLearningRule(dictionary, l, l, codes, b, theta, rate, 'literal');

    // Amari: dW = (I - theta sign(s) s^T / B) W, and dA = -A dW A for A = W^-1.
    const scaledRows = rows.map((value) => value * theta);
    const amari = Float64Array.from(unmixing);
    // naturalGradientStep uses phi(s) = sign(s) with s = W x; scaling x by theta makes
    // sign(s) s^T carry the factor theta.
    naturalGradientStep(amari, l, scaledRows, b, rate);
    const dW = amari.map((value, index) => (value - unmixing[index]!) / rate);
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < l; j++) {
        let expected = 0;
        for (let p = 0; p < l; p++) {
          for (let q = 0; q < l; q++)
            expected -= mixing[i * l + p]! * dW[p * l + q]! * mixing[q * l + j]!;
        }
        const measured = (dictionary[j * l + i]! - before[j * l + i]!) / rate;
        expect(Math.abs(measured - expected)).toBeLessThan(1e-4);
      }
    }
  });

  it('moves an unused atom towards zero (literal) and keeps it at unit norm (unit-norm)', () => {
    const l = 3;
    const dictionary = Float64Array.of(1, 0, 0, 0, 1, 0);
    const codes = Float64Array.of(2, 0, -1, 0); // atom 1 never used
    const literal = Float64Array.from(dictionary);
    applyLearningRule(literal, 2, l, codes, 2, 1, 0.1, 'literal');
    expect(literal[4]).toBeCloseTo(0.9, 12);
    const normalised = Float64Array.from(dictionary);
    applyLearningRule(normalised, 2, l, codes, 2, 1, 0.1, 'unit-norm');
    expect(Math.hypot(normalised[3]!, normalised[4]!, normalised[5]!)).toBeCloseTo(1, 12);
    const activity = Float64Array.from(dictionary);
    applyLearningRule(activity, 2, l, codes, 2, 1, 0.1, 'activity');
    expect(activity[4]).toBeCloseTo(1, 12);
  });

  it('follows eta_t = eta_0 / (1 + t / tau)', () => {
    expect(learningRateAt(0.05, 500, 0)).toBe(0.05);
    expect(learningRateAt(0.05, 500, 500)).toBeCloseTo(0.025, 12);
  });

  it('scales eta by L / M for an overcomplete unit-norm basis only', () => {
    expect(overcompleteRateScale(8, 4)).toBe(1);
    expect(overcompleteRateScale(8, 8)).toBe(1);
    expect(overcompleteRateScale(8, 32)).toBe(0.25);

    const l = 4;
    const rows = 64;
    const random = new Random(9);
    const data = Float32Array.from({ length: rows * l }, () => random.laplacian(1));
    const eta = 0.04;
    const reported = (variant: 'unit-norm' | 'activity', features: number): number => {
      const config = icaConfig(l, { features, variant, learningRate: eta, alpha: 0.1 });
      const trainer = icaMethod.create(contextFor(config, data, rows, l));
      return trainer.step(data, rows, 0).losses.learningRate!;
    };
    expect(reported('unit-norm', 4)).toBeCloseTo(eta, 12);
    expect(reported('unit-norm', 16)).toBeCloseTo(eta / 4, 12);
    expect(reported('activity', 16)).toBeCloseTo(eta, 12);
  });
});

describe('T2: learning three sources from two mixtures', () => {
  const angles = [15, 75, 135].map((degrees) => (degrees * Math.PI) / 180);
  const truth = Float32Array.from(angles.flatMap((angle) => [Math.cos(angle), Math.sin(angle)]));

  function mixtures(seed: number, rows: number, sources: number): Float32Array {
    const random = new Random(seed);
    const data = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < sources; j++) {
        const s = random.laplacian(1);
        data[r * 2] = data[r * 2]! + s * truth[j * 2]!;
        data[r * 2 + 1] = data[r * 2 + 1]! + s * truth[j * 2 + 1]!;
      }
    }
    return data;
  }

  function run(seed: number, variant: 'literal' | 'unit-norm', sources = 3) {
    const features = sources;
    const rows = 20000;
    const data = mixtures(100 + seed, rows, sources);
    const config = icaConfig(2, {
      features,
      alpha: 1e-3,
      batchSize: 500,
      steps: 1500,
      learningRate: 0.05,
      learningRateDecaySteps: 500,
      variant,
      seed,
    });
    // No initial rows: random unit (Gaussian) initial atoms, as in the spec.
    const trainer = icaMethod.create(contextFor(config, data, rows, 2, 0));
    train(trainer, data, rows, 2, 500, 1500);
    const atoms = trainer.model().atoms();
    return {
      trainer,
      scores: recoveryScores(truth.subarray(0, 2 * features), features, atoms, features, 2),
    };
  }

  /**
   * The spec's reference loop under `literal`: random unit Gaussian atoms, batches of 500
   * rows drawn with replacement, 1500 updates, eta_0 0.05, tau 500, theta 1, alpha 1e-3.
   * `early` codes each batch with 150 cold-start FISTA steps of size 1 / trace(G); otherwise
   * the codes are exact MAP (homotopy). Returns the atom norms.
   */
  function literalNorms(seed: number, early: boolean): number[] {
    const random = new Random(seed);
    const rows = 20000;
    const batchSize = 500;
    const data = mixtures(200 + seed, rows, 3);
    const dictionary = new Float64Array(6);
    for (let i = 0; i < 6; i++) dictionary[i] = random.gaussian();
    normaliseRows(dictionary, 3, 2);
    const batch = new Float64Array(batchSize * 2);
    for (let step = 0; step < 1500; step++) {
      for (let r = 0; r < batchSize; r++) {
        const row = random.integer(rows);
        batch.set(data.subarray(row * 2, row * 2 + 2), r * 2);
      }
      const problem = { gram: gramOfRows(dictionary, 3, 2), features: 3, alpha: 1e-3 };
      const correlations = multiplyTransposed(batch, batchSize, dictionary, 3, 2);
      let codes: Float64Array;
      if (early) {
        codes = fistaCodes(problem, correlations, batchSize, 150, 'trace');
      } else {
        codes = new Float64Array(batchSize * 3);
        sparseCode(problem, correlations, batchSize, codes, {
          tolerance: 1e-6,
          maxSweeps: 100,
          polish: true,
        });
      }
      const rate = learningRateAt(0.05, 500, step);
      applyLearningRule(dictionary, 3, 2, codes, batchSize, 1, rate, 'literal');
    }
    return Array.from(rowNorms(dictionary, 3, 2));
  }

  // The spec's collapse needs early-stopped codes. With exact codes the three-atom
  // equilibrium is stable: each atom is used wherever the data's direction lies between
  // its neighbours (on the L1 ball's hexagon), which does not change with its length while
  // it stays a vertex, and its codes scale as 1 / length, so theta E|s_m| = 1 pulls it back.
  // Early-stopped codes lie between the minimum-L2 and minimum-L1 ones; the minimum-L2
  // share of an atom shrinks with its length, which makes a short atom shorter.
  // The spec says "in every seed"; here 8 of seeds 1-12 collapse (1, 3, 5-8, 10, 11), the
  // others keep three atoms of norm about 1.25, and seed 9 is still shrinking at 1500 updates
  // (the spec's loop in numpy: 8 of 12 as well). Seeds 1-6 give 4.
  it('literal with early-stopped FISTA codes collapses a column in most seeds', () => {
    let collapsed = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const norms = literalNorms(seed, true).sort((a, b) => a - b);
      if (norms[0]! < 0.01) collapsed++;
      expect(norms[1]).toBeGreaterThan(1);
    }
    expect(collapsed).toBeGreaterThanOrEqual(3);
  });

  it('literal with exact MAP codes keeps all three columns', () => {
    for (const seed of [1, 2, 3]) {
      for (const norm of literalNorms(seed, false)) expect(norm).toBeGreaterThan(0.9);
    }
  });

  it('unit-norm recovers the three directions in at least two of three seeds', () => {
    let recovered = 0;
    for (const seed of [1, 2, 3]) if (run(seed, 'unit-norm').scores.mmcs >= 0.98) recovered++;
    expect(recovered).toBeGreaterThanOrEqual(2);
  });

  // With M > L the stationary point only needs A (theta E[sign(s) s^T] - I) = 0, which
  // leaves the null space of A free; with M = L it forces theta E|s_m| = 1 exactly.
  it('literal reaches the fixed point theta mean|s_m| = 1 when M = L', () => {
    const { trainer, scores } = run(1, 'literal', 2);
    expect(scores.mmcs).toBeGreaterThan(0.98);
    const rows = 4000;
    const data = mixtures(999, rows, 2);
    const codes = trainer.model().encode(data, rows);
    for (let j = 0; j < 2; j++) {
      let sum = 0;
      let used = 0;
      for (let r = 0; r < rows; r++) {
        sum += Math.abs(codes[r * 2 + j]!);
        if (codes[r * 2 + j] !== 0) used++;
      }
      if (used < rows / 100) continue;
      // theta = 1 under literal; SGD noise and a finite run leave a few per cent.
      expect(Math.abs(sum / rows - 1)).toBeLessThan(0.1);
    }
  });
});
