/**
 * Cholesky factor of G_aa, the Gram matrix restricted to an active set of atoms that grows
 * and shrinks one atom at a time: adding an atom costs a forward solve (k^2 / 2), dropping
 * one a sweep of Givens rotations (k^2), never a refactorisation (k^3 / 3). Used by the
 * lasso solvers (ica/homotopy.ts, ica/activeSet.ts).
 *
 * G is M x M, row-major. The factor L (lower, row stride M) satisfies L L^T = G_aa with
 * the atoms in the order of `active`. When asked to, `columns` keeps the active columns of
 * G compacted, columns[i * M + a] = G[i, active[a]], so a row of G over the active set is
 * contiguous (the homotopy's scan of inactive atoms reads it).
 */
import { axpy, dot } from './dense';

export class ActiveCholesky {
  readonly factor: Float64Array;
  readonly columns: Float64Array;
  /** Atom index of each active slot (first `size` entries). */
  readonly active: Int32Array;
  /** Slot of each atom, -1 when inactive. */
  readonly position: Int32Array;
  size = 0;
  private readonly scratch: Float64Array;

  /**
   * @param dependentPivot squared pivots below this fraction of their diagonal mark the
   *   entering atom as (numerically) dependent on the active ones; it is then refused.
   */
  constructor(
    private readonly m: number,
    private readonly dependentPivot: number,
    /** Keep `columns` (M^2 memory, M moves per append and M k per removal). */
    private readonly compact: boolean,
  ) {
    this.factor = new Float64Array(m * m);
    this.columns = new Float64Array(compact ? m * m : 0);
    this.active = new Int32Array(m);
    this.position = new Int32Array(m).fill(-1);
    this.scratch = new Float64Array(m);
  }

  /** Empties the active set. */
  clear(): void {
    for (let a = 0; a < this.size; a++) this.position[this.active[a]!] = -1;
    this.size = 0;
  }

  /** Adds atom j in the last slot; returns false (and changes nothing) if it is dependent. */
  append(gram: Float64Array, j: number): boolean {
    const { m, factor, active, position, scratch, columns } = this;
    const k = this.size;
    if (this.compact) for (let a = 0; a < k; a++) scratch[a] = columns[j * m + a]!;
    else for (let a = 0; a < k; a++) scratch[a] = gram[j * m + active[a]!]!;
    // Forward solve L l = G_aj.
    for (let a = 0; a < k; a++) {
      scratch[a] = (scratch[a]! - dot(factor, a * m, scratch, 0, a)) / factor[a * m + a]!;
    }
    const diagonal = gram[j * m + j]!;
    const pivot = diagonal - dot(scratch, 0, scratch, 0, k);
    if (!(pivot > this.dependentPivot * diagonal)) return false;
    for (let a = 0; a < k; a++) factor[k * m + a] = scratch[a]!;
    factor[k * m + k] = Math.sqrt(pivot);
    active[k] = j;
    position[j] = k;
    if (this.compact) for (let i = 0; i < m; i++) columns[i * m + k] = gram[j * m + i]!;
    this.size = k + 1;
    return true;
  }

  /**
   * Drops atom j; the slots after it move down by one (callers shift their own per-slot
   * arrays the same way). Returns the slot j held.
   */
  remove(j: number): number {
    const { m, factor, active, position, columns } = this;
    const k = this.size;
    const at = position[j]!;
    position[j] = -1;
    for (let a = at; a < k - 1; a++) {
      factor.copyWithin(a * m, (a + 1) * m, (a + 1) * m + a + 2);
      active[a] = active[a + 1]!;
      position[active[a]!] = a;
    }
    if (this.compact) {
      for (let i = 0; i < m; i++) columns.copyWithin(i * m + at, i * m + at + 1, i * m + k);
    }
    // The rows after `at` now carry one entry right of the diagonal: rotate it away.
    for (let column = at; column < k - 1; column++) {
      const x = factor[column * m + column]!;
      const y = factor[column * m + column + 1]!;
      const radius = Math.hypot(x, y);
      const cosine = x / radius;
      const sine = y / radius;
      for (let row = column; row < k - 1; row++) {
        const u = factor[row * m + column]!;
        const v = factor[row * m + column + 1]!;
        factor[row * m + column] = cosine * u + sine * v;
        factor[row * m + column + 1] = -sine * u + cosine * v;
      }
      factor[column * m + column + 1] = 0;
    }
    this.size = k - 1;
    return at;
  }

  /** Solves G_aa x = b in place (first `size` entries of b). */
  solve(b: Float64Array): void {
    const { factor, m } = this;
    const k = this.size;
    for (let i = 0; i < k; i++) b[i] = (b[i]! - dot(factor, i * m, b, 0, i)) / factor[i * m + i]!;
    // L^T x = y by rows of L: once x_i is known, remove its share from the y_a, a < i.
    for (let i = k - 1; i >= 0; i--) {
      const value = b[i]! / factor[i * m + i]!;
      b[i] = value;
      if (value !== 0) axpy(-value, factor, i * m, b, 0, i);
    }
  }
}
