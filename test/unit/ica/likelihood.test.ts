/**
 * The approximate likelihood (spec section 4): equal to the exact ICA likelihood when
 * M = L, and measured against the exact 1-D integral when M = L + 1 (noiseless limit).
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import {
  gramOfRows,
  invert,
  logAbsDeterminantInPlace,
  multiplyTransposed,
} from '../../../src/worker/linalg/dense';
import { sparseCode } from '../../../src/worker/ica/inference';
import {
  DEFAULT_SMOOTHING,
  bitsPerDimension,
  dictionaryCodingCost,
  laplaceLogLikelihoods,
} from '../../../src/worker/ica/likelihood';

const THETA = 1;
/** Large noise precision: the noiseless limit in which both comparisons are exact. */
const LAMBDA = 1e8;

function mapCodes(dictionary: Float64Array, rows: Float64Array, n: number, m: number, l: number) {
  const codes = new Float64Array(n * m);
  sparseCode(
    { gram: gramOfRows(dictionary, m, l), features: m, alpha: THETA / LAMBDA },
    multiplyTransposed(rows, n, dictionary, m, l),
    n,
    codes,
    { tolerance: 1e-6, maxSweeps: 5000, polish: true },
  );
  return codes;
}

/** Rows x = A s with Laplacian sources; atoms (columns of A) as rows of `dictionary`. */
function sample(seed: number, n: number, m: number, l: number) {
  const random = new Random(seed);
  const dictionary = new Float64Array(m * l);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < l; i++)
      dictionary[j * l + i] = (i === j ? 1.5 : 0) + 0.5 * random.gaussian();
  }
  const rows = new Float64Array(n * l);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < m; j++) {
      const s = random.laplacian(1 / THETA);
      for (let i = 0; i < l; i++) rows[r * l + i] = rows[r * l + i]! + s * dictionary[j * l + i]!;
    }
  }
  return { dictionary, rows };
}

/**
 * Exact log P(x|A) for M = L + 1 without noise: with n the unit null vector of A and
 * s0 = pinv(A) x, P(x) = det(A A^T)^(-1/2) integral prod (theta/2) exp(-theta |s0 + n t|) dt,
 * whose exponent is piecewise linear in t (integrated interval by interval).
 */
function exactLogLikelihood(
  dictionary: Float64Array,
  x: Float64Array,
  m: number,
  l: number,
): number {
  // A A^T (L x L) and pinv(A) x = A^T (A A^T)^-1 x.
  const outer = new Float64Array(l * l);
  for (let j = 0; j < m; j++) {
    for (let a = 0; a < l; a++) {
      for (let b = 0; b < l; b++)
        outer[a * l + b] = outer[a * l + b]! + dictionary[j * l + a]! * dictionary[j * l + b]!;
    }
  }
  const inverse = invert(outer, l);
  const y = new Float64Array(l);
  for (let a = 0; a < l; a++)
    for (let b = 0; b < l; b++) y[a] = y[a]! + inverse[a * l + b]! * x[b]!;
  const s0 = new Float64Array(m);
  for (let j = 0; j < m; j++)
    for (let i = 0; i < l; i++) s0[j] = s0[j]! + dictionary[j * l + i]! * y[i]!;

  // Null vector: the component of a random vector orthogonal to the rows of A^T (the atoms).
  const random = new Random(1);
  const null_ = Float64Array.from({ length: m }, () => random.gaussian());
  const projection = new Float64Array(l);
  for (let j = 0; j < m; j++)
    for (let i = 0; i < l; i++) projection[i] = projection[i]! + dictionary[j * l + i]! * null_[j]!;
  const back = new Float64Array(l);
  for (let a = 0; a < l; a++)
    for (let b = 0; b < l; b++) back[a] = back[a]! + inverse[a * l + b]! * projection[b]!;
  for (let j = 0; j < m; j++) {
    let value = null_[j]!;
    for (let i = 0; i < l; i++) value -= dictionary[j * l + i]! * back[i]!;
    null_[j] = value;
  }
  const norm = Math.hypot(...null_);
  for (let j = 0; j < m; j++) null_[j] = null_[j]! / norm;

  const exponent = (t: number): number => {
    let sum = 0;
    for (let j = 0; j < m; j++) sum += THETA * Math.abs(s0[j]! + null_[j]! * t);
    return sum;
  };
  const breaks = [...s0].map((value, j) => -value / null_[j]!).sort((a, b) => a - b);
  const pieces: number[] = [];
  // Left tail, inner intervals, right tail: log of each piece's integral.
  const slopeAt = (t: number): number => exponent(t + 1e-9) - exponent(t);
  const first = breaks[0]!;
  pieces.push(-exponent(first) - Math.log(-slopeAt(first - 1) / 1e-9));
  for (let k = 0; k + 1 < breaks.length; k++) {
    const t0 = breaks[k]!;
    const t1 = breaks[k + 1]!;
    const f0 = exponent(t0);
    const f1 = exponent(t1);
    const b = (f1 - f0) / (t1 - t0);
    const width = t1 - t0;
    if (width <= 0) continue;
    const logIntegral =
      Math.abs(b * width) < 1e-12
        ? -f0 + Math.log(width)
        : b > 0
          ? -f0 + Math.log(-Math.expm1(-b * width)) - Math.log(b)
          : -f1 + Math.log(-Math.expm1(b * width)) - Math.log(-b);
    pieces.push(logIntegral);
  }
  const last = breaks[breaks.length - 1]!;
  pieces.push(-exponent(last) - Math.log(slopeAt(last + 1) / 1e-9));
  const largest = Math.max(...pieces);
  const logIntegral =
    largest + Math.log(pieces.reduce((sum, value) => sum + Math.exp(value - largest), 0));

  const { logAbs } = logAbsDeterminantInPlace(Float64Array.from(outer), l);
  return m * Math.log(THETA / 2) + logIntegral - logAbs / 2;
}

