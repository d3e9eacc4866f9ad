/**
 * The Lewicki-Sejnowski learning rule (spec section 3), in the row layout Basis uses:
 * D = A^T holds the basis vectors a_m as rows (M x L), codes S are B x M. The paper's
 *
 *     dA = A (theta sign(S) S^T / B - I)          (columns of S are samples there)
 *
 * becomes, transposed, dD = theta / B * S^T (sign(S) D) - D, evaluated with the old D.
 * The sign is the log prior's: z = -theta sign(s). Variants (section 3.3):
 *   literal    the rule as printed; unused atoms decay to zero (the collapse pitfall)
 *   unit-norm  the rule, then every row of D is rescaled to unit norm
 *   activity   I is replaced by diag(p), p_m the fraction of the batch where s_m != 0
 */
import type { IcaVariant } from '../../shared/methods';
import { axpy, dot } from '../linalg/dense';

/** eta_t = eta_0 / (1 + t / tau). */
export function learningRateAt(initialRate: number, decaySteps: number, step: number): number {
  return initialRate / (1 + step / decaySteps);
}

/**
 * Factor on eta for an overcomplete basis: min(1, L / M). A residual direction in the data
 * is picked up by about M / L atoms at once, and each of them takes a full theta-normalised
 * step toward it, so the basis as a whole moves M / L times as far along that direction as
 * a complete one would. Scaling by L / M keeps that total step at eta (the complete case is
 * unchanged). Without it, L = 256, M = 512 oscillated away from the planted features at
 * eta_0 = 0.05 (docs/ica.md).
 */
export function overcompleteRateScale(dimensions: number, features: number): number {
  return features > dimensions ? dimensions / features : 1;
}

export interface LearningStep {
  /** Fraction of the batch where s_m != 0, per atom (M). */
  usage: Float64Array;
}

/**
 * Applies one update to `dictionary` (M x L, in place) from `codes` (B x M).
 * Cost: 2 B nnz L multiply-adds, nnz the mean number of active codes per row.
 */
export function applyLearningRule(
  dictionary: Float64Array,
  features: number,
  dimensions: number,
  codes: Float64Array,
  rows: number,
  theta: number,
  rate: number,
  variant: IcaVariant,
): LearningStep {
  const m = features;
  const l = dimensions;
  const usage = new Float64Array(m);
  const accumulated = new Float64Array(m * l);
  const signed = new Float64Array(l);
  const support: number[] = [];

  // accumulated = S^T (sign(S) D): per row, p = sign(s) D, then accumulated[m] += s_m p.
  for (let row = 0; row < rows; row++) {
    const offset = row * m;
    support.length = 0;
    signed.fill(0);
    for (let j = 0; j < m; j++) {
      const value = codes[offset + j]!;
      if (value === 0) continue;
      support.push(j);
      usage[j] = usage[j]! + 1;
      axpy(value > 0 ? 1 : -1, dictionary, j * l, signed, 0, l);
    }
    for (const j of support) axpy(codes[offset + j]!, signed, 0, accumulated, j * l, l);
  }
  for (let j = 0; j < m; j++) usage[j] = usage[j]! / Math.max(rows, 1);

  // D <- (1 - rate * decay_m) D + rate * theta / B * accumulated.
  const gain = (rate * theta) / Math.max(rows, 1);
  for (let j = 0; j < m; j++) {
    const decay = variant === 'activity' ? usage[j]! : 1;
    const keep = 1 - rate * decay;
    const offset = j * l;
    for (let i = 0; i < l; i++) {
      dictionary[offset + i] = keep * dictionary[offset + i]! + gain * accumulated[offset + i]!;
    }
  }
  if (variant === 'unit-norm') normaliseRows(dictionary, m, l);
  return { usage };
}

/** Rescales every row of `matrix` (rows x columns) to unit norm; zero rows stay zero. */
export function normaliseRows(matrix: Float64Array, rows: number, columns: number): void {
  for (let row = 0; row < rows; row++) {
    const offset = row * columns;
    const norm = Math.sqrt(dot(matrix, offset, matrix, offset, columns));
    if (!(norm > 0)) continue;
    for (let i = 0; i < columns; i++) matrix[offset + i] = matrix[offset + i]! / norm;
  }
}

/** Euclidean norms of the rows of `matrix` (rows x columns). */
export function rowNorms(matrix: Float64Array, rows: number, columns: number): Float64Array {
  const norms = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    norms[row] = Math.sqrt(dot(matrix, row * columns, matrix, row * columns, columns));
  }
  return norms;
}
