import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { fitLaplace, ksDistance, median, quantile } from '../../../src/main/analysis/laplace';

const SAMPLES = 40_000;
/** Estimates from 40k samples: a few standard errors (b / sqrt(n) = 0.005 b). */
const PARAMETER_TOLERANCE = 0.03;
/** KS distance of a correct fit at n = 40k stays well below 1.36 / sqrt(n) = 0.0068 x 2. */
const GOOD_FIT_KS = 0.014;
/** The ratio depends on the sample variance: its standard error at 40k samples is up to 0.007. */
const LLR_TOLERANCE = 0.025;

function draw(count: number, sample: (random: Random) => number, seed = 1): Float64Array {
  const random = new Random(seed);
  return Float64Array.from({ length: count }, () => sample(random));
}

describe('Laplace fits', () => {
  it('recover location and scale of Laplacian samples (two-sided)', () => {
    const values = draw(SAMPLES, (random) => 0.5 + random.laplacian(2));
    const fit = fitLaplace(values, 'two-sided');
    expect(fit.kind).toBe('two-sided');
    expect(fit.location).toBeCloseTo(0.5, 1);
    expect(Math.abs(fit.location - 0.5)).toBeLessThan(PARAMETER_TOLERANCE * 2);
    expect(Math.abs(fit.scale - 2)).toBeLessThan(PARAMETER_TOLERANCE * 2);
    expect(fit.ksDistance).toBeLessThan(GOOD_FIT_KS);
    // E log Laplace - E log Gaussian(equal variance) = 0.5 log(4 pi) - log 2 - 1/2 = 0.0724 nats.
    const expected = 0.5 * Math.log(4 * Math.PI) - Math.log(2) - 0.5;
    expect(Math.abs(fit.logLikelihoodRatio - expected)).toBeLessThan(LLR_TOLERANCE);
  });

  it('prefer the Gaussian for Gaussian samples, with the known ratio', () => {
    const values = draw(SAMPLES, (random) => random.gaussian());
    const fit = fitLaplace(values, 'two-sided');
    // b = E|x| = sqrt(2/pi); ratio = -log(2b) - 1 + 0.5 log(2 pi) + 0.5 = -0.0485 nats.
    const expected = -Math.log(2 * Math.sqrt(2 / Math.PI)) - 0.5 + 0.5 * Math.log(2 * Math.PI);
    expect(Math.abs(fit.logLikelihoodRatio - expected)).toBeLessThan(LLR_TOLERANCE);
    expect(fit.ksDistance).toBeGreaterThan(0.03);
  });

  it('fit the exponential to nonnegative samples (one-sided)', () => {
    const values = draw(SAMPLES, (random) => Math.abs(random.laplacian(3)));
    const fit = fitLaplace(values, 'one-sided');
    expect(fit.location).toBe(0);
    expect(Math.abs(fit.scale - 3)).toBeLessThan(PARAMETER_TOLERANCE * 3);
    expect(fit.ksDistance).toBeLessThan(GOOD_FIT_KS);
    // E log Exp - E log Gaussian(mean b, variance b^2) = 0.5 log(2 pi) - 1/2 = 0.4189 nats.
    expect(Math.abs(fit.logLikelihoodRatio - (0.5 * Math.log(2 * Math.PI) - 0.5))).toBeLessThan(
      LLR_TOLERANCE,
    );
  });

  it('give a null fit for fewer than two values or constant values', () => {
    expect(fitLaplace(new Float64Array(0), 'two-sided')).toMatchObject({ scale: 0, ksDistance: 1 });
    expect(fitLaplace(Float64Array.of(3), 'one-sided')).toMatchObject({ scale: 0, ksDistance: 1 });
    const constant = fitLaplace(Float64Array.of(2, 2, 2), 'two-sided');
    expect(constant).toMatchObject({ location: 2, scale: 0, ksDistance: 1, logLikelihoodRatio: 0 });
    for (const value of Object.values(constant)) {
      if (typeof value === 'number') expect(Number.isNaN(value)).toBe(false);
    }
  });
});

describe('order statistics', () => {
  it('KS distance of two points against the uniform law is 1/4', () => {
    expect(ksDistance(Float64Array.of(0.25, 0.75), (x) => Math.min(1, Math.max(0, x)))).toBeCloseTo(
      0.25,
      12,
    );
  });

  it('median and interpolated quantiles', () => {
    const sorted = Float64Array.of(1, 2, 3, 4);
    expect(median(sorted)).toBe(2.5);
    expect(median(Float64Array.of(1, 5, 9))).toBe(5);
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 1)).toBe(4);
    expect(quantile(sorted, 0.5)).toBe(2.5);
    expect(Number.isNaN(quantile(new Float64Array(0), 0.5))).toBe(true);
  });
});
