/**
 * Number and text formatting for tables and labels. Values that arrive as null or NaN (JSON
 * carries NaN as null) print as an em dash rather than "NaN".
 */

export const MISSING = '—';

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A compact number: 3 significant digits, exponent form for very small or large values. */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (!isNumber(value)) return MISSING;
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}

export function formatInteger(value: number | null | undefined): string {
  if (!isNumber(value)) return MISSING;
  return Math.round(value).toLocaleString('en-US');
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (!isNumber(fraction)) return MISSING;
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (!isNumber(bytes)) return MISSING;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A duration in seconds as "45 s", "3 min 20 s", "2 h 05 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (!isNumber(seconds) || seconds < 0) return MISSING;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  const hours = Math.floor(whole / 3600);
  return `${hours} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatShape(shape: readonly number[]): string {
  return shape.map((extent) => extent.toLocaleString('en-US')).join(' × ');
}

/** The last path segment, for compact labels. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter((part) => part !== '');
  return parts[parts.length - 1] ?? path;
}

/** A date-time string from the store as "2026-12-04 16:31". */
export function formatTimestamp(value: string | null | undefined): string {
  if (!value) return MISSING;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const pad = (part: number): string => String(part).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export interface LabelPart {
  text: string;
  marked: boolean;
}

/**
 * Splits a label into plain and marked parts: the token of interest is written
 * [[like this]] by the label files (a context with the token marked).
 */
export function splitMarkedLabel(label: string): LabelPart[] {
  const parts: LabelPart[] = [];
  const pattern = /\[\[([\s\S]*?)\]\]/g;
  let last = 0;
  for (let match = pattern.exec(label); match !== null; match = pattern.exec(label)) {
    if (match.index > last) parts.push({ text: label.slice(last, match.index), marked: false });
    parts.push({ text: match[1] ?? '', marked: true });
    last = match.index + match[0].length;
  }
  if (last < label.length) parts.push({ text: label.slice(last), marked: false });
  return parts;
}
