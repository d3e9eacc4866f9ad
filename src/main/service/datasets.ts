/**
 * Opening a dataset: read the header through the format readers, fingerprint it, compute
 * its statistics (once per fingerprint: a file seen before reuses them), check the label
 * file and the image shape, and record it.
 */
import { resolve } from 'node:path';
import type { OpenOptions } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { fingerprintSource } from '../formats/fingerprint';
import { openActivations } from '../formats/open';
import { computeStatistics } from '../formats/statistics';
import type { DatasetRecord } from '../store/datasets';
import type { Store } from '../store/store';
import type { LabelCache } from './labelCache';
import { createLogger } from './log';

const log = createLogger('datasets');

export async function openAndRecordDataset(
  store: Store,
  labels: LabelCache,
  path: string,
  options: OpenOptions,
): Promise<DatasetRecord> {
  const absolutePath = resolve(path);
  const labelsPath = options.labels === undefined ? null : resolve(options.labels);
  const source = await openActivations(absolutePath, options);
  try {
    const description = source.description;
    if (description.rows === 0 || description.columns === 0) {
      throw inputError(
        `${absolutePath}: the activations are empty (${description.rows} x ` +
          `${description.columns}); nothing to train on`,
      );
    }
    if (
      options.imageShape &&
      options.imageShape[0] * options.imageShape[1] !== description.columns
    ) {
      throw inputError(
        `image shape ${options.imageShape.join(' x ')} does not match the ` +
          `${description.columns} columns`,
      );
    }
    if (labelsPath !== null) await labels.get(labelsPath, description.rows);

    const fingerprint = await fingerprintSource(source);
    const known = store.datasets
      .list()
      .find(
        (dataset) =>
          dataset.fingerprint === fingerprint &&
          dataset.path === absolutePath &&
          dataset.tensor === description.tensor,
      );
    const startedMs = performance.now();
    const statistics = known?.statistics ?? (await computeStatistics(source));
    if (!known) {
      log.info(
        `statistics of ${absolutePath} (${description.rows} x ${description.columns}) in ${(
          (performance.now() - startedMs) /
          1000
        ).toFixed(1)} s`,
      );
    }
    const openOptions: OpenOptions = { ...options };
    delete openOptions.labels;
    return store.datasets.save({
      path: absolutePath,
      format: description.format,
      tensor: description.tensor,
      dtype: description.dtype,
      shape: description.shape,
      rows: description.rows,
      columns: description.columns,
      bytes: description.dataBytes,
      fingerprint,
      openOptions,
      labelsPath: labelsPath ?? known?.labelsPath ?? null,
      imageShape: options.imageShape ?? known?.imageShape ?? null,
      statistics,
    });
  } finally {
    await source.close();
  }
}
