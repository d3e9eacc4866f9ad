/**
 * Label sidecars: one label per activation row, shown next to the rows that make a feature
 * fire. TSV with a header (the `context` column when present, else `token`, `text` or the
 * last column), JSONL (a `text`, `context` or `token` field), or plain lines. The file is
 * held as bytes with an index of line starts; labels are decoded when asked for.
 */
import { promises as fs } from 'node:fs';
import { basename, extname } from 'node:path';

import { assert, inputError } from '../../shared/errors';
import { formatBytes } from './fileAccess';

export interface Labels {
  count: number;
  /** The label of activation row `row` (0-based). */
  get(row: number): string;
}

/** Label files beyond this are refused (they are held in memory as bytes). */
const MAX_LABEL_FILE_BYTES = 2 ** 31 - 1;

const TSV_COLUMN_PREFERENCE = ['context', 'token', 'text'];
const JSON_FIELD_PREFERENCE = ['text', 'context', 'token'];

/** Start and end byte offsets of each line, without the newline (and a trailing \r). */
function indexLines(bytes: Buffer): { starts: Uint32Array; ends: Uint32Array; count: number } {
  let count = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) count++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) count++;
  const starts = new Uint32Array(count);
  const ends = new Uint32Array(count);
  let line = 0;
  let start = 0;
  for (let i = 0; i <= bytes.length && line < count; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      let end = i;
      if (end > start && bytes[end - 1] === 0x0d) end--;
      starts[line] = start;
      ends[line] = end;
      line++;
      start = i + 1;
    }
  }
  return { starts, ends, count };
}

function unquote(field: string): string {
  if (field.length >= 2 && field.startsWith('"') && field.endsWith('"')) {
    return field.slice(1, -1).replace(/""/g, '"');
  }
  return field;
}

function jsonLabel(line: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const field of JSON_FIELD_PREFERENCE) {
    const text = (value as Record<string, unknown>)[field];
    if (typeof text === 'string') return text;
    if (typeof text === 'number') return String(text);
  }
  return undefined;
}

/** Reads a label file and checks it has one label per activation row. */
export async function readLabels(path: string, expectedRows: number): Promise<Labels> {
  const name = basename(path);
  let stats;
  try {
    stats = await fs.stat(path);
  } catch {
    throw inputError(`${path}: no such label file; check the path`);
  }
  if (!stats.isFile()) throw inputError(`${path}: the label path is not a file`);
  if (stats.size > MAX_LABEL_FILE_BYTES) {
    throw inputError(
      `${name}: the label file is ${formatBytes(stats.size)}; labels over 2 GB are not ` +
        `supported, shorten the context kept per row`,
    );
  }
  const bytes = await fs.readFile(path);
  const lines = indexLines(bytes);
  // A file ending in blank lines has them ignored.
  let lineCount = lines.count;
  while (lineCount > 0 && lines.ends[lineCount - 1] === lines.starts[lineCount - 1]) lineCount--;
  const line = (index: number): string =>
    bytes.toString('utf8', lines.starts[index]!, lines.ends[index]!);

  const extension = extname(path).toLowerCase();
  const firstLine = lineCount > 0 ? line(0) : '';
  const kind =
    extension === '.jsonl' ||
    extension === '.ndjson' ||
    (extension !== '.tsv' && firstLine.startsWith('{'))
      ? 'jsonl'
      : extension === '.tsv' || firstLine.includes('\t')
        ? 'tsv'
        : 'lines';

  let firstDataLine = 0;
  let get: (row: number) => string;
  if (kind === 'tsv') {
    firstDataLine = 1;
    const header = firstLine.split('\t').map((column) => unquote(column).trim().toLowerCase());
    const preferred = TSV_COLUMN_PREFERENCE.map((column) => header.indexOf(column)).find(
      (index) => index >= 0,
    );
    const column = preferred ?? header.length - 1;
    get = (row) => unquote(line(row + 1).split('\t')[column] ?? '');
  } else if (kind === 'jsonl') {
    for (let index = 0; index < lineCount; index++) {
      if (jsonLabel(line(index)) === undefined) {
        throw inputError(
          `${name} line ${index + 1}: not a JSON object with a "text", "context" or "token" ` +
            `field; write one object per line`,
        );
      }
    }
    get = (row) => jsonLabel(line(row)) ?? '';
  } else {
    get = (row) => line(row);
  }

  const count = lineCount - firstDataLine;
  if (count !== expectedRows) {
    throw inputError(
      `${name}: holds ${count} labels${kind === 'tsv' ? ' (after its header line)' : ''} but ` +
        `the activations have ${expectedRows} rows; the label file needs one line per row`,
    );
  }
  return {
    count,
    get(row: number): string {
      assert(
        Number.isInteger(row) && row >= 0 && row < count,
        () => `label row ${row} of ${count}`,
      );
      return get(row);
    },
  };
}
