/**
 * Approximate log-likelihood and coding cost of ICA's generative model (spec section 4,
 * option 1), for an ICA basis or any other dictionary (an SAE decoder's atoms as the
 * columns of A):
 *
 *   log P(x|A) ~= log P(s_hat) - lambda/2 ||x - A s_hat||^2 - 1/2 log det H
 *                 + L/2 log(lambda / 2 pi) + M/2 log(2 pi)
 *   H = lambda A^T A + diag(theta beta sech^2(beta s_hat))
 *
 * The Laplacian has no curvature at 0, so H uses the curvature of the smoothed prior
 * -(theta / beta) log cosh(beta s) ("smooth", the paper-like choice); log P(s_hat) itself
 * is the Laplacian's value. beta is set relative to theta, beta = smoothing * theta, so a
 * dictionary's score does not depend on the scale of its atoms.
 *
 * log det H is computed exactly but cheaply: H = H0 + E_a diag(delta) E_a^T, with
 * H0 = lambda G + theta beta I shared by all rows and delta non-zero only on the row's active
 * set a, so det H = det H0 det(I + diag(delta) H0^-1[a, a]) (k x k, k = |a|).
 *
 * Units: rows and codes are in ICA's scaled units (scaling.ts); log-likelihoods in nats.
 */
import {
  axpy,
  choleskyInPlace,
  choleskyInverse,
  choleskyLogDeterminant,
  gramOfRows,
  logAbsDeterminantInPlace,
  multiplyTransposed,
} from '../linalg/dense';
import { sparseCode } from './inference';
import { normaliseRows } from './learning';
import type { Scaling } from './scaling';
import { toScaled } from './scaling';

export interface LaplaceModel {
  /** Basis vectors a_m as rows (M x L), scaled units. */
  dictionary: Float64Array;
  features: number;
  dimensions: number;
  /** Laplacian rate of the prior on each s_m: one for all, or one per atom (M). */
  theta: number | Float64Array;
  /** Noise precision. */
  lambda: number;
  /** Smoothing of the prior's curvature (1 / scaled-code units): one, or one per atom. */
  beta: number | Float64Array;
}

/**
 * Per-row approximate log P(x | A) in nats. `rows` is n x L, `codes` n x M (the MAP codes
 * s_hat of those rows). Returns n values; -Infinity where H is not positive definite.
 */
export function laplaceLogLikelihoods(
  model: LaplaceModel,
  rows: Float64Array,
  n: number,
  codes: Float64Array,
): Float64Array {
  const { dictionary, features: m, dimensions: l, lambda } = model;
  const perAtom = (value: number | Float64Array): Float64Array =>
    typeof value === 'number' ? new Float64Array(m).fill(value) : value;
  const theta = perAtom(model.theta);
  const beta = perAtom(model.beta);
  const gram = gramOfRows(dictionary, m, l);

  // H0 = lambda G + diag(theta beta), shared by every row.
  const base = new Float64Array(m);
  for (let j = 0; j < m; j++) base[j] = theta[j]! * beta[j]!;
  const h0 = new Float64Array(m * m);
  for (let i = 0; i < m * m; i++) h0[i] = lambda * gram[i]!;
  for (let i = 0; i < m; i++) h0[i * m + i] = h0[i * m + i]! + base[i]!;
  if (!choleskyInPlace(h0, m)) return new Float64Array(n).fill(-Infinity);
  const logDetBase = choleskyLogDeterminant(h0, m);
  const inverse = choleskyInverse(h0, m);

  let constant = (l / 2) * Math.log(lambda / (2 * Math.PI)) + (m / 2) * Math.log(2 * Math.PI);
  for (let j = 0; j < m; j++) constant += Math.log(theta[j]! / 2);
  const reconstruction = new Float64Array(l);
  const result = new Float64Array(n);
  const active: number[] = [];
  const delta: number[] = [];

  for (let row = 0; row < n; row++) {
    const codeOffset = row * m;
    active.length = 0;
    delta.length = 0;
    reconstruction.fill(0);
    let absoluteSum = 0;
    for (let j = 0; j < m; j++) {
      const value = codes[codeOffset + j]!;
      if (value === 0) continue;
      active.push(j);
      absoluteSum += theta[j]! * Math.abs(value);
      const sech = 1 / Math.cosh(beta[j]! * value);
      delta.push(base[j]! * (sech * sech - 1));
      for (let i = 0; i < l; i++) {
        reconstruction[i] = reconstruction[i]! + value * dictionary[j * l + i]!;
      }
    }
    let squaredError = 0;
    for (let i = 0; i < l; i++) {
      const difference = rows[row * l + i]! - reconstruction[i]!;
      squaredError += difference * difference;
    }

    // det(I + diag(delta) H0^-1[a, a]), k x k.
    const k = active.length;
    const small = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        small[a * k + b] = delta[a]! * inverse[active[a]! * m + active[b]!]! + (a === b ? 1 : 0);
      }
    }
    const update = k > 0 ? logAbsDeterminantInPlace(small, k) : { logAbs: 0, sign: 1 };
    if (update.sign <= 0) {
      result[row] = -Infinity;
      continue;
    }
    const logDetH = logDetBase + update.logAbs;
    result[row] = constant - absoluteSum - (lambda / 2) * squaredError - logDetH / 2;
  }
  return result;
}

