/**
 * basis generate --out FILE: synthetic activations with planted features
 * (spec/overcomplete-ica.md section 6), written as .npy with a JSON sidecar holding the true
 * features and every parameter.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { inputError } from '../../shared/errors';
import { expectNumber, expectOneOf } from '../../shared/validate';
import { generatePlanted } from '../../main/generate/planted';
import { writeNpy } from '../../main/formats/npyWrite';
import type { Command } from '../command';
import { print } from '../output';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'write synthetic activations with known (planted) features, for benchmarks',
  usage:
    'basis generate --out FILE [--dimensions 32] [--features 64] [--active 3] [--rows 20000]\n' +
    '       [--magnitudes laplacian|uniform] [--probabilities uniform|decaying] [--noise 0.05] ' +
    '[--seed 0]',
  details:
    'Writes FILE (.npy, rows x dimensions float32) and FILE without .npy plus .json (the truth).',
  options: {
    out: { type: 'string', value: 'FILE', description: 'the .npy to write (required)' },
    dimensions: { type: 'string', value: 'L', description: 'columns (default 32)' },
    features: { type: 'string', value: 'M', description: 'planted features (default 64)' },
    active: { type: 'string', value: 'K', description: 'mean active features per row (default 3)' },
    rows: { type: 'string', value: 'N', description: 'rows (default 20000)' },
    magnitudes: {
      type: 'string',
      value: 'laplacian|uniform',
      description: 'magnitude law (default laplacian)',
    },
    probabilities: {
      type: 'string',
      value: 'uniform|decaying',
      description: 'activation probabilities (default uniform)',
    },
    noise: {
      type: 'string',
      value: 'SIGMA',
      description: 'Gaussian noise standard deviation (default 0.05)',
    },
    seed: { type: 'string', value: 'S', description: 'random seed (default 0)' },
  },
  positionals: { names: [], required: 0 },
  async run(context) {
    const { options } = context;
    if (typeof options.out !== 'string') throw inputError('--out FILE is required');
    const out = resolve(options.out);
    const planted = generatePlanted({
      dimensions: expectNumber(options.dimensions ?? '32', '--dimensions', {
        integer: true,
        min: 1,
        max: 1 << 16,
      }),
      features: expectNumber(options.features ?? '64', '--features', {
        integer: true,
        min: 1,
        max: 1 << 20,
      }),
      activePerRow: expectNumber(options.active ?? '3', '--active', { positive: true }),
      rows: expectNumber(options.rows ?? '20000', '--rows', { integer: true, min: 1, max: 1e8 }),
      magnitudes: expectOneOf(
        options.magnitudes ?? 'laplacian',
        ['laplacian', 'uniform'] as const,
        '--magnitudes',
      ),
      probabilities: expectOneOf(
        options.probabilities ?? 'uniform',
        ['uniform', 'decaying'] as const,
        '--probabilities',
      ),
      noise: expectNumber(options.noise ?? '0.05', '--noise', { min: 0 }),
      seed: expectNumber(options.seed ?? '0', '--seed', {
        integer: true,
        min: 0,
        max: 2 ** 32 - 1,
      }),
    });
    const { dimensions, features, rows } = planted.options;
    await writeNpy(out, [rows, dimensions], planted.data);
    const sidecar = `${out.replace(/\.npy$/i, '')}.json`;
    const truth = {
      generator: 'basis generate (spec/overcomplete-ica.md section 6)',
      parameters: planted.options,
      probabilities: Array.from(planted.probabilities),
      /** Planted features as unit rows, features x dimensions. */
      features: Array.from({ length: features }, (_, j) =>
        Array.from(planted.truth.subarray(j * dimensions, (j + 1) * dimensions)),
      ),
    };
    await writeFile(sidecar, `${JSON.stringify(truth)}\n`);
    print(
      context,
      { data: out, truth: sidecar, parameters: planted.options },
      () => `wrote ${out} (${rows} x ${dimensions}, ${features} planted features) and ${sidecar}`,
    );
  },
};
