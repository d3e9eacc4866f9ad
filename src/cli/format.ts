/** Text formatting for the CLI: numbers, durations, tables, labels. */

export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '-';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(2);
  return value
    .toPrecision(digits)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

export function formatDuration(milliseconds: number | null | undefined): string {
  if (milliseconds === null || milliseconds === undefined) return '-';
  const seconds = milliseconds / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  const rest = String(total % 60).padStart(2, '0');
  return minutes >= 60
    ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${rest}`
    : `${minutes}:${rest}`;
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const numeric = header.map((_, column) =>
    rows.every((row) => /^[-+]?[\d.,e+-]+%?$|^-$/.test(row[column] ?? '-')),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * A label made short for one line: control characters shown, and a marked token
 * (`...[[token]]`, the stories sample's context format) kept with the text just before it.
 */
export function shortLabel(label: string | null, width = 48): string {
  if (label === null) return '';
  const visible = label.replace(/\n/g, '\u21b5').replace(/\t/g, ' ');
  if (visible.length <= width) return visible;
  const marker = visible.lastIndexOf('[[');
  if (marker >= 0) {
    const end = visible.indexOf(']]', marker);
    const stop = end >= 0 ? end + 2 : visible.length;
    const start = Math.max(0, stop - width + 1);
    return `\u2026${visible.slice(start, stop)}`;
  }
  return `${visible.slice(0, width - 1)}\u2026`;
}
