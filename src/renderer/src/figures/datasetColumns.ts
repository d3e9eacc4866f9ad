/**
 * A dataset's per-column summary: the mean of each column with a band of one standard
 * deviation, so scale differences and offset columns stand out at a glance.
 */
import type { DatasetStatistics } from '../../../shared/contract';
import { axis, baseLayout, COLORS, type Figure } from './theme';

export function toFigure(statistics: DatasetStatistics): Figure {
  const columns = statistics.mean.map((_, column) => column);
  const deviation = statistics.variance.map((variance) => Math.sqrt(Math.max(0, variance)));
  const upper = statistics.mean.map((mean, column) => mean + (deviation[column] ?? 0));
  const lower = statistics.mean.map((mean, column) => mean - (deviation[column] ?? 0));
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        x: columns,
        y: upper,
        line: { width: 0 },
        hoverinfo: 'skip',
        showlegend: false,
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: '± 1 standard deviation',
        x: columns,
        y: lower,
        fill: 'tonexty',
        fillcolor: 'rgba(47, 107, 179, 0.15)',
        line: { width: 0 },
        hoverinfo: 'skip',
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'mean',
        x: columns,
        y: [...statistics.mean],
        line: { color: COLORS.accent, width: 1.5 },
        hovertemplate: 'column %{x}: mean %{y:.3g}<extra></extra>',
      },
    ],
    layout: baseLayout({ xaxis: axis('column'), yaxis: axis('value') }),
  };
}