/** Quantisation step in scaled units (1/256 of the per-dimension RMS), for coding cost. */
export const QUANTISATION_STEP = 1 / 256;

/** bits(x) / L = (-log2 P(x|A) - L log2 dx) / L, averaged over rows (finite rows only). */
export function bitsPerDimension(logLikelihoods: Float64Array, dimensions: number): number {
  let sum = 0;
  for (const value of logLikelihoods) sum += -value / Math.LN2;
  const perRow = sum / Math.max(logLikelihoods.length, 1);
  return (perRow - dimensions * Math.log2(QUANTISATION_STEP)) / dimensions;
}

export interface DictionaryCodingCostOptions {
  /** Atoms as rows (features x dimensions) in RAW data units, e.g. an SAE's W_dec. */
  atoms: Float32Array;
  features: number;
  dimensions: number;
  /** Held-out rows (rowCount x dimensions) in raw data units. */
  rows: Float32Array;
  rowCount: number;
  /** The dataset's centring and global scale; see `scalingFromSummary`. */
  scaling: Scaling;
  /** L1 weight of MAP inference in scaled units where the search for the best one starts. */
  alpha: number;
  /** beta / theta of the smoothed prior (compare only at the same value). */
  smoothing?: number;
  /** Score at `alpha` only instead of searching (default false). */
  fixedAlpha?: boolean;
}

export interface DictionaryCodingCost {
  bitsPerDimension: number;
  /** The hyper-parameters scored (scaled units): alpha = theta / lambda, the codes' L1 weight. */
  alpha: number;
  theta: number;
  lambda: number;
  beta: number;
  meanActive: number;
  /** Largest KKT residual of the codes relative to alpha. */
  kktResidual: number;
}

/**
 * Default beta / theta of the smoothed prior: against the exact integral for M = L + 1
 * (test/unit/ica/likelihood.test.ts) it gave the smallest error of 1, pi/2, 2, 4 and 10:
 * mean |error| 0.25 nats per row, bias +0.03 nats (10 gave a bias of -1.0 nats). The score
 * of an overcomplete basis depends on it through its M - L null directions: on patches the 2x
 * basis moved 0.5 bits/dim between 1 and pi/2, the complete one 0.06 (docs/ica.md).
 */
export const DEFAULT_SMOOTHING = 1;

/**
 * Rows the search over alpha and lambda runs on (evenly spread over the given rows); all
 * rows are then scored once at the chosen values. Two hyper-parameters are well fixed by
 * 128 x L values, and the search's many log dets then cost little beside the final score.
 */
const SEARCH_ROWS = 128;
/** The final lambda search on all rows: within this factor of the subset's lambda, ... */
const REFINE_FACTOR = 4;
/** ... in this many golden-section iterations (bracket 2.8 wide in log lambda, to 0.02). */
const REFINE_ITERATIONS = 10;

