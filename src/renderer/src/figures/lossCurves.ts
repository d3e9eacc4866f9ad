/**
 * Live loss curves as small multiples: one panel per logged term (loss, mse, l0, learning
 * rate, ...) with its own y-axis, since the terms differ by orders of magnitude. A panel is
 * log-scaled when all its values are positive and span more than a decade.
 */
import type { Annotation, Layout } from 'plotly.js';
import type { StepRecord } from '../../../shared/contract';
import { baseLayout, COLORS, SERIES, type Figure } from './theme';

export const PANEL_COLUMNS = 3;
/** Height of one row of panels, in pixels, for the component to size the chart. */
export const PANEL_ROW_HEIGHT_PX = 170;

export function lossTerms(steps: readonly StepRecord[]): string[] {
  return [...new Set(steps.flatMap((record) => Object.keys(record.losses)))];
}

export function panelRows(steps: readonly StepRecord[]): number {
  return Math.max(1, Math.ceil(lossTerms(steps).length / PANEL_COLUMNS));
}

export function toFigure(steps: readonly StepRecord[]): Figure {
  const terms = lossTerms(steps);
  const columns = Math.min(PANEL_COLUMNS, Math.max(1, terms.length));
  const rows = Math.max(1, Math.ceil(terms.length / columns));
  const layout: Partial<Layout> & Record<string, unknown> = baseLayout({
    showlegend: false,
    grid: { rows, columns, pattern: 'independent', xgap: 0.12, ygap: 0.32 },
    margin: { l: 48, r: 12, t: 24, b: 32 },
  });
  const annotations: Partial<Annotation>[] = [];
  const data: Figure['data'] = terms.map((term, index) => {
    const suffix = index === 0 ? '' : String(index + 1);
    const points = steps.filter((record) => Number.isFinite(record.losses[term]));
    const values = points.map((record) => record.losses[term] as number);
    const positive = values.length > 0 && values.every((value) => value > 0);
    const span = positive ? Math.max(...values) / Math.min(...values) : 0;
    layout[`xaxis${suffix}`] = { gridcolor: COLORS.grid, automargin: true, tickfont: { size: 10 } };
    layout[`yaxis${suffix}`] = {
      gridcolor: COLORS.grid,
      automargin: true,
      tickfont: { size: 10 },
      type: positive && span > 10 ? 'log' : 'linear',
      exponentformat: 'power',
    };
    annotations.push({
      text: `<b>${term}</b>`,
      xref: `x${suffix} domain` as Annotation['xref'],
      yref: `y${suffix} domain` as Annotation['yref'],
      x: 0,
      y: 1.02,
      xanchor: 'left',
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 11, color: COLORS.text },
    });
    return {
      type: 'scatter' as const,
      // A lone point draws no line: mark the points until there are a few.
      mode: values.length < 3 ? ('lines+markers' as const) : ('lines' as const),
      name: term,
      x: points.map((record) => record.step),
      y: values,
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      line: { color: SERIES[index % SERIES.length], width: 1.5 },
      hovertemplate: `step %{x}: ${term} %{y:.4g}<extra></extra>`,
    };
  });
  layout.annotations = annotations;
  return { data, layout };
}
