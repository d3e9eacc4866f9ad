/**
 * Laplacian fits of a feature's activations and how well they fit (spec/sae.md, "Per-feature
 * statistics"). Maximum-likelihood estimates:
 *   two-sided Laplace(mu, b):  mu = median, b = mean |x - mu|        (ICA codes, signed)
 *   one-sided exponential(b):  b = mean x, support x >= 0             (ReLU/TopK codes)
 * Goodness of fit: the Kolmogorov-Smirnov distance sup |F_n - F|, and the mean log-likelihood
 * ratio per value of the fitted law against a Gaussian with the values' mean and variance
 * (positive: the values are better described as Laplacian than as Gaussian).
 */
import type { LaplaceFit } from '../../shared/contract';

export type LaplaceKind = LaplaceFit['kind'];

/** Fits `values` (any order; sorted ascending in place). Fewer than 2 values give a null fit. */
export function fitLaplace(values: Float64Array, kind: LaplaceKind): LaplaceFit {
  const count = values.length;
  if (count < 2) {
    return { kind, location: 0, scale: 0, ksDistance: 1, logLikelihoodRatio: 0 };
  }
  values.sort();

  const location = kind === 'two-sided' ? median(values) : 0;
  let absoluteDeviation = 0;
  for (let i = 0; i < count; i++) absoluteDeviation += Math.abs(values[i]! - location);
  const scale = absoluteDeviation / count;
  if (!(scale > 0)) {
    return { kind, location, scale: 0, ksDistance: 1, logLikelihoodRatio: 0 };
  }

  const cdf =
    kind === 'two-sided'
      ? (x: number): number =>
          x < location
            ? 0.5 * Math.exp((x - location) / scale)
            : 1 - 0.5 * Math.exp(-(x - location) / scale)
      : (x: number): number => (x <= 0 ? 0 : 1 - Math.exp(-x / scale));
  return {
    kind,
    location,
    scale,
    ksDistance: ksDistance(values, cdf),
    logLikelihoodRatio: logLikelihoodRatio(values, kind, scale),
  };
}

/** sup_x |F_n(x) - F(x)| of sorted `values` against a continuous CDF. */
export function ksDistance(sorted: Float64Array, cdf: (x: number) => number): number {
  const count = sorted.length;
  let distance = 0;
  for (let i = 0; i < count; i++) {
    const expected = cdf(sorted[i]!);
    distance = Math.max(distance, expected - i / count, (i + 1) / count - expected);
  }
  return distance;
}

/** Mean of log p_fit(x) - log p_gauss(x), the Gaussian having the values' mean and variance. */
function logLikelihoodRatio(values: Float64Array, kind: LaplaceKind, scale: number): number {
  const count = values.length;
  let mean = 0;
  for (let i = 0; i < count; i++) mean += values[i]!;
  mean /= count;
  let variance = 0;
  for (let i = 0; i < count; i++) variance += (values[i]! - mean) ** 2;
  variance /= count;
  if (!(variance > 0)) return 0;

  // Laplace: log p = -log(2b) - |x - mu| / b; exponential: log p = -log b - x / b.
  // The mean of |x - mu| / b is exactly 1 at the ML fit, and so is the mean of x / b.
  const fitted = (kind === 'two-sided' ? -Math.log(2 * scale) : -Math.log(scale)) - 1;
  // Gaussian: the mean of -(x - m)^2 / 2 var is exactly -1/2 at the moment fit.
  const gaussian = -0.5 * Math.log(2 * Math.PI * variance) - 0.5;
  return fitted - gaussian;
}

/** Median of sorted values. */
export function median(sorted: Float64Array): number {
  const count = sorted.length;
  const middle = count >> 1;
  return count % 2 === 1 ? sorted[middle]! : 0.5 * (sorted[middle - 1]! + sorted[middle]!);
}

/** Linear-interpolated quantile of sorted values, q in [0, 1]. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const weight = position - below;
  return sorted[below]! * (1 - weight) + sorted[above]! * weight;
}
