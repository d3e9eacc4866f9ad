/**
 * Recovery of known features (spec/overcomplete-ica.md section 6), computed the same way
 * for ICA bases and SAE decoders. Both sets are given as rows (count x dimensions); each row
 * is normalised here, zero rows never match.
 *
 *   mmcs              mean over true features of the max |cos| over learned atoms
 *   recovered90/99    fraction of true features whose best |cos| exceeds 0.9 / 0.99
 *   matchedMeanCosine one-to-one matching (Hungarian, maximising the total |cos|): mean
 *                     |cos| over true features, a feature left unmatched (fewer atoms than
 *                     features) counting 0; duplicates therefore do not help
 */
import { inputError } from '../../shared/errors';

export interface RecoveryScores {
  mmcs: number;
  recovered90: number;
  recovered99: number;
  matchedMeanCosine: number;
}

export function recoveryScores(
  truth: Float32Array,
  truthCount: number,
  learned: Float32Array,
  learnedCount: number,
  dimensions: number,
): RecoveryScores {
  if (truth.length !== truthCount * dimensions || learned.length !== learnedCount * dimensions) {
    throw inputError(
      `recovery: expected ${truthCount} x ${dimensions} true and ${learnedCount} x ` +
        `${dimensions} learned values, got ${truth.length} and ${learned.length}`,
    );
  }
  if (truthCount === 0)
    return { mmcs: NaN, recovered90: NaN, recovered99: NaN, matchedMeanCosine: NaN };

  const cosines = absoluteCosines(truth, truthCount, learned, learnedCount, dimensions);
  let sum = 0;
  let over90 = 0;
  let over99 = 0;
  for (let i = 0; i < truthCount; i++) {
    let best = 0;
    for (let j = 0; j < learnedCount; j++) best = Math.max(best, cosines[i * learnedCount + j]!);
    sum += best;
    if (best > 0.9) over90++;
    if (best > 0.99) over99++;
  }
  const assignment = maximumAssignment(cosines, truthCount, learnedCount);
  let matched = 0;
  for (let i = 0; i < truthCount; i++) {
    const j = assignment[i]!;
    if (j >= 0) matched += cosines[i * learnedCount + j]!;
  }
  return {
    mmcs: sum / truthCount,
    recovered90: over90 / truthCount,
    recovered99: over99 / truthCount,
    matchedMeanCosine: matched / truthCount,
  };
}

/** |cos| between every true row and every learned row: truthCount x learnedCount. */
export function absoluteCosines(
  truth: Float32Array,
  truthCount: number,
  learned: Float32Array,
  learnedCount: number,
  dimensions: number,
): Float64Array {
  const truthNorms = rowNorms(truth, truthCount, dimensions);
  const learnedNorms = rowNorms(learned, learnedCount, dimensions);
  const cosines = new Float64Array(truthCount * learnedCount);
  for (let i = 0; i < truthCount; i++) {
    for (let j = 0; j < learnedCount; j++) {
      const denominator = truthNorms[i]! * learnedNorms[j]!;
      if (!(denominator > 0)) continue;
      let sum = 0;
      for (let d = 0; d < dimensions; d++) {
        sum += truth[i * dimensions + d]! * learned[j * dimensions + d]!;
      }
      const cosine = Math.abs(sum) / denominator;
      cosines[i * learnedCount + j] = Number.isFinite(cosine) ? Math.min(cosine, 1) : 0;
    }
  }
  return cosines;
}

function rowNorms(values: Float32Array, count: number, dimensions: number): Float64Array {
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let d = 0; d < dimensions; d++) sum += values[i * dimensions + d]! ** 2;
    norms[i] = Math.sqrt(sum);
  }
  return norms;
}

/**
 * Hungarian algorithm (shortest augmenting paths with potentials, O(n^2 m)) maximising the
 * sum of `weights` (rows x columns) over a one-to-one assignment. Returns, per row, its
 * column or -1 when there are fewer columns than rows.
 */
export function maximumAssignment(
  weights: Float64Array,
  rows: number,
  columns: number,
): Int32Array {
  // Work on the side with fewer elements as "rows" of the classic formulation.
  const transpose = rows > columns;
  const n = transpose ? columns : rows;
  const m = transpose ? rows : columns;
  const cost = (i: number, j: number): number =>
    -(transpose ? weights[j * columns + i]! : weights[i * columns + j]!);

  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const owner = new Int32Array(m + 1); // owner[j]: row (1-based) assigned to column j
  const way = new Int32Array(m + 1);
  const minimum = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    minimum.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = owner[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const reduced = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (reduced < minimum[j]!) {
          minimum[j] = reduced;
          way[j] = j0;
        }
        if (minimum[j]! < delta) {
          delta = minimum[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[owner[j]!] = u[owner[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minimum[j] = minimum[j]! - delta;
        }
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0]!;
      owner[j0] = owner[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }

  const assignment = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= m; j++) {
    const i = owner[j]!;
    if (i === 0) continue;
    if (transpose) assignment[j - 1] = i - 1;
    else assignment[i - 1] = j - 1;
  }
  return assignment;
}
