import { it } from 'vitest';
import { icaMethod } from '../../../src/worker/ica/method';
import { contextFor, icaConfig, readFloat32Npy } from './helpers';

it('real timing', () => {
  const { data, rows, columns } = readFloat32Npy('../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy');
  const alpha = Number(process.env.ALPHA ?? 0.2);
  const config = icaConfig(columns, { features: 344, alpha });
  const trainer = icaMethod.create(contextFor(config, data, rows, columns));
  const batch = new Float32Array(256 * columns);
  const start = performance.now();
  for (let step = 0; step < 40; step++) {
    for (let b = 0; b < 256; b++) { const r = (step * 256 + b * 7919) % rows; batch.set(data.subarray(r * columns, (r + 1) * columns), b * columns); }
    const report = trainer.step(batch, 256, step);
    if (step % 10 === 0 || step === 39) process.stderr.write(`\nstep ${step} ${JSON.stringify(report.losses)} ${(performance.now() - start).toFixed(0)} ms`);
  }
});
