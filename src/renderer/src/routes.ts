/**
 * The views and their parameters, kept in the location hash (#/features?run=3&feature=12) so
 * that reloading, the back button and links keep their place without a server-side router.
 */

export const VIEWS = [
  'datasets',
  'new-run',
  'live',
  'runs',
  'features',
  'reconstructions',
  'compare',
  'export',
] as const;
export type View = (typeof VIEWS)[number];

export const VIEW_TITLES: Readonly<Record<View, string>> = {
  datasets: 'Datasets',
  'new-run': 'New run',
  live: 'Live run',
  runs: 'Runs',
  features: 'Features',
  reconstructions: 'Reconstructions',
  compare: 'Compare',
  export: 'Export',
};

export interface Route {
  view: View;
  params: Readonly<Record<string, string>>;
}

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = text.split('?', 2);
  const view = (VIEWS as readonly string[]).includes(path) ? (path as View) : 'datasets';
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query)) params[key] = value;
  return { view, params };
}

export function formatRoute(
  view: View,
  params: Readonly<Record<string, string | number | undefined>> = {},
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return `#/${view}${text ? `?${text}` : ''}`;
}

/** A positive whole number parameter, or null. */
export function numberParam(params: Readonly<Record<string, string>>, key: string): number | null {
  const value = Number(params[key]);
  return Number.isInteger(value) && value >= 0 && params[key] !== undefined && params[key] !== ''
    ? value
    : null;
}
