/**
 * Colours and the base layout shared by every figure: calm greys, one colour per method
 * family, the system font (no remote fonts under the content security policy).
 */
import type { Data, Layout, LayoutAxis } from 'plotly.js';

/** A figure as Plotly draws it: built by pure functions, drawn by the Chart component. */
export interface Figure {
  data: Data[];
  layout: Partial<Layout>;
}

export const COLORS = {
  ica: '#c2671c',
  sae: '#2f6bb3',
  neutral: '#5b6470',
  muted: '#a7afb9',
  fit: '#c23b3b',
  grid: '#e6e9ed',
  text: '#2a3038',
  accent: '#2f6bb3',
} as const;

/** One colour per loss term or series, after the family colours. */
export const SERIES = ['#2f6bb3', '#c2671c', '#3d8b5f', '#8a5cb8', '#b8495d', '#5b6470'];

export const FONT_FAMILY =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export function baseLayout(overrides: Partial<Layout> = {}): Partial<Layout> {
  return {
    autosize: true,
    margin: { l: 56, r: 16, t: 28, b: 44 },
    font: { family: FONT_FAMILY, size: 12, color: COLORS.text },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    showlegend: true,
    legend: { orientation: 'h', x: 0, y: 1.12 },
    hovermode: 'closest',
    ...overrides,
  };
}

export function axis(title: string, overrides: Partial<LayoutAxis> = {}): Partial<LayoutAxis> {
  return {
    title: { text: title },
    gridcolor: COLORS.grid,
    zerolinecolor: COLORS.muted,
    automargin: true,
    ...overrides,
  };
}

/**
 * Tick values 1, 2, 5, 10, 20, 50, ... covering [low, high], for log axes: Plotly's own log
 * ticks label every minor step, which crowds short ranges.
 */
export function logTicks(low: number, high: number): number[] {
  if (!(low > 0) || !(high >= low) || !Number.isFinite(high)) return [];
  const ticksWith = (mantissas: readonly number[]): number[] => {
    const ticks: number[] = [];
    for (
      let exponent = Math.floor(Math.log10(low));
      exponent <= Math.ceil(Math.log10(high));
      exponent += 1
    ) {
      for (const mantissa of mantissas) {
        const value = mantissa * 10 ** exponent;
        if (value >= low / 1.001 && value <= high * 1.001) ticks.push(Number(value.toPrecision(6)));
      }
    }
    return ticks;
  };
  const coarse = ticksWith([1, 2, 5]);
  // A range shorter than a decade gets finer steps, so that it shows at least three ticks.
  return coarse.length >= 3 ? coarse : ticksWith([1, 2, 3, 4, 5, 6, 8]);
}
