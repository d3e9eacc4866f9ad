/**
 * The histogram of one feature's non-zero activations with its fitted Laplacian overlaid
 * (spec/sae.md, per-feature statistics). The overlay shows the counts the fit expects in
 * each bin: N (F(right edge) - F(left edge)) / (F(last edge) - F(first edge)), with F the
 * fitted law's CDF, so it is comparable to the bars whatever the bin widths.
 */
import type { Histogram, LaplaceFit } from '../../../shared/contract';
import { axis, baseLayout, COLORS, logTicks, type Figure } from './theme';

/**
 * CDF of the fitted law. Two-sided Laplace(location m, scale b):
 * F(x) = exp((x - m) / b) / 2 below m, 1 - exp(-(x - m) / b) / 2 above.
 * One-sided (exponential from m): F(x) = 1 - exp(-(x - m) / b) for x >= m, else 0.
 */
export function laplaceCdf(fit: LaplaceFit, x: number): number {
  const z = (x - fit.location) / fit.scale;
  if (fit.kind === 'one-sided') return z <= 0 ? 0 : 1 - Math.exp(-z);
  return z < 0 ? 0.5 * Math.exp(z) : 1 - 0.5 * Math.exp(-z);
}

/** Counts the fit expects per bin, scaled to the histogram's total; null when it cannot say. */
export function expectedCounts(histogram: Histogram, fit: LaplaceFit): number[] | null {
  const { edges, counts } = histogram;
  if (counts.length === 0 || edges.length !== counts.length + 1) return null;
  if (!(fit.scale > 0) || !Number.isFinite(fit.location)) return null;
  const total = counts.reduce((sum, count) => sum + count, 0);
  const first = edges[0] as number;
  const last = edges[edges.length - 1] as number;
  const mass = laplaceCdf(fit, last) - laplaceCdf(fit, first);
  if (!(mass > 0) || total === 0) return null;
  return counts.map(
    (_, bin) =>
      (total *
        (laplaceCdf(fit, edges[bin + 1] as number) - laplaceCdf(fit, edges[bin] as number))) /
      mass,
  );
}

export interface FeatureHistogramInput {
  histogram: Histogram;
  laplace: LaplaceFit;
  logY: boolean;
}

export function toFigure({ histogram, laplace, logY }: FeatureHistogramInput): Figure {
  const { edges, counts } = histogram;
  const centres = counts.map((_, bin) => ((edges[bin] as number) + (edges[bin + 1] as number)) / 2);
  const widths = counts.map((_, bin) => (edges[bin + 1] as number) - (edges[bin] as number));
  const expected = expectedCounts(histogram, laplace);
  const fitName =
    laplace.kind === 'two-sided'
      ? `Laplace fit (m ${laplace.location.toPrecision(3)}, b ${laplace.scale.toPrecision(3)})`
      : `exponential fit (b ${laplace.scale.toPrecision(3)})`;

  const data: Figure['data'] = [
    {
      type: 'bar',
      name: 'activations',
      x: centres,
      y: counts,
      width: widths,
      marker: { color: COLORS.muted, line: { width: 0 } },
      hovertemplate: '%{x:.3g}: %{y} rows<extra></extra>',
    },
  ];
  if (expected) {
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: fitName,
      x: centres,
      // Zero expectations cannot be drawn on a log axis: leave a gap there instead.
      y: expected.map((count) => (logY && count <= 0 ? null : count)),
      line: { color: COLORS.fit, width: 2 },
      hovertemplate: '%{x:.3g}: %{y:.3g} expected<extra></extra>',
    });
  }
  return {
    data,
    layout: baseLayout({
      bargap: 0,
      xaxis: axis('activation'),
      yaxis: axis('rows', {
        type: logY ? 'log' : 'linear',
        ...(logY ? { tickvals: logTicks(1, Math.max(1, ...counts, ...(expected ?? []))) } : {}),
      }),
    }),
  };
}
