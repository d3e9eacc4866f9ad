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
  /** L1 weight of MAP inference in scaled units (compare dictionaries at the same alpha). */
  alpha: number;
  /** beta / theta of the smoothed prior (compare only at the same value). */
  smoothing?: number;
}

export interface DictionaryCodingCost {
  bitsPerDimension: number;
  /** Fitted hyper-parameters (scaled units): theta = 1 / mean|s|, lambda = L / mean residual^2. */
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
 * mean |error| 0.25 nats per row, bias +0.03 nats (10 gave a bias of -1.0 nats).
 */
export const DEFAULT_SMOOTHING = 1;

/** Largest rate (codes that are all but zero). */
const MAX_THETA = 1e6;

/**
 * Coding cost of any dictionary under ICA's generative model, in bits per dimension on
 * the given rows. Atoms (features x dimensions, raw units) are taken to scaled units and to
 * unit norm (the prior fixes the scale, so only directions matter); codes are MAP at
 * `alpha`; theta and lambda are their maximum-likelihood values given the codes
 * (theta = 1 / mean|s| over all M x n coefficients, lambda = L / mean ||x - A s||^2 per row),
 * capped to stay finite. One shared rate, not one per atom: per-atom rates fitted on the
 * scored rows would need many rows per atom and flatter the score on small batches.
 * Call it with as many rows at once as affordable (>= 1024): the fit and the M x M
 * factorisation are per call.
 * Zero atoms are dropped.
 */
export function dictionaryCodingCost(options: DictionaryCodingCostOptions): DictionaryCodingCost {
  const { features, dimensions: l, rowCount: n, scaling, alpha } = options;
  const smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
  if (n === 0) {
    return {
      bitsPerDimension: NaN,
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

  // MAP codes, exact (polished).
  const rows = toScaled(options.rows, n, scaling);
  const correlations = multiplyTransposed(rows, n, dictionary, m, l);
  const codes = new Float64Array(n * m);
  const gram = gramOfRows(dictionary, m, l);
  const stats = sparseCode({ gram, features: m, alpha }, correlations, n, codes, {
    tolerance: 1e-6,
    maxSweeps: 1000,
    polish: true,
  });

  // Maximum-likelihood theta (one rate for all atoms) and lambda given the codes.
  let absoluteSum = 0;
  let activeCount = 0;
  for (const value of codes) {
    if (value === 0) continue;
    absoluteSum += Math.abs(value);
    activeCount++;
  }
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
  const lambda = Math.min(1e8, (n * l) / Math.max(squaredError, 1e-12));
  const theta = Math.min(MAX_THETA, (n * m) / Math.max(absoluteSum, 1e-300));
  const beta = smoothing * theta;

  const logLikelihoods = laplaceLogLikelihoods(
    { dictionary, features: m, dimensions: l, theta, lambda, beta },
    rows,
    n,
    codes,
  );
  return {
    bitsPerDimension: bitsPerDimension(logLikelihoods, l),
    theta,
    lambda,
    beta,
    meanActive: activeCount / Math.max(n, 1),
    kktResidual: stats.maxResidual,
  };
}
