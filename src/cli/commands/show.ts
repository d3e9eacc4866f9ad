/**
 * basis show RUN: a run's metrics and its features (density, kurtosis, Laplace fit, the
 * labels of the rows that activate each most); with --feature I, one feature in detail.
 */
import type { FeatureDetail, RunSummary } from '../../shared/contract';
import { expectNumber, expectOneOf } from '../../shared/validate';
import type { Command } from '../command';
import { formatNumber, shortLabel, table } from '../format';
import { describeRun, parseRunId, print } from '../output';

const SORTS = ['density', 'kurtosis', 'ks', 'index'] as const;
const TOP_LABELS = 3;

export const showCommand: Command = {
  name: 'show',
  summary: 'show a run: metrics, and features with density, Laplace fit and top tokens',
  usage: 'basis show RUN [--feature I] [--sort density|kurtosis|ks|index] [--limit N]',
  details:
    '--sort ks lists the most Laplacian features first (smallest Kolmogorov-Smirnov distance\n' +
    'to the fitted Laplacian). Top tokens are the labels of the rows that activate a feature most.',
  options: {
    feature: { type: 'string', value: 'I', description: 'show one feature in detail' },
    sort: {
      type: 'string',
      value: SORTS.join('|'),
      description: 'order of the feature list (default density)',
    },
    limit: { type: 'string', value: 'N', description: 'features listed (default 20)' },
  },
  positionals: { names: ['RUN'], required: 1 },
  async run(context) {
    const service = context.service();
    const run = await service.getRun(parseRunId(context.positionals[0]));
    if (typeof context.options.feature === 'string') {
      const index = expectNumber(context.options.feature, '--feature', { integer: true, min: 0 });
      const feature = await service.getFeature(run.id, index);
      print(context, feature, () => describeFeature(run, feature));
      return;
    }
    const order = expectOneOf(context.options.sort ?? 'density', SORTS, '--sort');
    const limit = expectNumber(context.options.limit ?? '20', '--limit', { integer: true, min: 1 });
    const features = await service.listFeatures(run.id, { order, limit });
    const details = await Promise.all(
      features.map((feature) => service.getFeature(run.id, feature.index)),
    );
    print(context, { run, features: details }, () => describeRunFeatures(run, details, order));
  },
};

function describeRunFeatures(run: RunSummary, features: FeatureDetail[], order: string): string {
  if (features.length === 0) {
    return `${describeRun(run)}\n\nno features recorded (the run has not completed its analysis)`;
  }
  const kind = features[0]!.laplace.kind;
  const fitNote =
    kind === 'two-sided'
      ? 'Laplace fit: two-sided on the nonzero codes (location = median, scale = mean |x - median|)'
      : 'Laplace fit: one-sided (exponential) on the nonzero activations, scale = their mean';
  const rows = features.map((feature) => [
    String(feature.index),
    formatNumber(feature.density, 3),
    formatNumber(feature.mean, 3),
    formatNumber(feature.max, 3),
    formatNumber(feature.kurtosis, 3),
    formatNumber(feature.laplace.scale, 3),
    formatNumber(feature.laplace.ksDistance, 3),
    formatNumber(feature.laplace.logLikelihoodRatio, 3),
    topTokens(feature),
  ]);
  return [
    describeRun(run),
    '',
    `features by ${order} (${fitNote}; KS = Kolmogorov-Smirnov distance, LLR = log-likelihood ` +
      `ratio per value against a Gaussian):`,
    table(
      [
        'feature',
        'density',
        'mean',
        'max',
        'kurtosis',
        'scale',
        'KS',
        'LLR',
        'top tokens in context',
      ],
      rows,
    ),
  ].join('\n');
}

function topTokens(feature: FeatureDetail): string {
  const labelled = feature.topExamples.filter((example) => example.label !== null);
  if (labelled.length === 0) {
    return feature.topExamples
      .slice(0, TOP_LABELS)
      .map((example) => `row ${example.row}`)
      .join(', ');
  }
  return labelled
    .slice(0, TOP_LABELS)
    .map((example) => shortLabel(example.label, 28))
    .join(' | ');
}

function describeFeature(run: RunSummary, feature: FeatureDetail): string {
  const { laplace } = feature;
  const peak = Math.max(1, ...feature.histogram.counts);
  const histogram = feature.histogram.counts.map((count, bin) => {
    const low = feature.histogram.edges[bin]!;
    const bar = '#'.repeat(Math.round((40 * count) / peak));
    return `  ${formatNumber(low, 3).padStart(10)}  ${String(count).padStart(6)}  ${bar}`;
  });
  return [
    `run ${run.id} (${run.method}), feature ${feature.index}`,
    `  density ${formatNumber(feature.density)}  mean ${formatNumber(feature.mean)}  max ` +
      `${formatNumber(feature.max)}  kurtosis ${formatNumber(feature.kurtosis)}  atom norm ` +
      `${formatNumber(feature.atomNorm)}`,
    `  Laplace fit (${laplace.kind}` +
      (laplace.kind === 'one-sided' ? ', exponential on the nonzero activations' : '') +
      '): ' +
      `location ${formatNumber(laplace.location)}  scale ${formatNumber(laplace.scale)}  KS ` +
      `${formatNumber(laplace.ksDistance)}  LLR vs Gaussian ` +
      `${formatNumber(laplace.logLikelihoodRatio)}`,
    '  quantiles of the nonzero activations: ' +
      feature.quantiles.map((q) => `q${q.q * 100} ${formatNumber(q.value, 3)}`).join('  '),
    '',
    '  histogram of the nonzero activations (bin start, count):',
    ...histogram,
    '',
    '  top activating rows:',
    ...feature.topExamples.map(
      (example) =>
        `  ${String(example.row).padStart(8)}  ${formatNumber(example.value, 4).padStart(10)}  ` +
        `${shortLabel(example.label, 70)}`,
    ),
  ].join('\n');
}
