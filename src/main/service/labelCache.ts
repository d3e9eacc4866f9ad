/**
 * Label files, read once per process and kept (they can be large; a file changed on disk
 * is read again). `readLabels` checks the file has one label per activation row.
 */
import { statSync } from 'node:fs';
import { readLabels, type Labels } from '../formats/labels';

export class LabelCache {
  private readonly entries = new Map<string, { modifiedMs: number; labels: Promise<Labels> }>();

  get(path: string, rows: number): Promise<Labels> {
    const modifiedMs = modificationTime(path);
    const key = `${path}\u0000${rows}`;
    const cached = this.entries.get(key);
    if (cached && cached.modifiedMs === modifiedMs) return cached.labels;
    const labels = readLabels(path, rows);
    labels.catch(() => this.entries.delete(key));
    this.entries.set(key, { modifiedMs, labels });
    return labels;
  }
}

function modificationTime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}
