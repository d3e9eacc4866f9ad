/**
 * Batched FISTA for the MAP codes of spec/overcomplete-ica.md section 2, the spec's
 * reference solver (Beck & Teboulle 2009), with the step 1 / Lf:
 *
 *   S_new = soft(Y - (G Y - A^T X) / Lf, alpha / Lf),  t_new = (1 + sqrt(1 + 4 t^2)) / 2,
 *   Y = S_new + ((t - 1) / t_new) (S_new - S).
 *
 * Basis learns with the exact homotopy solver (inference.ts); FISTA is kept as the reference
 * whose early-stopped codes the spec's learning targets were measured with.
 */
import { largestEigenvalue } from '../linalg/dense';
import type { CodingProblem } from './inference';

/**
 * Where Lf comes from: 1.01 x the Gram matrix's largest eigenvalue (the spec's choice, the
 * tightest safe step) or its trace, the sum of the squared atom norms (a looser bound that
 * needs no eigenvalue; early-stopped codes are then further from the minimiser).
 */
export type LipschitzBound = 'eigenvalue' | 'trace';

function lipschitzConstant(gram: Float64Array, m: number, bound: LipschitzBound): number {
  if (bound === 'eigenvalue') return 1.01 * largestEigenvalue(gram, m, new Float64Array(m).fill(1));
  let trace = 0;
  for (let i = 0; i < m; i++) trace += gram[i * m + i]!;
  return trace;
}

/**
 * Codes `rows` rows from zero (cold start) with at most `iterations` FISTA steps per row.
 * `correlations` (rows x M) holds A^T x per row; returns the codes (rows x M).
 */
export function fistaCodes(
  problem: CodingProblem,
  correlations: Float64Array,
  rows: number,
  iterations: number,
  bound: LipschitzBound = 'eigenvalue',
): Float64Array {
  const m = problem.features;
  const gram = problem.gram;
  const lipschitz = lipschitzConstant(gram, m, bound);
  const threshold = problem.alpha / lipschitz;
  const codes = new Float64Array(rows * m);
  const previous = new Float64Array(m);
  const momentum = new Float64Array(m);
  const next = new Float64Array(m);

  for (let row = 0; row < rows; row++) {
    const offset = row * m;
    previous.fill(0);
    momentum.fill(0);
    let t = 1;
    for (let iteration = 0; iteration < iterations; iteration++) {
      // Gradient step on 1/2 ||x - A y||^2 from y, then soft thresholding.
      for (let i = 0; i < m; i++) {
        let gradient = -correlations[offset + i]!;
        for (let j = 0; j < m; j++) gradient += gram[i * m + j]! * momentum[j]!;
        const moved = momentum[i]! - gradient / lipschitz;
        next[i] = Math.sign(moved) * Math.max(Math.abs(moved) - threshold, 0);
      }
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      const weight = (t - 1) / tNext;
      for (let i = 0; i < m; i++) {
        momentum[i] = next[i]! + weight * (next[i]! - previous[i]!);
        previous[i] = next[i]!;
      }
      t = tNext;
    }
    codes.set(previous, offset);
  }
  return codes;
}
