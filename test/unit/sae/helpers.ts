/**
 * Shared pieces of the SAE tests: data summaries, a seeded planted-dictionary generator, and
 * training loops.
 */
import { Random } from '../../../src/shared/random';
import { defaultRunConfig } from '../../../src/shared/runConfig';
import type { RunConfig } from '../../../src/shared/methods';
import type { DataSummary, TrainerContext } from '../../../src/worker/methods/method';

export const STORIES_MLP = '../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy';

export function summarize(values: Float32Array, rows: number, dimensions: number): DataSummary {
  const mean = new Float64Array(dimensions);
  let squaredNorm = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dimensions; c++) {
      const v = values[r * dimensions + c]!;
      mean[c] = mean[c]! + v / rows;
      squaredNorm += v * v;
    }
  }
  const variance = new Float64Array(dimensions);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dimensions; c++) {
      variance[c] = variance[c]! + (values[r * dimensions + c]! - mean[c]!) ** 2 / rows;
    }
  }
  return {
    dimensions,
    mean: Float32Array.from(mean),
    variance: Float32Array.from(variance),
    meanSquaredNorm: squaredNorm / rows,
  };
}

/** Drops rows identical to row 0 of each story (position 0 is BOS in the stories data). */
export function dropBosRows(
  values: Float32Array,
  rows: number,
  dimensions: number,
  perStory = 256,
) {
  const kept: number[] = [];
  for (let r = 0; r < rows; r++) if (r % perStory !== 0) kept.push(r);
  const out = new Float32Array(kept.length * dimensions);
  kept.forEach((r, i) =>
    out.set(values.subarray(r * dimensions, (r + 1) * dimensions), i * dimensions),
  );
  return { rows: kept.length, values: out };
}

/**
 * Planted sparse data: `features` unit-norm random atoms in `dimensions`, each row the sum of
 * `active` of them with Laplacian magnitudes (absolute values, as SAE codes are nonnegative).
 */
export function plantedData(
  seed: number,
  rows: number,
  dimensions: number,
  features: number,
  active: number,
): { values: Float32Array; atoms: Float32Array } {
  const random = new Random(seed);
  const atoms = new Float32Array(features * dimensions);
  for (let j = 0; j < features; j++) {
    let norm = 0;
    for (let c = 0; c < dimensions; c++) {
      const v = random.gaussian();
      atoms[j * dimensions + c] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let c = 0; c < dimensions; c++)
      atoms[j * dimensions + c] = atoms[j * dimensions + c]! / norm;
  }
  const values = new Float32Array(rows * dimensions);
  for (let r = 0; r < rows; r++) {
    const chosen = new Set<number>();
    while (chosen.size < active) chosen.add(random.integer(features));
    for (const j of chosen) {
      const magnitude = Math.abs(random.laplacian(1));
      for (let c = 0; c < dimensions; c++) {
        values[r * dimensions + c] =
          values[r * dimensions + c]! + magnitude * atoms[j * dimensions + c]!;
      }
    }
  }
  return { values, atoms };
}

/** Mean over true atoms of the best |cos| with any learned atom (both features x dimensions). */
export function meanMaxCosine(
  truth: Float32Array,
  learned: Float32Array,
  dimensions: number,
): number {
  const trueCount = truth.length / dimensions;
  const learnedCount = learned.length / dimensions;
  const norms = new Float64Array(learnedCount);
  for (let i = 0; i < learnedCount; i++) {
    let s = 0;
    for (let c = 0; c < dimensions; c++) s += learned[i * dimensions + c]! ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  let total = 0;
  for (let j = 0; j < trueCount; j++) {
    let best = 0;
    let trueNorm = 0;
    for (let c = 0; c < dimensions; c++) trueNorm += truth[j * dimensions + c]! ** 2;
    trueNorm = Math.sqrt(trueNorm) || 1;
    for (let i = 0; i < learnedCount; i++) {
      let dot = 0;
      for (let c = 0; c < dimensions; c++)
        dot += truth[j * dimensions + c]! * learned[i * dimensions + c]!;
      best = Math.max(best, Math.abs(dot) / (trueNorm * norms[i]!));
    }
    total += best;
  }
  return total / trueCount;
}

export function contextFor<C extends RunConfig>(
  config: C,
  values: Float32Array,
  rows: number,
  dimensions: number,
): TrainerContext<C> {
  const initialRowCount = Math.min(rows, 4096);
  return {
    config,
    data: summarize(values, rows, dimensions),
    initialRows: values.slice(0, initialRowCount * dimensions),
    initialRowCount,
    random: new Random(config.seed),
  };
}

export function configFor<M extends RunConfig['method']>(
  method: M,
  dimensions: number,
  overrides: Partial<Extract<RunConfig, { method: M }>> = {},
): Extract<RunConfig, { method: M }> {
  return {
    ...(defaultRunConfig(method, dimensions) as Extract<RunConfig, { method: M }>),
    ...overrides,
  };
}

/** Batches drawn by a seeded shuffle of whole rows. */
export function* batches(
  values: Float32Array,
  rows: number,
  dimensions: number,
  batchSize: number,
  seed: number,
) {
  const random = new Random(seed);
  let order = random.permutation(rows);
  let position = 0;
  const batch = new Float32Array(batchSize * dimensions);
  for (;;) {
    for (let b = 0; b < batchSize; b++) {
      if (position === rows) {
        order = random.permutation(rows);
        position = 0;
      }
      const r = order[position++]!;
      batch.set(values.subarray(r * dimensions, (r + 1) * dimensions), b * dimensions);
    }
    yield batch;
  }
}

/** Whether two float arrays hold the same bits. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}
