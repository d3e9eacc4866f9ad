/**
 * `ica` with DEFAULT settings (2x overcomplete) on the stories260K MLP activations: the
 * wall and CPU time of training and of the evaluation pass, and the held-out figures.
 */
import { cpus } from 'node:os';
import { it } from 'vitest';
import { defaultRunConfig } from '../src/shared/runConfig';
import type { IcaConfig } from '../src/shared/methods';
import { icaMethod } from '../src/worker/ica/method';
import { readFloat32Npy, trainOn } from './ica-data';

const PATH = '../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy';

it('trains ica with default settings on stories260K activations', () => {
  const { data, rows, columns } = readFloat32Npy(PATH);
  const config = defaultRunConfig('ica', columns) as IcaConfig;
  const held = 2048;
  const trainRows = rows - held;
  const { trainer, wallSeconds, cpuSeconds } = trainOn(
    icaMethod,
    config,
    data,
    trainRows,
    columns,
    (step, losses) => {
      if (step % 50 === 0) console.log(`step ${step}`, JSON.stringify(losses));
    },
  );
  console.log(
    `training: ${config.steps} steps of ${config.batchSize} rows, ${wallSeconds.toFixed(1)} s ` +
      `wall, ${cpuSeconds.toFixed(1)} s CPU, ${cpus().length} cores`,
  );
  const model = trainer.model();
  const heldOut = data.subarray(trainRows * columns);
  const start = performance.now();
  const extras = model.evaluationExtras!(heldOut, held);
  console.log(
    `evaluation of ${held} rows: ${((performance.now() - start) / 1000).toFixed(1)} s`,
    extras,
  );
  console.log('warnings', trainer.warnings());
});
