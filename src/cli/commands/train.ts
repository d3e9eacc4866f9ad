/** basis train FILE --method M --features N ...: trains a dictionary and analyses it. */
import type { StartRunRequest } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { METHODS, parseMethod, type Method } from '../../shared/methods';
import type { Command, CommandContext } from '../command';
import { DATASET_OPTIONS, openOptionsFrom } from '../datasetOptions';
import { describeRun, print } from '../output';
import { watchRun } from '../watch';

/** CLI flag -> RunConfig field, and which methods take it. */
const CONFIG_FLAGS: Record<string, { field: string; methods?: readonly Method[] }> = {
  features: { field: 'features' },
  steps: { field: 'steps' },
  batch: { field: 'batchSize' },
  seed: { field: 'seed' },
  lr: { field: 'learningRate' },
  'checkpoint-every': { field: 'checkpointEvery' },
  'eval-rows': { field: 'evaluationRows' },
  alpha: { field: 'alpha', methods: ['ica'] },
  variant: { field: 'variant', methods: ['ica'] },
  l1: { field: 'l1', methods: ['sae-relu'] },
  k: { field: 'k', methods: ['sae-topk', 'sae-batchtopk'] },
  sparsity: { field: 'sparsity', methods: ['sae-jumprelu'] },
};

export const TRAINING_OPTIONS = {
  method: {
    type: 'string',
    value: 'M',
    description: `training method (required): ${METHODS.join(', ')}`,
  },
  features: {
    type: 'string',
    value: 'N',
    description: 'dictionary size (default: 2x columns for ica, 4x for SAEs)',
  },
  alpha: { type: 'string', value: 'A', description: 'ica: L1 weight of MAP inference' },
  variant: {
    type: 'string',
    value: 'unit-norm|activity|literal',
    description: 'ica: learning-rule variant',
  },
  l1: { type: 'string', value: 'C', description: 'sae-relu: L1 coefficient' },
  k: {
    type: 'string',
    value: 'K',
    description: 'sae-topk, sae-batchtopk: active features per row',
  },
  sparsity: { type: 'string', value: 'S', description: 'sae-jumprelu: L0 coefficient' },
  steps: { type: 'string', value: 'S', description: 'optimiser updates' },
  batch: { type: 'string', value: 'B', description: 'rows per update' },
  seed: { type: 'string', value: 'N', description: 'random seed' },
  lr: { type: 'string', value: 'X', description: 'learning rate' },
  'skip-nonfinite': { type: 'boolean', description: 'drop rows holding NaN or infinity' },
  'checkpoint-every': {
    type: 'string',
    value: 'N',
    description: 'save a checkpoint every N steps (0: at the end)',
  },
  'eval-rows': { type: 'string', value: 'N', description: 'held-out rows of the analysis pass' },
} as const;

/** The run request the flags describe (validated by the service's parseRunConfig). */
export function runConfigFrom(
  options: CommandContext['options'],
  datasetId: number,
): StartRunRequest {
  if (typeof options.method !== 'string') {
    throw inputError(`--method is required: one of ${METHODS.join(', ')}`);
  }
  const method = parseMethod(options.method);
  const config: StartRunRequest['config'] = { method };
  const fields = config as unknown as Record<string, unknown>;
  for (const [flag, { field, methods }] of Object.entries(CONFIG_FLAGS)) {
    const value = options[flag];
    if (value === undefined) continue;
    if (methods && !methods.includes(method)) {
      throw inputError(`--${flag} applies to ${methods.join(', ')}, not to ${method}`);
    }
    fields[field] = value;
  }
  if (options['skip-nonfinite'] === true) config.skipNonfinite = true;
  return { datasetId, config };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a dictionary (ICA or a sparse autoencoder) on an activation file',
  usage:
    'basis train FILE --method ica|ica-complete|sae-relu|sae-topk|sae-batchtopk|sae-jumprelu --features N\n' +
    '       [--alpha A | --l1 C | --k K | --sparsity S] [--variant V] [--steps S] [--batch B] [--seed N]\n' +
    '       [--lr X] [--labels FILE] [--skip-nonfinite] [--checkpoint-every N] [--eval-rows N]',
  details:
    'Example: basis train acts.npy --labels labels.tsv --method sae-topk --features 688 --k 16\n' +
    'Ctrl-C cancels the run (it keeps a checkpoint: "basis resume RUN" continues it).',
  options: { ...TRAINING_OPTIONS, ...DATASET_OPTIONS },
  positionals: { names: ['FILE'], required: 1 },
  async run(context) {
    const service = context.service();
    const dataset = await service.openDataset(
      context.positionals[0]!,
      openOptionsFrom(context.options),
    );
    const started = await service.startRun(runConfigFrom(context.options, dataset.id));
    if (!context.json) {
      context.stderr.write(
        `run ${started.id}: ${started.method} with ${started.config.features} features on ` +
          `${dataset.rows} x ${dataset.columns} (${started.config.steps} steps)\n`,
      );
    }
    const finished = await watchRun(context, started);
    print(context, finished, () => describeRun(finished));
  },
};
