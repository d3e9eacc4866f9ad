/** The `ica` and `ica-complete` methods as the training loop sees them. */
import { describe, expect, it } from 'vitest';
import { generatePlanted } from '../../../src/main/generate/planted';
import { recoveryScores } from '../../../src/main/analysis/recovery';
import { Random } from '../../../src/shared/random';
import type { NamedTensors } from '../../../src/shared/tensors';
import { completeIcaMethod } from '../../../src/worker/ica/complete';
import { icaMethod } from '../../../src/worker/ica/method';
import { completeConfig, contextFor, icaConfig, train } from './helpers';

/** Stored checkpoints travel as float32 copies; simulate that. */
function copyCheckpoint(checkpoint: NamedTensors): NamedTensors {
  return Object.fromEntries(
    Object.entries(checkpoint).map(([name, { shape, values }]) => [
      name,
      { shape: [...shape], values: Float32Array.from(values) },
    ]),
  );
}

const dimensions = 8;
const rows = 3000;
const planted = generatePlanted({
  dimensions,
  features: 16,
  activePerRow: 2,
  rows,
  magnitudes: 'laplacian',
  probabilities: 'uniform',
  noise: 0.01,
  seed: 5,
});
// Raw units far from ICA's own: an offset and a large scale that the method must fold back.
const raw = planted.data.map((value, index) => 100 * value + (index % dimensions) - 3);

describe('ica method', () => {
  it('resumes from a checkpoint exactly', () => {
    const config = icaConfig(dimensions, {
      features: 16,
      alpha: 0.1,
      batchSize: 64,
      reinitializeDead: true,
    });
    const original = icaMethod.create(contextFor(config, raw, rows, dimensions));
    train(original, raw, rows, dimensions, 64, 30);
    const saved = copyCheckpoint(original.checkpoint());
    const restored = icaMethod.restore(contextFor(config, raw, rows, dimensions), saved);
    train(original, raw, rows, dimensions, 64, 20, 30);
    train(restored, raw, rows, dimensions, 64, 20, 30);
    expect([...restored.checkpoint().dictionary!.values]).toEqual([
      ...original.checkpoint().dictionary!.values,
    ]);
    expect(restored.checkpoint().theta!.values[0]).toBe(original.checkpoint().theta!.values[0]);
  });

  it('speaks raw units: decode(encode(x)) approximates x and atoms match the model', () => {
    const config = icaConfig(dimensions, { features: 16, alpha: 0.02, batchSize: 128 });
    const trainer = icaMethod.create(contextFor(config, raw, rows, dimensions));
    train(trainer, raw, rows, dimensions, 128, 150);
    const model = trainer.model();
    const batch = raw.subarray(0, 200 * dimensions);
    const codes = model.encode(batch, 200);
    const reconstruction = model.decode(codes, 200);

    let error = 0;
    let variance = 0;
    for (let r = 0; r < 200; r++) {
      for (let i = 0; i < dimensions; i++) {
        const centred = batch[r * dimensions + i]! - (i - 3);
        error += (batch[r * dimensions + i]! - reconstruction[r * dimensions + i]!) ** 2;
        variance += centred * centred;
      }
    }
    expect(error / variance).toBeLessThan(0.05);

    // decode is codes times atoms() plus the data mean.
    const atoms = model.atoms();
    const { b_dec: mean, W_dec, approximateEncoder, architecture } = model.saeLens();
    expect(approximateEncoder).toBe(true);
    expect(architecture).toBe('standard');
    expect([...W_dec]).toEqual([...atoms]);
    for (let i = 0; i < dimensions; i++) {
      let value = mean[i]!;
      for (let j = 0; j < 16; j++) value += codes[j]! * atoms[j * dimensions + i]!;
      expect(value).toBeCloseTo(reconstruction[i]!, 3);
    }

    const recovery = recoveryScores(planted.truth, 16, atoms, 16, dimensions);
    expect(recovery.mmcs).toBeGreaterThan(0.9);
  });

  it('evaluates codes to the KKT tolerance and reports bits per dimension', () => {
    const config = icaConfig(dimensions, { features: 16, alpha: 0.1, batchSize: 64 });
    const trainer = icaMethod.create(contextFor(config, raw, rows, dimensions));
    train(trainer, raw, rows, dimensions, 64, 40);
    const extras = trainer.model().evaluationExtras!(raw.subarray(0, 500 * dimensions), 500);
    expect(extras.kktResidual).toBeLessThanOrEqual(1e-6);
    expect(Number.isFinite(extras.bitsPerDimension)).toBe(true);
    const model = icaMethod.modelFromCheckpoint(config, dimensions, trainer.checkpoint());
    expect([...model.atoms()]).toEqual([...trainer.model().atoms()]);
  });

  it('refuses a batch holding NaN and leaves the basis alone on an empty batch', () => {
    const config = icaConfig(dimensions, { features: 16 });
    const trainer = icaMethod.create(contextFor(config, raw, rows, dimensions));
    const before = [...trainer.checkpoint().dictionary!.values];
    const batch = raw.slice(0, 4 * dimensions);
    batch[2 * dimensions + 5] = NaN;
    expect(() => trainer.step(batch, 4, 0)).toThrow(/row 2 of the batch at step 0 .* column 5/);
    trainer.step(new Float32Array(0), 0, 0);
    expect([...trainer.checkpoint().dictionary!.values]).toEqual(before);
  });

  it('refuses a checkpoint of another configuration', () => {
    const config = icaConfig(dimensions, { features: 16 });
    const trainer = icaMethod.create(contextFor(config, raw, rows, dimensions));
    const other = icaConfig(dimensions, { features: 24 });
    expect(() => icaMethod.modelFromCheckpoint(other, dimensions, trainer.checkpoint())).toThrow(
      /tensor "dictionary".*does not belong to this configuration/,
    );
  });
});

