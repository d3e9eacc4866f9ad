import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { gramOfRows, multiplyTransposed } from '../../../src/worker/linalg/dense';
import { kktResidual, sparseCode } from '../../../src/worker/ica/inference';
import { normaliseRows } from '../../../src/worker/ica/learning';

/** KKT residual of codes computed from the atoms and rows directly (not from G). */
function independentKkt(
  dictionary: Float64Array,
  rows: Float64Array,
  codes: Float64Array,
  n: number,
  m: number,
  l: number,
  alpha: number,
): number {
  let worst = 0;
  for (let row = 0; row < n; row++) {
    const residual = Float64Array.from(rows.subarray(row * l, row * l + l));
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < l; i++) residual[i]! -= codes[row * m + j]! * dictionary[j * l + i]!;
    }
    for (let j = 0; j < m; j++) {
      let g = 0;
      for (let i = 0; i < l; i++) g += dictionary[j * l + i]! * residual[i]!;
      const s = codes[row * m + j]!;
      const value = s !== 0 ? Math.abs(g - alpha * Math.sign(s)) : Math.max(Math.abs(g) - alpha, 0);
      worst = Math.max(worst, value);
    }
  }
  return worst / alpha;
}

function problem(seed: number, n: number, m: number, l: number, coherent: boolean) {
  const random = new Random(seed);
  const dictionary = new Float64Array(m * l);
  for (let i = 0; i < dictionary.length; i++) dictionary[i] = random.gaussian();
  if (coherent) {
    // Atoms that share a common direction: strongly correlated, hard for coordinate descent.
    for (let j = 0; j < m; j++) dictionary[j * l] = dictionary[j * l]! + 4;
  }
  normaliseRows(dictionary, m, l);
  const rows = new Float64Array(n * l);
  for (let i = 0; i < rows.length; i++) rows[i] = random.gaussian();
  return { dictionary, rows, gram: gramOfRows(dictionary, m, l) };
}

const EVALUATION_TOLERANCE = 1e-6;
const LEARNING_TOLERANCE = 1e-3;

describe('sparse coding', () => {
  for (const coherent of [false, true]) {
    for (const solver of ['active-set', 'homotopy', 'descent'] as const) {
      it(`${solver} returns codes that pass the KKT test (${coherent ? 'coherent' : 'random'} atoms)`, () => {
        const n = 64;
        const m = 48;
        const l = 16;
        const alpha = 0.1;
        const { dictionary, rows, gram } = problem(7, n, m, l, coherent);
        const correlations = multiplyTransposed(rows, n, dictionary, m, l);
        const codes = new Float64Array(n * m);
        const stats = sparseCode({ gram, features: m, alpha }, correlations, n, codes, {
          tolerance: LEARNING_TOLERANCE,
          maxSweeps: 500,
          polish: false,
          solver,
        });
        // The homotopy path is exact (and the active-set method falls back to it);
        // coordinate descent may stall within its sweep cap but must then say so, row by row.
        let failing = 0;
        for (let row = 0; row < n; row++) {
          const residual = independentKkt(
            dictionary,
            rows.subarray(row * l, row * l + l),
            codes.subarray(row * m, row * m + m),
            1,
            m,
            l,
            alpha,
          );
          if (residual > LEARNING_TOLERANCE * (1 + 1e-6)) failing++;
        }
        expect(failing).toBe(stats.unconvergedRows);
        if (solver !== 'descent') expect(failing).toBe(0);
      });
    }
  }

  it('both solvers reach the same minimiser after the exact polish', () => {
    const n = 32;
    const m = 40;
    const l = 12;
    const alpha = 0.05;
    const { dictionary, rows, gram } = problem(11, n, m, l, false);
    const correlations = multiplyTransposed(rows, n, dictionary, m, l);
    const results = (['homotopy', 'descent'] as const).map((solver) => {
      const codes = new Float64Array(n * m);
      const stats = sparseCode({ gram, features: m, alpha }, correlations, n, codes, {
        tolerance: EVALUATION_TOLERANCE,
        maxSweeps: 5000,
        polish: true,
        solver,
      });
      expect(stats.maxResidual).toBeLessThanOrEqual(EVALUATION_TOLERANCE);
      return codes;
    });
    let largest = 0;
    for (let i = 0; i < n * m; i++)
      largest = Math.max(largest, Math.abs(results[0]![i]! - results[1]![i]!));
    expect(largest).toBeLessThan(1e-8);
    expect(independentKkt(dictionary, rows, results[0]!, n, m, l, alpha)).toBeLessThan(1e-8);
  });

  it('codes a row whose correlations stay below alpha as exactly zero', () => {
    const { dictionary, gram } = problem(3, 1, 8, 4, false);
    const rows = Float64Array.of(0.01, -0.02, 0.01, 0);
    const correlations = multiplyTransposed(rows, 1, dictionary, 8, 4);
    const codes = new Float64Array(8).fill(0.5);
    sparseCode({ gram, features: 8, alpha: 1 }, correlations, 1, codes, {
      tolerance: EVALUATION_TOLERANCE,
      maxSweeps: 100,
      polish: true,
    });
    expect([...codes]).toEqual(new Array(8).fill(0));
  });

  it('handles an empty batch', () => {
    const { gram } = problem(3, 1, 8, 4, false);
    const stats = sparseCode(
      { gram, features: 8, alpha: 0.1 },
      new Float64Array(0),
      0,
      new Float64Array(0),
      {
        tolerance: LEARNING_TOLERANCE,
        maxSweeps: 10,
        polish: true,
      },
    );
    expect(stats.maxResidual).toBe(0);
  });

  it('reports a NaN residual for rows holding NaN instead of hiding them', () => {
    const { dictionary, gram } = problem(5, 1, 8, 4, false);
    const rows = Float64Array.of(NaN, 1, 0, 0);
    const correlations = multiplyTransposed(rows, 1, dictionary, 8, 4);
    const codes = new Float64Array(8);
    sparseCode({ gram, features: 8, alpha: 0.1 }, correlations, 1, codes, {
      tolerance: LEARNING_TOLERANCE,
      maxSweeps: 10,
      polish: false,
    });
    expect(kktResidual({ gram, features: 8, alpha: 0.1 }, correlations, 1, codes)).toBeNaN();
  });
});
