/**
 * The spec's reference solver, FISTA, reaches the same minimiser as Basis's exact homotopy
 * solver: results must not depend on the solver (spec/overcomplete-ica.md section 2).
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { gramOfRows, multiplyTransposed } from '../../../src/worker/linalg/dense';
import { fistaCodes } from '../../../src/worker/ica/fista';
import { sparseCode, kktResidual } from '../../../src/worker/ica/inference';

const ANGLES_DEGREES = [15, 75, 135];

function mixtures(seed: number): Float64Array {
  const random = new Random(seed);
  const rows = new Float64Array(200 * 2);
  for (let r = 0; r < 200; r++) {
    for (const angle of ANGLES_DEGREES) {
      const source = random.laplacian(1);
      rows[r * 2] = rows[r * 2]! + source * Math.cos((angle * Math.PI) / 180);
      rows[r * 2 + 1] = rows[r * 2 + 1]! + source * Math.sin((angle * Math.PI) / 180);
    }
  }
  return rows;
}

describe('FISTA codes', () => {
  it('reach the exact minimiser given enough iterations (KKT within 1e-3 of alpha)', () => {
    const dictionary = Float64Array.from(
      ANGLES_DEGREES.flatMap((angle) => [
        Math.cos((angle * Math.PI) / 180),
        Math.sin((angle * Math.PI) / 180),
      ]),
    );
    const rows = mixtures(5);
    const problem = { gram: gramOfRows(dictionary, 3, 2), features: 3, alpha: 0.05 };
    const correlations = multiplyTransposed(rows, 200, dictionary, 3, 2);
    const codes = fistaCodes(problem, correlations, 200, 5000);
    expect(kktResidual(problem, correlations, 200, codes)).toBeLessThan(1e-3);
    const exact = new Float64Array(200 * 3);
    sparseCode(problem, correlations, 200, exact, {
      tolerance: 1e-9,
      maxSweeps: 1000,
      polish: true,
    });
    for (let i = 0; i < exact.length; i++) expect(codes[i]).toBeCloseTo(exact[i]!, 3);
  });
});
