/** Shared set-up for the ICA tests: data summaries, contexts and a training loop. */
import { defaultRunConfig } from '../../../src/shared/runConfig';
import type { CompleteIcaConfig, IcaConfig } from '../../../src/shared/methods';
import { Random } from '../../../src/shared/random';
import type {
  DataSummary,
  MethodDefinition,
  Trainer,
  TrainerContext,
} from '../../../src/worker/methods/method';

export function summarise(data: Float32Array, rows: number, dimensions: number): DataSummary {
  const mean = new Float64Array(dimensions);
  const squares = new Float64Array(dimensions);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dimensions; i++) mean[i] = mean[i]! + data[r * dimensions + i]!;
  }
  for (let i = 0; i < dimensions; i++) mean[i] = mean[i]! / rows;
  let meanSquaredNorm = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dimensions; i++) {
      const value = data[r * dimensions + i]!;
      squares[i] = squares[i]! + (value - mean[i]!) ** 2;
      meanSquaredNorm += value * value;
    }
  }
  return {
    dimensions,
    mean: Float32Array.from(mean),
    variance: Float32Array.from(squares, (value) => value / rows),
    meanSquaredNorm: meanSquaredNorm / rows,
  };
}

export function icaConfig(dimensions: number, overrides: Partial<IcaConfig>): IcaConfig {
  return { ...(defaultRunConfig('ica', dimensions) as IcaConfig), ...overrides };
}

export function completeConfig(
  dimensions: number,
  overrides: Partial<CompleteIcaConfig>,
): CompleteIcaConfig {
  return { ...(defaultRunConfig('ica-complete', dimensions) as CompleteIcaConfig), ...overrides };
}

export function contextFor<C extends IcaConfig | CompleteIcaConfig>(
  config: C,
  data: Float32Array,
  rows: number,
  dimensions: number,
  initialRowCount = Math.min(rows, 4096),
): TrainerContext<C> {
  return {
    config,
    data: summarise(data, rows, dimensions),
    initialRows: data.subarray(0, initialRowCount * dimensions),
    initialRowCount,
    random: new Random(config.seed),
  };
}

/** Runs `steps` updates from `first` on consecutive (wrapping) batches of `data`. */
export function train(
  trainer: Trainer,
  data: Float32Array,
  rows: number,
  dimensions: number,
  batchSize: number,
  steps: number,
  first = 0,
): void {
  const batch = new Float32Array(batchSize * dimensions);
  for (let step = first; step < first + steps; step++) {
    for (let b = 0; b < batchSize; b++) {
      const row = (step * batchSize + b) % rows;
      batch.set(data.subarray(row * dimensions, (row + 1) * dimensions), b * dimensions);
    }
    trainer.step(batch, batchSize, step);
  }
}

export function createTrainer<C extends IcaConfig | CompleteIcaConfig>(
  method: MethodDefinition<C>,
  context: TrainerContext<C>,
): Trainer {
  return method.create(context);
}
