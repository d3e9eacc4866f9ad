/** Data access and a training loop shared by the ICA benchmarks. */
import type { RunConfig } from '../src/shared/methods';
import { Random } from '../src/shared/random';
import type { MethodDefinition, Trainer } from '../src/worker/methods/method';
import { readFloat32Npy } from '../test/support/npy';
import { summarise } from '../test/unit/ica/helpers';

export { readFloat32Npy, summarise };

/**
 * Trains `method` on the first `trainRows` rows (shuffled with the config's seed each epoch),
 * returning the trainer and the CPU and wall seconds spent in `step`.
 */
export function trainOn<C extends RunConfig>(
  method: MethodDefinition<C>,
  config: C,
  data: Float32Array,
  trainRows: number,
  dimensions: number,
  onStep?: (step: number, losses: Record<string, number>) => void,
): { trainer: Trainer; wallSeconds: number; cpuSeconds: number } {
  const random = new Random(config.seed);
  const trainer = method.create({
    config,
    data: summarise(data, trainRows, dimensions),
    initialRows: data.subarray(0, Math.min(trainRows, 4096) * dimensions),
    initialRowCount: Math.min(trainRows, 4096),
    random: random.fork(),
  });
  const batch = new Float32Array(config.batchSize * dimensions);
  let order = random.permutation(trainRows);
  let cursor = 0;
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  for (let step = 0; step < config.steps; step++) {
    for (let b = 0; b < config.batchSize; b++) {
      if (cursor === trainRows) {
        order = random.permutation(trainRows);
        cursor = 0;
      }
      const row = order[cursor++]!;
      batch.set(data.subarray(row * dimensions, (row + 1) * dimensions), b * dimensions);
    }
    const report = trainer.step(batch, config.batchSize, step);
    onStep?.(step, report.losses);
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    trainer,
    wallSeconds: (performance.now() - wallStart) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
