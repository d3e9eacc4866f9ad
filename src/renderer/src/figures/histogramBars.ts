/**
 * Plain histograms stored as edges and counts: the log10 feature-density histogram of a run
 * (spec/sae.md, Metrics) and the best-|cos| histogram of a dictionary comparison.
 */
import type { Histogram } from '../../../shared/contract';
import { axis, baseLayout, COLORS, type Figure } from './theme';

export interface HistogramInput {
  histogram: Histogram;
  xTitle: string;
  yTitle?: string;
  color?: string;
  /** A vertical marker, e.g. the matching threshold. */
  markerAt?: { x: number; label: string };
}

export function toFigure({
  histogram,
  xTitle,
  yTitle = 'features',
  color,
  markerAt,
}: HistogramInput): Figure {
  const { edges, counts } = histogram;
  const usable = edges.length === counts.length + 1;
  const centres = usable
    ? counts.map((_, bin) => ((edges[bin] as number) + (edges[bin + 1] as number)) / 2)
    : [];
  const widths = usable
    ? counts.map((_, bin) => (edges[bin + 1] as number) - (edges[bin] as number))
    : [];
  const layout = baseLayout({
    showlegend: false,
    bargap: 0,
    xaxis: axis(xTitle),
    yaxis: axis(yTitle),
  });
  if (markerAt) {
    layout.shapes = [
      {
        type: 'line',
        x0: markerAt.x,
        x1: markerAt.x,
        yref: 'paper',
        y0: 0,
        y1: 1,
        line: { color: COLORS.fit, width: 1.5, dash: 'dash' },
      },
    ];
    layout.annotations = [
      {
        x: markerAt.x,
        y: 1,
        yref: 'paper',
        text: markerAt.label,
        showarrow: false,
        xanchor: 'right',
        yanchor: 'bottom',
        font: { color: COLORS.fit, size: 11 },
      },
    ];
  }
  return {
    data: [
      {
        type: 'bar',
        x: centres,
        y: usable ? [...counts] : [],
        width: widths,
        marker: { color: color ?? COLORS.neutral, line: { color: 'white', width: 0.5 } },
        hovertemplate: '%{x:.3g}: %{y}<extra></extra>',
      },
    ],
    layout,
  };
}
