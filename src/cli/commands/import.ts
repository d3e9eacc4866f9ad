/** basis import PATH --dataset FILE: brings a trained SAE in as a run, and analyses it. */
import { inputError } from '../../shared/errors';
import type { Command } from '../command';
import { DATASET_OPTIONS, openOptionsFrom } from '../datasetOptions';
import { describeRun, print } from '../output';

export const importCommand: Command = {
  name: 'import',
  summary:
    'import a trained SAE (SAELens folder, dictionary_learning or sparsify checkpoint) as a run',
  usage: 'basis import PATH --dataset FILE [--labels FILE] [--tensor T] ...',
  options: {
    dataset: {
      type: 'string',
      value: 'FILE',
      description: 'the activations the dictionary reads (required)',
    },
    ...DATASET_OPTIONS,
  },
  positionals: { names: ['PATH'], required: 1 },
  async run(context) {
    if (typeof context.options.dataset !== 'string') {
      throw inputError('--dataset FILE is required: the activations the dictionary was trained on');
    }
    const service = context.service();
    const dataset = await service.openDataset(
      context.options.dataset,
      openOptionsFrom(context.options),
    );
    const run = await service.importDictionary(context.positionals[0]!, dataset.id);
    print(context, run, () => describeRun(run));
  },
};