/** Steps of the search over alpha: factors of 2, at most this many either way. */
const ALPHA_SEARCH_STEPS = 6;
/**
 * The search over lambda spans the residual's lambda (n L / ||X - A S||^2) divided by
 * LAMBDA_BELOW_RESIDUAL to times LAMBDA_ABOVE_RESIDUAL. Dense codes at a small alpha leave a
 * tiny residual, far above the best lambda, hence the wide span below.
 */
const LAMBDA_BELOW_RESIDUAL = 1e4;
const LAMBDA_ABOVE_RESIDUAL = 30;
/**
 * Golden-section iterations over log lambda. The bracket (log 3e5 = 12.6 wide) shrinks 0.618
 * per iteration, to 0.006 after 16; the score is flat at its maximum, so an error of 0.006
 * in log lambda moves bits/dim by far less than 1e-4, and every iteration costs a log det
 * per row (M^3 / 3 each).
 */
const LAMBDA_SEARCH_ITERATIONS = 16;

/**
 * Coding cost of any dictionary under ICA's generative model, in bits per dimension on
 * the given rows. Atoms (features x dimensions, raw units) are taken to scaled units and to
 * unit norm (the prior fixes the scale, so only directions matter). The scored model is
 * consistent: the codes are its MAP codes, at alpha = theta / lambda. Its two free
 * hyper-parameters are chosen the same way for every dictionary, to maximise the
 * approximate likelihood of the rows (type-II maximum likelihood): lambda by golden section
 * at each alpha (theta = alpha lambda), alpha by factors of 2 from `options.alpha` while the
 * score improves. Fitting theta to 1 / mean|s| and lambda to the residual at a fixed alpha,
 * as Basis did before, scored codes that are not the model's MAP codes (theta / lambda was
 * 3 to 5 times alpha) and penalised 2x bases most (docs/ica.md, "Likelihood and bits").
 * One shared rate, not one per atom. Call it with as many rows at once as affordable
 * (>= 1024): the fit and the M x M factorisation are per call. Zero atoms are dropped.
 */
export function dictionaryCodingCost(options: DictionaryCodingCostOptions): DictionaryCodingCost {
  const { features, dimensions: l, rowCount: n, scaling } = options;
  const smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
  if (n === 0) {
    return {
      bitsPerDimension: NaN,
      alpha: NaN,
      theta: NaN,
      lambda: NaN,
      beta: NaN,
      meanActive: NaN,
      kktResidual: 0,
    };
  }

  // Unit-norm atoms in scaled units (the global scale does not change directions).
  const kept: number[] = [];
  for (let j = 0; j < features; j++) {
    let norm = 0;
    for (let i = 0; i < l; i++) norm += options.atoms[j * l + i]! ** 2;
    if (norm > 0 && Number.isFinite(norm)) kept.push(j);
  }
  const m = kept.length;
  const dictionary = new Float64Array(m * l);
  kept.forEach((j, index) => {
    for (let i = 0; i < l; i++) dictionary[index * l + i] = options.atoms[j * l + i]!;
  });
  normaliseRows(dictionary, m, l);
  const rows = toScaled(options.rows, n, scaling);
  const scorer = new AlphaScorer(dictionary, m, l, rows, n, smoothing);
  if (options.fixedAlpha) return scorer.score(options.alpha);

  // alpha is searched on an evenly spread subset of the rows (each step of the search costs
  // a log det per row), then lambda is refined on every row at the chosen alpha.
  const searchRows = Math.min(n, SEARCH_ROWS);
  const subset = new Float64Array(searchRows * l);
  for (let index = 0; index < searchRows; index++) {
    const row = Math.floor((index * n) / searchRows);
    subset.set(rows.subarray(row * l, (row + 1) * l), index * l);
  }
  const searcher =
    searchRows === n ? scorer : new AlphaScorer(dictionary, m, l, subset, searchRows, smoothing);

  // Walk alpha by factors of 2 from the start, downhill in bits, while it improves; upwards
  // only when the first step down did not improve.
  const start = searcher.score(options.alpha);
  let best = start;
  for (const factor of [0.5, 2]) {
    if (best !== start) break;
    let alpha = start.alpha;
    for (let step = 0; step < ALPHA_SEARCH_STEPS; step++) {
      alpha *= factor;
      const candidate = searcher.score(alpha);
      if (!(candidate.bitsPerDimension < best.bitsPerDimension)) break;
      best = candidate;
    }
  }
  return searcher === scorer ? best : scorer.score(best.alpha, best.lambda);
}

