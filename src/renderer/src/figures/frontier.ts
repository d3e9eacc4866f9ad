/**
 * The sparsity-fidelity frontier across runs: L0 (mean active features per row) against
 * explained variance, ICA and SAE runs in their family colours, with each family's Pareto
 * front (no other run of the family is both sparser and more faithful) drawn as a line.
 */
import type { RunSummary } from '../../../shared/contract';
import { familyOf } from '../knobs';
import { axis, baseLayout, COLORS, logTicks, type Figure } from './theme';

export interface FrontierPoint {
  runId: number;
  l0: number;
  explainedVariance: number;
  label: string;
}

/** Runs with finite metrics, split by family. */
export function frontierPoints(
  runs: readonly RunSummary[],
): Record<'ICA' | 'SAE', FrontierPoint[]> {
  const points: Record<'ICA' | 'SAE', FrontierPoint[]> = { ICA: [], SAE: [] };
  for (const run of runs) {
    const metrics = run.metrics;
    if (!metrics || !Number.isFinite(metrics.l0) || !Number.isFinite(metrics.explainedVariance)) {
      continue;
    }
    points[familyOf(run.method)].push({
      runId: run.id,
      l0: metrics.l0,
      explainedVariance: metrics.explainedVariance,
      label: `#${run.id} ${run.method}, ${run.config.features} features`,
    });
  }
  return points;
}

/** The points no other point beats on both axes (lower L0 and higher explained variance). */
export function paretoFront(points: readonly FrontierPoint[]): FrontierPoint[] {
  const sorted = [...points].sort(
    (a, b) => a.l0 - b.l0 || b.explainedVariance - a.explainedVariance,
  );
  const front: FrontierPoint[] = [];
  let best = -Infinity;
  for (const point of sorted) {
    if (point.explainedVariance > best) {
      front.push(point);
      best = point.explainedVariance;
    }
  }
  return front;
}

export function toFigure(runs: readonly RunSummary[]): Figure {
  const families = frontierPoints(runs);
  const data: Figure['data'] = [];
  for (const family of ['ICA', 'SAE'] as const) {
    const points = families[family];
    if (points.length === 0) continue;
    const color = family === 'ICA' ? COLORS.ica : COLORS.sae;
    const front = paretoFront(points);
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: family,
      x: points.map((point) => point.l0),
      y: points.map((point) => point.explainedVariance),
      text: points.map((point) => point.label),
      customdata: points.map((point) => point.runId),
      hovertemplate: '%{text}<br>L0 %{x:.3g}, explained variance %{y:.3f}<extra></extra>',
      marker: { color, size: 9, line: { color: 'white', width: 1 } },
    });
    if (front.length > 1) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${family} frontier`,
        x: front.map((point) => point.l0),
        y: front.map((point) => point.explainedVariance),
        line: { color, width: 1, dash: 'dot' },
        hoverinfo: 'skip',
        showlegend: false,
      });
    }
  }
  const all = [...families.ICA, ...families.SAE];
  const logX = all.length > 0 && all.every((point) => point.l0 > 0);
  // Explained variance is below 0 when a run does worse than the mean: keep it in view.
  const lowest = Math.min(0, ...all.map((point) => point.explainedVariance));
  return {
    data,
    layout: baseLayout({
      xaxis: axis('L0 (active features per row)', {
        type: logX ? 'log' : 'linear',
        ...(logX
          ? {
              tickvals: logTicks(
                Math.min(...all.map((point) => point.l0)) / 1.3,
                Math.max(...all.map((point) => point.l0)) * 1.3,
              ),
            }
          : {}),
      }),
      yaxis: axis('explained variance', { range: [lowest - 0.02, 1.02] }),
    }),
  };
}
