/**
 * Real-data results for docs/ica.md: bits per dimension of complete and 2x overcomplete
 * ICA bases on held-out rows, with default settings apart from the number of features.
 *   natural image patches (8 x 8, L = 64): M = 64 and 128, and a picture of the 2x atoms
 *   stories260K MLP activations (L = 172): M = 172 and 344
 * Select one with DATASET=patches or DATASET=stories; ALPHA overrides the default alpha.
 */
import { cpus } from 'node:os';
import { it } from 'vitest';
import { defaultRunConfig } from '../src/shared/runConfig';
import type { CompleteIcaConfig, IcaConfig } from '../src/shared/methods';
import { icaMethod } from '../src/worker/ica/method';
import { completeIcaMethod } from '../src/worker/ica/complete';
import { readFloat32Npy, trainOn } from './ica-data';
import { atomTiles, writeGrayPng } from './ica-png';

const DATASETS = {
  patches: '../shared/data/natural_images/patches_8x8_gray_20000x64_f32.npy',
  stories: '../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy',
};
const HELD_OUT = 2048;

it('reports bits per dimension of 1x and 2x bases', () => {
  const dataset = (process.env.DATASET ?? 'patches') as keyof typeof DATASETS;
  const { data, rows, columns } = readFloat32Npy(DATASETS[dataset]);
  const trainRows = rows - HELD_OUT;
  const heldOut = data.subarray(trainRows * columns);
  console.log(
    `${dataset}: ${rows} x ${columns}, ${HELD_OUT} rows held out, ${cpus().length} cores`,
  );

  const complete = defaultRunConfig('ica-complete', columns) as CompleteIcaConfig;
  const completeRun = trainOn(completeIcaMethod, complete, data, trainRows, columns);
  const completeExtras = completeRun.trainer.model().evaluationExtras!(heldOut, HELD_OUT);
  console.log(
    `ica-complete M=${columns}: ${completeExtras.bitsPerDimension.toFixed(3)} bits/dim (exact likelihood), ` +
      `${completeRun.cpuSeconds.toFixed(1)} s CPU`,
  );

  for (const multiple of [1, 2]) {
    const defaults = defaultRunConfig('ica', columns) as IcaConfig;
    const alpha = process.env.ALPHA ? Number(process.env.ALPHA) : defaults.alpha;
    const config = { ...defaults, features: multiple * columns, alpha };
    const run = trainOn(icaMethod, config, data, trainRows, columns);
    const model = run.trainer.model();
    const start = performance.now();
    const extras = model.evaluationExtras!(heldOut, HELD_OUT);
    const codes = model.encode(heldOut, HELD_OUT);
    let active = 0;
    for (const value of codes) if (value !== 0) active++;
    console.log(
      `ica M=${config.features} (${multiple}x, alpha ${alpha}): ${extras.bitsPerDimension.toFixed(3)} bits/dim, ` +
        `mean active ${(active / HELD_OUT).toFixed(1)}, KKT/alpha ${extras.kktResidual.toExponential(1)}, ` +
        `train ${run.cpuSeconds.toFixed(1)} s CPU (${run.wallSeconds.toFixed(1)} s wall), ` +
        `evaluation ${((performance.now() - start) / 1000).toFixed(1)} s, warnings: ${run.trainer.warnings().join('; ') || 'none'}`,
    );
    if (dataset === 'patches' && multiple === 2) {
      const { pixels, width, height } = atomTiles(model.atoms(), config.features, 8, 16, 4);
      writeGrayPng('docs/ica-patches-2x.png', pixels, width, height);
    }
  }
});
