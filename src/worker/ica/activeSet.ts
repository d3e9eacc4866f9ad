/**
 * Lasso for one row by a primal active-set method (Osborne, Presnell & Turlach 2000, section
 * 3), from the support and signs of the warm start (the empty set for a cold start):
 *
 *   1. with the active atoms' signs sigma fixed, z = G_aa^-1 (c_a - alpha sigma);
 *   2. if some z_a disagrees with sigma_a, move from the current values towards z up to the
 *      first coefficient that reaches zero, drop that atom and go to 1;
 *   3. otherwise take z, recompute r = c - G s over all atoms and stop when the KKT test
 *      holds; else add (up to BATCH of) the atoms with |r_j| > alpha, signs those of r_j,
 *      and go to 1.
 *
 * Each step moves along a segment on which the objective is a convex quadratic falling
 * towards z, so the objective never rises; a batch of entering atoms that all leave again at
 * once is retried with the single worst violator, which lowers it strictly. Atoms enter and
 * leave through an incremental Cholesky factor (k^2 each). Where the homotopy path
 * (homotopy.ts) visits every breakpoint from s = 0, paying a scan of all M atoms (M k) at
 * each, this solver pays that scan only at the few sign-consistent points it stops at: on
 * stories260K rows (M = 344, 67 active per row) it took about a third of the homotopy's time
 * for the same minimiser. The homotopy stays as the fallback (inference.ts) for rows this
 * method leaves above tolerance: an entering atom dependent on the active ones (once the
 * support spans all L dimensions), or its iteration cap.
 *
 * Inputs use ICA's conventions: gram = A^T A (M x M), c = A^T x (M); s (M) holds the warm
 * start on entry and the codes on exit; r = c - G s is left in `residual`.
 */
import { ActiveCholesky } from '../linalg/activeCholesky';
import { axpy } from '../linalg/dense';
import { maxKkt } from './kkt';

/** Squared pivots below this fraction of the diagonal: the entering atom is dependent. */
const DEPENDENT_PIVOT = 1e-10;
/**
 * Most atoms entering at one sign-consistent point. One at a time would stop at every
 * breakpoint, like the homotopy; all violators at once pays for many that leave again.
 * 8 measured fastest of 4, 8, 16 (200 stories260K rows).
 */
const BATCH = 8;
/**
 * At s = 0 the atoms most correlated with the row are good guesses at once: a first batch of
 * 24 made the solver about 20% faster on stories260K (2000 rows, best of 3; 40 no better).
 */
const FIRST_BATCH = 24;

export class ActiveSetSolver {
  private readonly cholesky: ActiveCholesky;
  /** Per active slot: sign, current value, target z (compacted like the factor). */
  private readonly signs: Float64Array;
  private readonly values: Float64Array;
  private readonly target: Float64Array;
  /** The active atoms at the last sign-consistent point, to detect a step that went nowhere. */
  private readonly previous: Int32Array;
  private previousSize = -1;
  /** The atoms chosen to enter, and their |r_j|, largest first. */
  private readonly entering: Int32Array;
  private readonly excess: Float64Array;
  readonly residual: Float64Array;
  /** Sign-consistent solves (full M k residual refreshes) in the last solve. */
  refreshes = 0;
  /** Factor solves in the last solve. */
  iterations = 0;

  constructor(private readonly m: number) {
    this.cholesky = new ActiveCholesky(m, DEPENDENT_PIVOT, false);
    this.signs = new Float64Array(m);
    this.values = new Float64Array(m);
    this.target = new Float64Array(m);
    this.residual = new Float64Array(m);
    this.previous = new Int32Array(m);
    this.entering = new Int32Array(m);
    this.excess = new Float64Array(m);
  }

