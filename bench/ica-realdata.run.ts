/**
 * Real-data results for docs/ica.md: bits per dimension of complete and 2x overcomplete
 * ICA bases on held-out rows, with default settings apart from the number of features.
 *   natural image patches (8 x 8): each patch's mean (DC) is removed, as is usual for ICA
 *     on images, and the 63-dimensional remainder is expressed in an orthonormal basis of
 *     the DC-free subspace (so L = 63, M = 63 and 126; an orthonormal change of basis leaves
 *     bits per dimension comparable); the 2x atoms are mapped back to pixels for the picture
 *   stories260K MLP activations (L = 172): M = 172 and 344
 * Every basis is also scored by `dictionaryCodingCost` (the Laplace approximation with its
 * hyper-parameters chosen by the same rule for all): the complete basis, the 1x and 2x ICA
 * bases, and the decoder of a TopK SAE trained on the same rows (SAE=0 leaves it out).
 * Select one with DATASET=patches or DATASET=stories; ALPHA overrides the default alpha.
 */
import { cpus } from 'node:os';
import { it } from 'vitest';
import { defaultRunConfig } from '../src/shared/runConfig';
import type { CompleteIcaConfig, IcaConfig, SaeTopkConfig } from '../src/shared/methods';
import { initializeBackend } from '../src/worker/backend';
import type { FeatureModel } from '../src/worker/methods/method';
import { icaMethod } from '../src/worker/ica/method';
import { completeIcaMethod } from '../src/worker/ica/complete';
import { dictionaryCodingCost } from '../src/worker/ica/likelihood';
import { scalingFromSummary } from '../src/worker/ica/scaling';
import { saeTopkMethod } from '../src/worker/sae/methods';
import { readFloat32Npy, summarise, trainOn } from './ica-data';
import { atomTiles, writeGrayPng } from './ica-png';

const DATASETS = {
  patches: '../shared/data/natural_images/patches_8x8_gray_20000x64_f32.npy',
  stories: '../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy',
};
const HELD_OUT = 2048;
/** TopK SAE per dataset: features and k as in the README's table (k close to ICA's L0). */
const SAE = { patches: { multiple: 2, k: 9 }, stories: { multiple: 4, k: 16 } };

it('reports bits per dimension of 1x and 2x bases', async () => {
  const dataset = (process.env.DATASET ?? 'patches') as keyof typeof DATASETS;
  const file = readFloat32Npy(DATASETS[dataset]);
  const { rows } = file;
  const dcFree = dataset === 'patches' ? dcFreeBasis(file.columns) : undefined;
  const columns = dcFree ? file.columns - 1 : file.columns;
  const data = dcFree ? project(file.data, rows, file.columns, dcFree) : file.data;
  const trainRows = rows - HELD_OUT;
  const heldOut = data.subarray(trainRows * columns);
  console.log(
    `${dataset}: ${rows} x ${columns}, ${HELD_OUT} rows held out, ${cpus().length} cores`,
  );

  const scaling = scalingFromSummary(summarise(data, trainRows, columns));
  const defaultAlpha = (defaultRunConfig('ica', columns) as IcaConfig).alpha;
  const startAlpha = process.env.ALPHA ? Number(process.env.ALPHA) : defaultAlpha;
  /** The same rule for every dictionary: dictionaryCodingCost's search from startAlpha. */
  const scoreAtoms = (name: string, model: FeatureModel): void => {
    const start = performance.now();
    const cost = dictionaryCodingCost({
      atoms: model.atoms(),
      features: model.features,
      dimensions: columns,
      rows: heldOut,
      rowCount: HELD_OUT,
      scaling,
      alpha: startAlpha,
    });
    console.log(
      `${name} scored as a dictionary: ${cost.bitsPerDimension.toFixed(3)} bits/dim at ` +
        `alpha ${cost.alpha.toPrecision(3)}, lambda ${cost.lambda.toPrecision(3)}, ` +
        `theta ${cost.theta.toPrecision(3)}, mean active ${cost.meanActive.toFixed(1)} ` +
        `(${((performance.now() - start) / 1000).toFixed(1)} s)`,
    );
  };

  const complete = defaultRunConfig('ica-complete', columns) as CompleteIcaConfig;
  const completeRun = trainOn(completeIcaMethod, complete, data, trainRows, columns);
  const completeExtras = completeRun.trainer.model().evaluationExtras!(heldOut, HELD_OUT);
  console.log(
    `ica-complete M=${columns}: ${completeExtras.bitsPerDimension.toFixed(3)} bits/dim (exact likelihood), ` +
      `${completeRun.cpuSeconds.toFixed(1)} s CPU`,
  );
  scoreAtoms(`ica-complete M=${columns}`, completeRun.trainer.model());

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
        `evaluation ${((performance.now() - start) / 1000).toFixed(1)} s, warnings: ` +
        `${run.trainer.warnings().join('; ') || 'none'}`,
    );
    scoreAtoms(`ica M=${config.features}`, model);
    if (dataset === 'patches' && multiple === 2) {
      const atoms = model.atoms();
      const pixelAtoms = new Float32Array(config.features * 64);
      for (let j = 0; j < config.features; j++) {
        for (let p = 0; p < 64; p++) {
          let value = 0;
          for (let q = 0; q < columns; q++) value += atoms[j * columns + q]! * dcFree![q * 64 + p]!;
          pixelAtoms[j * 64 + p] = value;
        }
      }
      const { pixels, width, height } = atomTiles(pixelAtoms, config.features, 8, 16, 4);
      writeGrayPng('docs/ica-patches-2x.png', pixels, width, height);
    }
  }

  if (process.env.SAE !== '0') {
    const backend = await initializeBackend();
    const { multiple, k } = SAE[dataset];
    const defaults = defaultRunConfig('sae-topk', columns) as SaeTopkConfig;
    const config = { ...defaults, features: multiple * columns, k };
    const run = trainOn(saeTopkMethod, config, data, trainRows, columns);
    console.log(
      `sae-topk M=${config.features} k=${k} (${backend}): train ${run.cpuSeconds.toFixed(1)} s ` +
        `CPU (${run.wallSeconds.toFixed(1)} s wall)`,
    );
    scoreAtoms(`sae-topk decoder M=${config.features}`, run.trainer.model());
  }
});

/** Orthonormal basis (rows, (n - 1) x n) of the vectors whose entries sum to zero. */
function dcFreeBasis(n: number): Float64Array {
  const basis = new Float64Array((n - 1) * n);
  for (let k = 0; k < n - 1; k++) {
    // Helmert contrast: k + 1 equal entries, then -(k + 1) at position k + 1.
    const norm = Math.sqrt((k + 1) * (k + 2));
    for (let p = 0; p <= k; p++) basis[k * n + p] = 1 / norm;
    basis[k * n + k + 1] = -(k + 1) / norm;
  }
  return basis;
}

/** Rows expressed in `basis` (rows x (n - 1)); removes each row's mean on the way. */
function project(data: Float32Array, rows: number, n: number, basis: Float64Array): Float32Array {
  const result = new Float32Array(rows * (n - 1));
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n - 1; k++) {
      let value = 0;
      for (let p = 0; p < n; p++) value += basis[k * n + p]! * data[r * n + p]!;
      result[r * (n - 1) + k] = value;
    }
  }
  return result;
}
