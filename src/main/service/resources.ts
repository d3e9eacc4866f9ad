/**
 * Where the built app finds its files: the compute worker's bundle (and the coding helper's
 * beside it) and the bundled sample.
 * The CLI and the Electron main process are bundled into out/main, next to worker.js; the
 * sample lives in resources/sample at the project root (the packaged app passes its own).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const SAMPLE_ACTIVATIONS = 'activations.npy';
export const SAMPLE_LABELS = 'labels.tsv';

/** out/main/NAME, whether this code sits in out/main or in a shared chunk below it. */
export function bundledFile(name: string): string {
  const beside = join(__dirname, name);
  if (existsSync(beside)) return beside;
  return join(__dirname, '..', name);
}

/** out/main/worker.js, the compute worker's bundle. */
export function defaultWorkerPath(): string {
  return bundledFile('worker.js');
}

/** resources/sample in the nearest folder above this file that has one. */
export function defaultSampleFolder(): string {
  let folder = __dirname;
  for (;;) {
    const candidate = join(folder, 'resources', 'sample');
    if (existsSync(join(candidate, SAMPLE_ACTIVATIONS))) return candidate;
    const parent = dirname(folder);
    if (parent === folder) return join(__dirname, '..', '..', 'resources', 'sample');
    folder = parent;
  }
}