  /**
   * Solves one row; stops when the KKT residual is at most tolerance * alpha or after
   * `maxIterations` steps. Returns the KKT residual relative to alpha.
   */
  solve(
    gram: Float64Array,
    c: Float64Array,
    s: Float64Array,
    alpha: number,
    tolerance: number,
    maxIterations: number,
  ): number {
    const { m, residual, cholesky, signs, values, target } = this;
    const limit = tolerance * alpha;
    this.refreshes = 0;
    this.iterations = 0;

    cholesky.clear();
    for (let j = 0; j < m; j++) {
      if (s[j] !== 0) this.enter(gram, j, Math.sign(s[j]!), s[j]!);
    }

    let worst = Infinity;
    this.previousSize = -1;
    for (let iteration = 0; iteration < maxIterations; iteration++) {
      this.iterations = iteration + 1;
      const k = cholesky.size;
      for (let a = 0; a < k; a++) target[a] = c[cholesky.active[a]!]! - alpha * signs[a]!;
      cholesky.solve(target);

      // The first coefficient to reach zero on the way from values to target, if any.
      let step = 1;
      let leaving = -1;
      for (let a = 0; a < k; a++) {
        if (target[a]! * signs[a]! > 0) continue;
        const from = values[a]!;
        // An entering atom (still at 0) whose target has the wrong sign leaves at once.
        const crossing = from === 0 ? 0 : from / (from - target[a]!);
        if (crossing < step) {
          step = crossing;
          leaving = a;
        }
      }
      if (leaving >= 0) {
        for (let a = 0; a < k; a++) values[a] = values[a]! + step * (target[a]! - values[a]!);
        this.leave(leaving);
        continue;
      }

      values.set(target.subarray(0, k));
      worst = this.refresh(gram, c, s, alpha);
      if (worst <= limit) break;
      // The atoms furthest outside the box enter, with the signs of their correlations. If
      // the last batch all left again at once (same support, same point), only the worst
      // enters: a single violator always moves the objective down.
      const count = this.unchanged() ? 1 : k === 0 ? FIRST_BATCH : BATCH;
      const chosen = this.worstViolators(alpha + limit, count);
      for (let e = 0; e < chosen; e++) {
        const j = this.entering[e]!;
        this.enter(gram, j, Math.sign(residual[j]!), 0);
      }
      if (cholesky.size === k) break;
    }
    return worst / alpha;
  }

  /** Whether the active set equals the one at the previous call (then records it). */
  private unchanged(): boolean {
    const { active, size } = this.cholesky;
    let same = size === this.previousSize;
    for (let a = 0; same && a < size; a++) same = active[a] === this.previous[a];
    this.previous.set(active.subarray(0, size));
    this.previousSize = size;
    return same;
  }

  /**
   * Puts the (at most `count`) inactive atoms with the largest |r_j| above `bound` into
   * `entering`, largest first; returns how many.
   */
  private worstViolators(bound: number, count: number): number {
    const { m, residual, entering, excess } = this;
    const position = this.cholesky.position;
    let found = 0;
    for (let j = 0; j < m; j++) {
      const magnitude = Math.abs(residual[j]!);
      if (!(magnitude > bound) || position[j]! >= 0) continue;
      if (found === count && magnitude <= excess[found - 1]!) continue;
      let at = found < count ? found++ : found - 1;
      for (; at > 0 && excess[at - 1]! < magnitude; at--) {
        excess[at] = excess[at - 1]!;
        entering[at] = entering[at - 1]!;
      }
      excess[at] = magnitude;
      entering[at] = j;
    }
    return found;
  }

  private enter(gram: Float64Array, j: number, sign: number, value: number): void {
    const k = this.cholesky.size;
    if (!this.cholesky.append(gram, j)) return;
    this.signs[k] = sign;
    this.values[k] = value;
  }

  private leave(slot: number): void {
    const k = this.cholesky.size;
    this.cholesky.remove(this.cholesky.active[slot]!);
    this.signs.copyWithin(slot, slot + 1, k);
    this.values.copyWithin(slot, slot + 1, k);
  }

  /**
   * Writes the active values into s, recomputes r = c - G s for every atom from the
   * compacted columns and returns the largest KKT residual (absolute).
   */
  private refresh(gram: Float64Array, c: Float64Array, s: Float64Array, alpha: number): number {
    const { m, residual, cholesky, values } = this;
    this.refreshes++;
    s.fill(0);
    for (let a = 0; a < cholesky.size; a++) s[cholesky.active[a]!] = values[a]!;
    residual.set(c);
    for (let a = 0; a < cholesky.size; a++) {
      axpy(-values[a]!, gram, cholesky.active[a]! * m, residual, 0, m);
    }
    return maxKkt(s, residual, m, alpha);
  }
}
