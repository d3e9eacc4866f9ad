/**
 * basis demo: overcomplete ICA and a TopK sparse autoencoder on the bundled sample (MLP
 * activations of a tiny story model), then the two side by side: metrics, coding cost,
 * wall times and how many of their features match.
 */
import type { RunSummary } from '../../shared/contract';
import { expectNumber } from '../../shared/validate';
import type { Command, CommandContext } from '../command';
import { formatDuration, formatNumber, table } from '../format';
import { print } from '../output';
import { watchRun } from '../watch';
import { describeComparison } from './compare';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'train ICA and a TopK SAE on the bundled sample and compare them side by side',
  usage: 'basis demo [--steps S] [--seed N]',
  details:
    'The sample: 16320 x 172 SwiGLU MLP activations (layer 2) of llama2.c stories260K, with\n' +
    'each token in context as labels (resources/sample/README.md).',
  options: {
    steps: { type: 'string', value: 'S', description: 'updates per run (default 300)' },
    seed: { type: 'string', value: 'N', description: 'random seed (default 0)' },
  },
  positionals: { names: [], required: 0 },
  async run(context) {
    const service = context.service();
    const steps = expectNumber(context.options.steps ?? '300', '--steps', {
      integer: true,
      min: 1,
    });
    const seed = expectNumber(context.options.seed ?? '0', '--seed', { integer: true, min: 0 });
    const dataset = await service.openSample();
    const columns = dataset.columns;
    if (!context.json) {
      context.stderr.write(`sample: ${dataset.path} (${dataset.rows} x ${columns})\n`);
    }

    const ica = await train(context, dataset.id, {
      method: 'ica',
      features: 2 * columns,
      steps,
      seed,
    });
    const sae = await train(context, dataset.id, {
      method: 'sae-topk',
      features: 4 * columns,
      k: 16,
      steps,
      seed,
    });
    const comparison = await service.compareRuns(ica.id, sae.id);
    print(context, { runs: [ica, sae], comparison }, () =>
      [
        sideBySide([ica, sae]),
        '',
        describeComparison(comparison),
        '',
        `details: basis show ${ica.id} / basis show ${sae.id}`,
      ].join('\n'),
    );
  },
};

async function train(
  context: CommandContext,
  datasetId: number,
  config: { method: 'ica' | 'sae-topk'; features: number; steps: number; seed: number; k?: number },
): Promise<RunSummary> {
  const started = await context.service().startRun({ datasetId, config });
  if (!context.json) {
    context.stderr.write(
      `run ${started.id}: ${started.method}, ${started.config.features} features, ` +
        `${config.steps} steps\n`,
    );
  }
  return watchRun(context, started);
}

function sideBySide(runs: RunSummary[]): string {
  const row = (name: string, value: (run: RunSummary) => string): string[] => [
    name,
    ...runs.map(value),
  ];
  return table(
    ['', ...runs.map((run) => `run ${run.id} ${run.method}`)],
    [
      row('features', (run) => String(run.config.features)),
      row('explained variance', (run) => formatNumber(run.metrics?.explainedVariance)),
      row('MSE', (run) => formatNumber(run.metrics?.mse)),
      row('L0 (active per row)', (run) => formatNumber(run.metrics?.l0)),
      row('bits per dimension', (run) => formatNumber(run.metrics?.bitsPerDimension)),
      row('dead features', (run) => String(run.metrics?.deadFeatures ?? '-')),
      row('dense features', (run) => String(run.metrics?.denseFeatures ?? '-')),
      row('wall time', (run) => formatDuration(run.elapsedMs)),
    ],
  );
}
