/**
 * Exact lasso for one row by the homotopy (LARS-lasso) path, Osborne, Presnell & Turlach
 * (2000); Efron et al. (2004): start at alpha_max = max|c| with s = 0 and follow the
 * piecewise-linear solution path s(lambda) down to the target alpha, adding an atom when
 * its correlation reaches the current lambda and dropping one when its coefficient
 * crosses zero. Every breakpoint costs one column of G times the active weights (M k) and
 * an incremental Cholesky update (k^2), so a row with k active atoms costs about M k^2 / 2
 * multiply-adds, whatever the conditioning of the active atoms: where coordinate descent
 * crawls (strongly correlated atoms), the path does not.
 *
 * Inputs use ICA's conventions: gram = A^T A (M x M), c = A^T x (M); the solution is
 * written to s (M). r = c - G s is left in `residual`.
 */
import { ActiveCholesky } from '../linalg/activeCholesky';
import { axpy } from '../linalg/dense';

/** Breakpoints with a step below this (relative to lambda) count as ties. */
const TIE = 1e-12;
/** Squared pivots below this fraction of the diagonal: the entering atom is dependent. */
const DEPENDENT_PIVOT = 1e-10;

export class HomotopySolver {
  /** G_aa's factor, with the active columns of G compacted (the scan below reads them). */
  private readonly cholesky: ActiveCholesky;
  /** Coefficients and signs of the active atoms, in the factor's slot order. */
  private readonly values: Float64Array;
  private readonly signs: Float64Array;
  private readonly weights: Float64Array;
  private readonly stamp: Float64Array;
  private readonly norms: Float64Array;
  private readonly blocked: Uint8Array;
  readonly residual: Float64Array;
  /** Breakpoints taken by the last solve. */
  breakpoints = 0;

  constructor(private readonly m: number) {
    this.cholesky = new ActiveCholesky(m, DEPENDENT_PIVOT, true);
    this.values = new Float64Array(m);
    this.signs = new Float64Array(m);
    this.weights = new Float64Array(m);
    this.stamp = new Float64Array(m);
    this.norms = new Float64Array(m);
    this.blocked = new Uint8Array(m);
    this.residual = new Float64Array(m);
  }

  solve(gram: Float64Array, c: Float64Array, s: Float64Array, alpha: number): void {
    const { m, signs, weights, blocked, residual, stamp, cholesky } = this;
    const { active, position, columns } = cholesky;
    s.fill(0);
    residual.set(c);
    cholesky.clear();
    blocked.fill(0);
    stamp.fill(0);
    this.breakpoints = 0;
    let k = 0;

    let lambda = 0;
    let first = -1;
    for (let j = 0; j < m; j++) {
      const magnitude = Math.abs(c[j]!);
      if (magnitude > lambda && gram[j * m + j]! > 0) {
        lambda = magnitude;
        first = j;
      }
    }
    if (first < 0 || lambda <= alpha) return;
    k = this.append(gram, first, k, Math.sign(c[first]!));

    // Inactive correlations are refreshed lazily: |r_j(now) - r_j(stamp)| <= ||a_j|| (D - D_j)
    // with D the path length sum of step ||A_a w|| so far, so an atom whose bound keeps it
    // away from lambda is skipped without touching its row of G.
    let travelled = 0;
    const limit = 8 * m + 16;
    while (this.breakpoints < limit) {
      this.breakpoints++;

      // Direction of the coefficients as lambda falls: G_aa w = sigma_a; speed ||A_a w||.
      for (let a = 0; a < k; a++) weights[a] = signs[a]!;
      cholesky.solve(weights);
      let speedSquared = 0;
      for (let a = 0; a < k; a++) speedSquared += weights[a]! * signs[a]!;
      const speed = Math.sqrt(Math.max(speedSquared, 0));

      // The next event: the target alpha, a coefficient reaching zero, or an atom entering.
      let step = lambda - alpha;
      let event = -1;
      let entering = false;
      let enteringSign = 0;
      for (let a = 0; a < k; a++) {
        const w = weights[a]!;
        if (w === 0) continue;
        const candidate = -s[active[a]!]! / w;
        if (candidate > TIE * lambda && candidate < step) {
          step = candidate;
          event = active[a]!;
        }
      }
      for (let j = 0; j < m; j++) {
        if (position[j]! >= 0 || blocked[j]) continue;
        const norm = this.norms[j]!;
        if (!(norm > 0)) continue;
        // Lower bound on this atom's entry step, (lambda - |r_j| - drift) / (1 + ||a_j|| speed).
        const margin = lambda - Math.abs(residual[j]!) - norm * (travelled - stamp[j]!);
        if (margin >= step * (1 + norm * speed)) continue;

        // Exact correlation and its velocity from row j of G over the active atoms.
        const values = this.values;
        const offset = j * m;
        let r0 = 0;
        let r1 = 0;
        let v0 = 0;
        let v1 = 0;
        let a = 0;
        for (; a + 2 <= k; a += 2) {
          const g0 = columns[offset + a]!;
          const g1 = columns[offset + a + 1]!;
          r0 += g0 * values[a]!;
          r1 += g1 * values[a + 1]!;
          v0 += g0 * weights[a]!;
          v1 += g1 * weights[a + 1]!;
        }
        if (a < k) {
          const g = columns[offset + a]!;
          r0 += g * values[a]!;
          v0 += g * weights[a]!;
        }
        const r = c[j]! - (r0 + r1);
        const v = v0 + v1;
        residual[j] = r;
        stamp[j] = travelled;
        const up = 1 - v > 0 ? (lambda - r) / (1 - v) : Infinity;
        const down = 1 + v > 0 ? (lambda + r) / (1 + v) : Infinity;
        const candidate = Math.min(
          up > TIE * lambda ? up : Infinity,
          down > TIE * lambda ? down : Infinity,
        );
        if (candidate < step) {
          step = candidate;
          event = j;
          entering = true;
          enteringSign = Math.sign(r - candidate * v);
        }
      }

      // Move along the path.
      for (let a = 0; a < k; a++) {
        const value = this.values[a]! + step * weights[a]!;
        this.values[a] = value;
        s[active[a]!] = value;
      }
      lambda -= step;
      travelled += step * speed;
      if (event < 0) break;

      if (entering) {
        k = this.append(gram, event, k, enteringSign);
      } else {
        s[event] = 0;
        k = this.remove(event, k);
        stamp[event] = -Infinity;
        blocked.fill(0);
      }
    }

    // Exact finish: r = c - G s from scratch.
    residual.set(c);
    for (let a = 0; a < k; a++) {
      const j = active[a]!;
      axpy(-s[j]!, gram, j * m, residual, 0, m);
    }
  }

  /** Sets the atom norms sqrt(G_jj) used by the lazy bound; call once per Gram matrix. */
  prepare(gram: Float64Array): void {
    for (let j = 0; j < this.m; j++) this.norms[j] = Math.sqrt(Math.max(gram[j * this.m + j]!, 0));
  }

  /** Adds atom j with sign `sign`; a dependent atom is blocked instead. Returns new k. */
  private append(gram: Float64Array, j: number, k: number, sign: number): number {
    if (!this.cholesky.append(gram, j)) {
      this.blocked[j] = 1;
      return k;
    }
    this.signs[k] = sign;
    this.values[k] = 0;
    return k + 1;
  }

  /** Drops atom j from the factor and the per-slot arrays. Returns the new k. */
  private remove(j: number, k: number): number {
    const at = this.cholesky.remove(j);
    this.signs.copyWithin(at, at + 1, k);
    this.values.copyWithin(at, at + 1, k);
    return k - 1;
  }
}