/** Scores one dictionary at a given alpha, with the best lambda for that alpha. */
class AlphaScorer {
  private readonly gram: Float64Array;
  private readonly correlations: Float64Array;

  constructor(
    private readonly dictionary: Float64Array,
    private readonly m: number,
    private readonly l: number,
    private readonly rows: Float64Array,
    private readonly n: number,
    private readonly smoothing: number,
  ) {
    this.gram = gramOfRows(dictionary, m, l);
    this.correlations = multiplyTransposed(rows, n, dictionary, m, l);
  }

  /**
   * The score at `alpha` with the best lambda: searched over the whole bracket, or, given
   * `nearLambda` (the subset's choice), over a factor of REFINE_FACTOR either side of it.
   */
  score(alpha: number, nearLambda?: number): DictionaryCodingCost {
    const { dictionary, m, l, rows, n } = this;

    // MAP codes at alpha, exact (polished).
    const codes = new Float64Array(n * m);
    const stats = sparseCode({ gram: this.gram, features: m, alpha }, this.correlations, n, codes, {
      tolerance: 1e-6,
      maxSweeps: 1000,
      polish: true,
    });
    let activeCount = 0;
    for (const value of codes) if (value !== 0) activeCount++;

    // The residual's lambda centres the bracket of the search over log lambda.
    const reconstruction = new Float64Array(l);
    let squaredError = 0;
    for (let row = 0; row < n; row++) {
      reconstruction.fill(0);
      for (let j = 0; j < m; j++) {
        const value = codes[row * m + j]!;
        if (value !== 0) axpy(value, dictionary, j * l, reconstruction, 0, l);
      }
      for (let i = 0; i < l; i++) squaredError += (rows[row * l + i]! - reconstruction[i]!) ** 2;
    }
    const residualLambda = Math.min(1e8, (n * l) / Math.max(squaredError, 1e-12));
    const bitsAt = (logLambda: number): number => {
      const lambda = Math.exp(logLambda);
      const theta = alpha * lambda;
      const model = { dictionary, features: m, dimensions: l, theta, lambda };
      const beta = this.smoothing * theta;
      return bitsPerDimension(laplaceLogLikelihoods({ ...model, beta }, rows, n, codes), l);
    };
    const logLambda =
      nearLambda === undefined
        ? goldenSectionMinimum(
            bitsAt,
            Math.log(residualLambda / LAMBDA_BELOW_RESIDUAL),
            Math.log(residualLambda * LAMBDA_ABOVE_RESIDUAL),
            LAMBDA_SEARCH_ITERATIONS,
          )
        : goldenSectionMinimum(
            bitsAt,
            Math.log(nearLambda / REFINE_FACTOR),
            Math.log(nearLambda * REFINE_FACTOR),
            REFINE_ITERATIONS,
          );
    const lambda = Math.exp(logLambda);
    return {
      bitsPerDimension: bitsAt(logLambda),
      alpha,
      theta: alpha * lambda,
      lambda,
      beta: this.smoothing * alpha * lambda,
      meanActive: activeCount / n,
      kktResidual: stats.maxResidual,
    };
  }
}

/** Minimiser of a unimodal `f` on [low, high] by golden-section search. */
export function goldenSectionMinimum(
  f: (x: number) => number,
  low: number,
  high: number,
  iterations: number,
): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = low;
  let b = high;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let k = 0; k < iterations; k++) {
    // Non-finite values (H not positive definite) count as worse than any finite one.
    if (fc < fd || !Number.isFinite(fd)) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  return fc < fd ? c : d;
}
