/**
 * Synthetic data with known features (spec/overcomplete-ica.md section 6): the one
 * benchmark on which ICA and SAEs are scored the same way.
 *
 *     x = F c + noise N(0, I),   F (L x M_true) with unit Gaussian columns,
 *     c_i != 0 with probability p_i, its magnitude Laplacian(0, 1) or Uniform(0, 1).
 *
 * p_i is k / M_true for every feature ('uniform'), or proportional to 0.99^i rescaled so the
 * expected number of active features per row is k ('decaying'; capped at 1). Everything is
 * drawn from one seeded Random, so the options reproduce the data exactly.
 */
import { inputError } from '../../shared/errors';
import { Random } from '../../shared/random';

export interface PlantedOptions {
  dimensions: number;
  features: number;
  /** Expected number of active features per row (k). */
  activePerRow: number;
  rows: number;
  magnitudes: 'laplacian' | 'uniform';
  probabilities: 'uniform' | 'decaying';
  /** Standard deviation of the additive Gaussian noise. */
  noise: number;
  seed: number;
}

export interface PlantedData {
  /** rows x dimensions, row-major. */
  data: Float32Array;
  /** The planted features as unit rows, features x dimensions. */
  truth: Float32Array;
  /** Per-feature activation probability (features). */
  probabilities: Float64Array;
  options: PlantedOptions;
}

export function generatePlanted(options: PlantedOptions): PlantedData {
  const { dimensions: l, features: m, activePerRow: k, rows: n, noise } = options;
  checkOptions(options);
  const random = new Random(options.seed);

  // Unit Gaussian features, as rows.
  const truth = new Float32Array(m * l);
  const column = new Float64Array(l);
  for (let j = 0; j < m; j++) {
    let squaredNorm = 0;
    do {
      squaredNorm = 0;
      for (let i = 0; i < l; i++) {
        column[i] = random.gaussian();
        squaredNorm += column[i]! * column[i]!;
      }
    } while (squaredNorm === 0);
    const norm = Math.sqrt(squaredNorm);
    for (let i = 0; i < l; i++) truth[j * l + i] = column[i]! / norm;
  }

  const probabilities = activationProbabilities(m, k, options.probabilities);

  // Rows: sparse sums of features plus noise.
  const data = new Float32Array(n * l);
  const row = new Float64Array(l);
  for (let r = 0; r < n; r++) {
    row.fill(0);
    for (let j = 0; j < m; j++) {
      if (random.uniform() >= probabilities[j]!) continue;
      const magnitude = options.magnitudes === 'laplacian' ? random.laplacian(1) : random.uniform();
      for (let i = 0; i < l; i++) row[i] = row[i]! + magnitude * truth[j * l + i]!;
    }
    for (let i = 0; i < l; i++) {
      data[r * l + i] = row[i]! + (noise > 0 ? noise * random.gaussian() : 0);
    }
  }
  return { data, truth, probabilities, options: { ...options } };
}

/** p_i: k / M each, or 0.99^i rescaled to sum to k, each capped at 1. */
export function activationProbabilities(
  features: number,
  activePerRow: number,
  kind: PlantedOptions['probabilities'],
): Float64Array {
  const probabilities = new Float64Array(features);
  if (kind === 'uniform') return probabilities.fill(activePerRow / features);
  let total = 0;
  for (let i = 0; i < features; i++) total += 0.99 ** i;
  for (let i = 0; i < features; i++) {
    probabilities[i] = Math.min(1, (activePerRow * 0.99 ** i) / total);
  }
  return probabilities;
}

function checkOptions(options: PlantedOptions): void {
  const { dimensions, features, activePerRow, rows, noise } = options;
  const whole = (value: number, name: string, minimum: number): void => {
    if (!Number.isInteger(value) || value < minimum) {
      throw inputError(`generate: ${name} must be a whole number >= ${minimum}, got ${value}`);
    }
  };
  whole(dimensions, 'dimensions', 1);
  whole(features, 'features', 1);
  whole(rows, 'rows', 0);
  if (!(activePerRow > 0 && activePerRow <= features)) {
    throw inputError(
      `generate: active features per row must be in (0, ${features}], got ${activePerRow}`,
    );
  }
  if (!(noise >= 0 && Number.isFinite(noise))) {
    throw inputError(`generate: noise must be a finite number >= 0, got ${noise}`);
  }
  if (!Number.isInteger(options.seed)) {
    throw inputError(`generate: seed must be a whole number, got ${options.seed}`);
  }
}
