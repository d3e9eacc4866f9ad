import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { compareDictionaries, type Dictionary } from '../../../src/main/analysis/compare';

const COSINE_TOLERANCE = 1e-6;

function randomDictionary(
  runId: number,
  features: number,
  dimensions: number,
  seed: number,
): Dictionary {
  const random = new Random(seed);
  const atoms = Float32Array.from({ length: features * dimensions }, () => random.gaussian());
  return { runId, features, dimensions, atoms };
}

describe('dictionary comparison', () => {
  it('matches a permuted, rescaled, sign-flipped copy one to one', () => {
    const a = randomDictionary(1, 6, 16, 3);
    const order = [4, 2, 0, 5, 1, 3];
    const atoms = new Float32Array(a.atoms.length);
    order.forEach((source, target) => {
      const sign = target % 2 === 0 ? -2.5 : 0.5;
      for (let d = 0; d < 16; d++) atoms[target * 16 + d] = sign * a.atoms[source * 16 + d]!;
    });
    const comparison = compareDictionaries(a, { runId: 2, features: 6, dimensions: 16, atoms });
    expect(comparison.matches).toHaveLength(6);
    for (const match of comparison.matches) {
      expect(order[match.featureB]).toBe(match.featureA);
      expect(Math.abs(Math.abs(match.cosine) - 1)).toBeLessThan(COSINE_TOLERANCE);
    }
    expect(Math.abs(comparison.meanBestCosine - 1)).toBeLessThan(COSINE_TOLERANCE);
    expect(comparison.unmatchedA).toEqual([]);
    expect(comparison.bestCosineHistogram.counts.at(-1)).toBe(6);
  });

  it('leaves orthogonal atoms and zero atoms unmatched', () => {
    const a: Dictionary = {
      runId: 1,
      features: 2,
      dimensions: 3,
      atoms: Float32Array.of(1, 0, 0, 0, 0, 0),
    };
    const b: Dictionary = {
      runId: 2,
      features: 2,
      dimensions: 3,
      atoms: Float32Array.of(0, 1, 0, 0, 0, 1),
    };
    const comparison = compareDictionaries(a, b);
    expect(comparison.matches).toEqual([]);
    expect(comparison.unmatchedA).toEqual([0, 1]);
    expect(comparison.unmatchedB).toEqual([0, 1]);
    expect(comparison.meanBestCosine).toBe(0);
  });

  it('gives each atom of B to at most one atom of A', () => {
    const a: Dictionary = {
      runId: 1,
      features: 2,
      dimensions: 2,
      atoms: Float32Array.of(1, 0, 0.99, 0.141),
    };
    const b: Dictionary = { runId: 2, features: 1, dimensions: 2, atoms: Float32Array.of(1, 0) };
    const comparison = compareDictionaries(a, b);
    expect(comparison.matches).toHaveLength(1);
    expect(comparison.matches[0]).toMatchObject({ featureA: 0, featureB: 0 });
  });

  it('refuses dictionaries of different widths', () => {
    expect(() =>
      compareDictionaries(randomDictionary(1, 2, 3, 1), randomDictionary(2, 2, 4, 1)),
    ).toThrow(/3 and 4 dimensions/);
  });
});
