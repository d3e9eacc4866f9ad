import { describe, expect, it } from 'vitest';
import { maximumAssignment, recoveryScores } from '../../../src/main/analysis/recovery';

describe('recoveryScores', () => {
  const truth = Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);

  it('scores a permuted, sign-flipped and rescaled copy of the truth as perfect', () => {
    const learned = Float32Array.of(0, -2, 0, 0, 0, 3, 0.5, 0, 0);
    expect(recoveryScores(truth, 3, learned, 3, 3)).toEqual({
      mmcs: 1,
      recovered90: 1,
      recovered99: 1,
      matchedMeanCosine: 1,
    });
  });

  it('lets one atom serve two features in MMCS but not in the matched score', () => {
    // One atom halfway between features 0 and 1, one atom orthogonal to both.
    const learned = Float32Array.of(1, 1, 0, 0, 0, 1);
    const scores = recoveryScores(Float32Array.of(1, 0, 0, 0, 1, 0), 2, learned, 2, 3);
    expect(scores.mmcs).toBeCloseTo(Math.SQRT1_2, 6);
    expect(scores.matchedMeanCosine).toBeCloseTo(Math.SQRT1_2 / 2, 6);
    expect(scores.recovered90).toBe(0);
  });

  it('counts thresholds strictly and ignores zero atoms', () => {
    const cos95 = Float32Array.of(0.95, Math.sqrt(1 - 0.95 ** 2), 0, 0, 0, 0);
    const scores = recoveryScores(Float32Array.of(1, 0, 0), 1, cos95, 2, 3);
    expect(scores.mmcs).toBeCloseTo(0.95, 6);
    expect(scores.recovered90).toBe(1);
    expect(scores.recovered99).toBe(0);
  });

  it('finds the optimal one-to-one matching where greedy would not', () => {
    // Greedy takes (0,0) = 0.9 first and leaves 0.1; the optimum is 0.8 + 0.8.
    const weights = Float64Array.of(0.9, 0.8, 0.8, 0.1);
    expect([...maximumAssignment(weights, 2, 2)]).toEqual([1, 0]);
    // More rows than columns: one row stays unmatched.
    expect([...maximumAssignment(Float64Array.of(0.2, 0.9, 0.5), 3, 1)]).toEqual([-1, 0, -1]);
  });

  it('returns NaN for no true features and refuses mismatched sizes', () => {
    expect(recoveryScores(new Float32Array(0), 0, truth, 3, 3).mmcs).toBeNaN();
    expect(() => recoveryScores(truth, 3, truth, 2, 3)).toThrow(/expected 3 x 3 true and 2 x 3/);
  });
});
