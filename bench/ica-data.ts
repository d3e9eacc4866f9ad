/** Data access and a training loop shared by the ICA benchmarks. */
import { readFileSync } from 'node:fs';
import type { RunConfig } from '../src/shared/methods';
import { Random } from '../src/shared/random';
import type { DataSummary, MethodDefinition, Trainer } from '../src/worker/methods/method';

/** Reads a little-endian float32, C-order, 2-D .npy file. */
export function readFloat32Npy(path: string): {
  data: Float32Array;
  rows: number;
  columns: number;
} {
  const bytes = readFileSync(path);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!header.includes("'<f4'") || !shape) throw new Error(`${path}: not a 2-D <f4 .npy`);
  const rows = Number(shape[1]);
  const columns = Number(shape[2]);
  const start = bytes.byteOffset + 10 + headerLength;
  const data = new Float32Array(bytes.buffer.slice(start, start + rows * columns * 4));
  return { data, rows, columns };
}

export function summarise(data: Float32Array, rows: number, dimensions: number): DataSummary {
  const mean = new Float64Array(dimensions);
  const variance = new Float64Array(dimensions);
  let meanSquaredNorm = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dimensions; i++) mean[i] = mean[i]! + data[r * dimensions + i]! / rows;
  }
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dimensions; i++) {
      const value = data[r * dimensions + i]!;
      variance[i] = variance[i]! + (value - mean[i]!) ** 2 / rows;
      meanSquaredNorm += (value * value) / rows;
    }
  }
  return {
    dimensions,
    mean: Float32Array.from(mean),
    variance: Float32Array.from(variance),
    meanSquaredNorm,
  };
}

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
