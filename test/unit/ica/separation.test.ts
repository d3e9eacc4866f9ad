/**
 * Target T1 of spec/overcomplete-ica.md: three sources from two mixtures with the true
 * basis (unit columns at 15, 75 and 135 degrees), noiseless, MAP codes at alpha = 1e-3.
 * The expected per-source SNRs are the spec's reference figures, with its tolerances.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { gramOfRows, invert, multiplyTransposed } from '../../../src/worker/linalg/dense';
import { sparseCode } from '../../../src/worker/ica/inference';

const ROWS = 20000;
const ANGLES_DEGREES = [15, 75, 135];
const ALPHA = 1e-3;
const DRAWS = 4;

function basis(): Float64Array {
  // Atoms as rows (3 x 2).
  return Float64Array.from(
    ANGLES_DEGREES.flatMap((angle) => [
      Math.cos((angle * Math.PI) / 180),
      Math.sin((angle * Math.PI) / 180),
    ]),
  );
}

function sources(seed: number, activeProbability: number): Float64Array {
  const random = new Random(seed);
  const values = new Float64Array(ROWS * 3);
  for (let i = 0; i < values.length; i++) {
    values[i] = random.uniform() < activeProbability ? random.laplacian(1) : 0;
  }
  return values;
}

function mix(dictionary: Float64Array, s: Float64Array): Float64Array {
  const rows = new Float64Array(ROWS * 2);
  for (let r = 0; r < ROWS; r++) {
    for (let j = 0; j < 3; j++) {
      rows[r * 2] = rows[r * 2]! + s[r * 3 + j]! * dictionary[j * 2]!;
      rows[r * 2 + 1] = rows[r * 2 + 1]! + s[r * 3 + j]! * dictionary[j * 2 + 1]!;
    }
  }
  return rows;
}

function snrs(s: Float64Array, estimate: Float64Array): number[] {
  return [0, 1, 2].map((j) => {
    let signal = 0;
    let error = 0;
    for (let r = 0; r < ROWS; r++) {
      signal += s[r * 3 + j]! ** 2;
      error += (s[r * 3 + j]! - estimate[r * 3 + j]!) ** 2;
    }
    return 10 * Math.log10(signal / error);
  });
}

function mapCodes(dictionary: Float64Array, rows: Float64Array): Float64Array {
  const gram = gramOfRows(dictionary, 3, 2);
  const correlations = multiplyTransposed(rows, ROWS, dictionary, 3, 2);
  const codes = new Float64Array(ROWS * 3);
  const stats = sparseCode({ gram, features: 3, alpha: ALPHA }, correlations, ROWS, codes, {
    tolerance: 1e-6,
    maxSweeps: 1000,
    polish: true,
  });
  expect(stats.maxResidual).toBeLessThanOrEqual(1e-6);
  return codes;
}

/** Minimum-norm codes pinv(A) x = A^T (A A^T)^-1 x. */
function pseudoInverseCodes(dictionary: Float64Array, rows: Float64Array): Float64Array {
  const outer = new Float64Array(4);
  for (let j = 0; j < 3; j++) {
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        outer[a * 2 + b] = outer[a * 2 + b]! + dictionary[j * 2 + a]! * dictionary[j * 2 + b]!;
      }
    }
  }
  const inverse = invert(outer, 2);
  const codes = new Float64Array(ROWS * 3);
  for (let r = 0; r < ROWS; r++) {
    const y0 = inverse[0]! * rows[r * 2]! + inverse[1]! * rows[r * 2 + 1]!;
    const y1 = inverse[2]! * rows[r * 2]! + inverse[3]! * rows[r * 2 + 1]!;
    for (let j = 0; j < 3; j++) {
      codes[r * 3 + j] = dictionary[j * 2]! * y0 + dictionary[j * 2 + 1]! * y1;
    }
  }
  return codes;
}

const CASES = [
  { name: 'Laplacian', probability: 1, map: [5.0, 4.97, 5.11], tolerance: 0.2 },
  { name: 'Bernoulli(0.3) x Laplacian', probability: 0.3, map: [9.65, 9.62, 9.85], tolerance: 0.5 },
  { name: 'Bernoulli(0.1) x Laplacian', probability: 0.1, map: [13.7, 14.3, 14.2], tolerance: 0.5 },
];

describe('T1: separating three sources from two mixtures with the true basis', () => {
  // The three sources are statistically alike (the angles are 60 degrees apart), so the
  // spec's three figures differ only by sampling; compare their mean with the mean SNR over
  // the sources and over DRAWS independent draws of 20000 rows.
  for (const { name, probability, map, tolerance } of CASES) {
    it(`MAP codes reach the reference SNRs for ${name} sources`, () => {
      const dictionary = basis();
      let total = 0;
      for (let draw = 1; draw <= DRAWS; draw++) {
        const s = sources(draw, probability);
        total += snrs(s, mapCodes(dictionary, mix(dictionary, s))).reduce((a, b) => a + b, 0);
      }
      const reference = map.reduce((a, b) => a + b, 0) / map.length;
      expect(Math.abs(total / (3 * DRAWS) - reference)).toBeLessThan(tolerance);
    });
  }

  it('MAP codes beat the pseudo-inverse, by more for sparser sources', () => {
    const dictionary = basis();
    const gains = [1, 0.1].map((probability) => {
      const s = sources(7, probability);
      const rows = mix(dictionary, s);
      const map = snrs(s, mapCodes(dictionary, rows));
      const linear = snrs(s, pseudoInverseCodes(dictionary, rows));
      return map.reduce((sum, value, j) => sum + value - linear[j]!, 0) / 3;
    });
    expect(gains[0]!).toBeGreaterThan(0);
    expect(gains[1]!).toBeGreaterThan(gains[0]! + 3);
  });

  it('the pseudo-inverse reaches the reference SNRs for Laplacian sources', () => {
    const dictionary = basis();
    let total = 0;
    for (let draw = 1; draw <= DRAWS; draw++) {
      const s = sources(draw, 1);
      total += snrs(s, pseudoInverseCodes(dictionary, mix(dictionary, s))).reduce((a, b) => a + b);
    }
    expect(Math.abs(total / (3 * DRAWS) - (4.73 + 4.7 + 4.83) / 3)).toBeLessThan(0.2);
  });
});
