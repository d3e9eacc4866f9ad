/** basis export RUN --format npy|saelens|csv --out PATH */
import { expectOneOf } from '../../shared/validate';
import { inputError } from '../../shared/errors';
import type { ExportFormat } from '../../shared/contract';
import type { Command } from '../command';
import { parseRunId, print } from '../output';

const FORMATS: Record<string, ExportFormat> = {
  npy: 'npy',
  saelens: 'saelens',
  csv: 'features-csv',
  'features-csv': 'features-csv',
};

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a dictionary (.npy atoms, a SAELens folder) or feature statistics (CSV)',
  usage: 'basis export RUN --format npy|saelens|csv --out PATH',
  details:
    'npy: the atoms, features x columns float32. saelens: a folder with cfg.json and\n' +
    'sae_weights.safetensors (an ICA encoder is approximate, and says so). csv: one line per ' +
    'feature.',
  options: {
    format: { type: 'string', value: 'npy|saelens|csv', description: 'what to write (required)' },
    out: { type: 'string', value: 'PATH', description: 'file, or folder for saelens (required)' },
  },
  positionals: { names: ['RUN'], required: 1 },
  async run(context) {
    const runId = parseRunId(context.positionals[0]);
    if (typeof context.options.format !== 'string')
      throw inputError('--format is required: npy, saelens or csv');
    if (typeof context.options.out !== 'string') throw inputError('--out PATH is required');
    const format = FORMATS[expectOneOf(context.options.format, Object.keys(FORMATS), '--format')]!;
    const path = await context.service().exportRun(runId, format, context.options.out);
    print(context, { runId, format, path }, () => `run ${runId}: wrote ${path}`);
  },
};