describe('ica-complete method', () => {
  it('separates a square Laplacian mixture and resumes exactly', () => {
    const random = new Random(12);
    const l = 3;
    const n = 6000;
    const mixing = [1, 0.6, 0.2, -0.3, 1, 0.5, 0.4, -0.2, 1];
    const data = new Float32Array(n * l);
    for (let r = 0; r < n; r++) {
      const s = [random.laplacian(1), random.laplacian(1), random.laplacian(1)];
      for (let i = 0; i < l; i++) {
        data[r * l + i] =
          5 + mixing[i * l]! * s[0]! + mixing[i * l + 1]! * s[1]! + mixing[i * l + 2]! * s[2]!;
      }
    }
    const truth = new Float32Array(l * l);
    for (let j = 0; j < l; j++) for (let i = 0; i < l; i++) truth[j * l + i] = mixing[i * l + j]!;

    const config = completeConfig(l, { batchSize: 200, learningRate: 0.05 });
    const trainer = completeIcaMethod.create(contextFor(config, data, n, l));
    train(trainer, data, n, l, 200, 300);
    const saved = copyCheckpoint(trainer.checkpoint());
    const restored = completeIcaMethod.restore(contextFor(config, data, n, l), saved);
    train(trainer, data, n, l, 200, 200, 300);
    train(restored, data, n, l, 200, 200, 300);
    expect([...restored.checkpoint().unmixing!.values]).toEqual([
      ...trainer.checkpoint().unmixing!.values,
    ]);

    const model = trainer.model();
    expect(recoveryScores(truth, l, model.atoms(), l, l).mmcs).toBeGreaterThan(0.98);
    const codes = model.encode(data.subarray(0, 10 * l), 10);
    const back = model.decode(codes, 10);
    for (let i = 0; i < 10 * l; i++) expect(back[i]).toBeCloseTo(data[i]!, 3);
    expect(Number.isFinite(model.evaluationExtras!(data, 1000).bitsPerDimension)).toBe(true);
  });
});