describe('approximate log-likelihood', () => {
  it('equals the exact ICA likelihood log P_s(A^-1 x) - log|det A| when M = L', () => {
    const l = 4;
    const n = 50;
    const { dictionary, rows } = sample(3, n, l, l);
    const codes = mapCodes(dictionary, rows, n, l, l);
    const approximate = laplaceLogLikelihoods(
      { dictionary, features: l, dimensions: l, theta: THETA, lambda: LAMBDA, beta: 1e3 },
      rows,
      n,
      codes,
    );
    // Exact: s = A^-1 x; det A = det D (D = A^T).
    const { logAbs } = logAbsDeterminantInPlace(Float64Array.from(dictionary), l);
    const unmixing = invert(dictionary, l); // (A^T)^-1 = (A^-1)^T
    for (let r = 0; r < n; r++) {
      let logPrior = 0;
      for (let j = 0; j < l; j++) {
        let s = 0;
        for (let i = 0; i < l; i++) s += unmixing[i * l + j]! * rows[r * l + i]!;
        logPrior += Math.log(THETA / 2) - THETA * Math.abs(s);
      }
      expect(Math.abs(approximate[r]! - (logPrior - logAbs))).toBeLessThan(1e-3);
    }
  });

  it('stays within 0.35 nats per row of the exact integral when M = L + 1', () => {
    const l = 3;
    const m = 4;
    const n = 200;
    const { dictionary, rows } = sample(8, n, m, l);
    const codes = mapCodes(dictionary, rows, n, m, l);
    const exact = Array.from({ length: n }, (_, r) =>
      exactLogLikelihood(dictionary, rows.subarray(r * l, r * l + l), m, l),
    );
    const report: string[] = [];
    let errorAtDefault = Infinity;
    for (const smoothing of [1, Math.PI / 2, 2, 4, 10]) {
      const approximate = laplaceLogLikelihoods(
        {
          dictionary,
          features: m,
          dimensions: l,
          theta: THETA,
          lambda: LAMBDA,
          beta: smoothing * THETA,
        },
        rows,
        n,
        codes,
      );
      let bias = 0;
      let absolute = 0;
      for (let r = 0; r < n; r++) {
        bias += (approximate[r]! - exact[r]!) / n;
        absolute += Math.abs(approximate[r]! - exact[r]!) / n;
      }
      report.push(
        `beta/theta ${smoothing.toFixed(2)}: mean error ${bias.toFixed(3)} nats, mean |error| ` +
          `${absolute.toFixed(3)}`,
      );
      if (smoothing === DEFAULT_SMOOTHING) errorAtDefault = absolute;
    }
    console.log(
      `Laplace approximation against the exact M = L + 1 integral:\n${report.join('\n')}`,
    );
    expect(errorAtDefault).toBeLessThan(0.35);
  });

  it('scores a dictionary in bits per dimension, lower for the true basis than a random one', () => {
    const l = 3;
    const m = 6;
    const n = 400;
    const { dictionary, rows } = sample(21, n, m, l);
    const random = new Random(4);
    const wrong = Float32Array.from({ length: m * l }, () => random.gaussian());
    const options = {
      features: m,
      dimensions: l,
      rows: Float32Array.from(rows),
      rowCount: n,
      scaling: { mean: new Float64Array(l), scale: 1 },
      alpha: 0.1,
    };
    const truth = dictionaryCodingCost({ ...options, atoms: Float32Array.from(dictionary) });
    const other = dictionaryCodingCost({ ...options, atoms: wrong });
    expect(truth.kktResidual).toBeLessThanOrEqual(1e-6);
    expect(
      dictionaryCodingCost({ ...options, rowCount: 0, atoms: wrong }).bitsPerDimension,
    ).toBeNaN();
    expect(truth.bitsPerDimension).toBeLessThan(other.bitsPerDimension);
  });

  it('turns log-likelihoods into bits per dimension with the documented quantisation', () => {
    // -log2 P = 2 bits per row over 2 dimensions, plus log2(256) = 8 bits per dimension.
    expect(bitsPerDimension(Float64Array.of(-2 * Math.LN2, -2 * Math.LN2), 2)).toBeCloseTo(9, 12);
  });
});
