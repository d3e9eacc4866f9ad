/** basis inspect FILE: shape, dtype, size and statistics of an activation file, recorded. */
import type { Command } from '../command';
import { DATASET_OPTIONS, openOptionsFrom } from '../datasetOptions';
import { formatBytes, formatNumber, shortLabel } from '../format';
import { print } from '../output';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show the shape, dtype, size and statistics of an activation file',
  usage: 'basis inspect FILE [--tensor T] [--member M] [--dtype D] [--shape R,C] [--labels FILE]',
  options: DATASET_OPTIONS,
  positionals: { names: ['FILE'], required: 1 },
  async run(context) {
    const service = context.service();
    const dataset = await service.openDataset(
      context.positionals[0]!,
      openOptionsFrom(context.options),
    );
    const labels = await service.previewLabels(dataset.id, 0, 3);
    const { statistics } = dataset;
    const meanVariance =
      statistics.variance.reduce((sum, value) => sum + value, 0) / Math.max(1, dataset.columns);
    print(context, { ...dataset, labelPreview: labels }, () =>
      [
        `dataset ${dataset.id}: ${dataset.path}`,
        `  format ${dataset.format}${dataset.tensor ? ` (${dataset.tensor})` : ''}, ` +
          `dtype ${dataset.dtype}, shape [${dataset.shape.join(', ')}]`,
        `  ${dataset.rows} rows x ${dataset.columns} columns, ${formatBytes(dataset.bytes)}`,
        `  mean row norm ${formatNumber(statistics.meanNorm)}, mean column variance ` +
          `${formatNumber(meanVariance)}`,
        statistics.nonfiniteRows > 0
          ? `  ${statistics.nonfiniteRows} row(s) hold NaN or infinity ` +
            `(first: ${statistics.nonfiniteRowIndices.slice(0, 5).join(', ')}); ` +
            'train with --skip-nonfinite to drop them'
          : '  every row is finite',
        `  fingerprint ${dataset.fingerprint.slice(0, 16)}`,
        dataset.labelsPath ? `  labels ${dataset.labelsPath}` : '  no labels (add --labels FILE)',
        ...labels.map((label) => `    row ${label.row}: ${shortLabel(label.label, 60)}`),
      ].join('\n'),
    );
  },
};
