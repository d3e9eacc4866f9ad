import { describe, expect, it } from 'vitest';
import { activationProbabilities, generatePlanted } from '../../../src/main/generate/planted';
import type { PlantedOptions } from '../../../src/main/generate/planted';

const options: PlantedOptions = {
  dimensions: 16,
  features: 32,
  activePerRow: 3,
  rows: 4000,
  magnitudes: 'laplacian',
  probabilities: 'uniform',
  noise: 0,
  seed: 9,
};

describe('generatePlanted', () => {
  it('is reproducible from its options and returns them', () => {
    const first = generatePlanted(options);
    const second = generatePlanted(first.options);
    expect(first.options).toEqual(options);
    expect([...second.data]).toEqual([...first.data]);
    expect([...second.truth]).toEqual([...first.truth]);
    const other = generatePlanted({ ...options, seed: 10 });
    expect(other.data[0]).not.toBe(first.data[0]);
  });

  it('plants unit-norm features and rows that are sparse sums of them', () => {
    const { data, truth } = generatePlanted(options);
    for (let j = 0; j < options.features; j++) {
      let norm = 0;
      for (let i = 0; i < options.dimensions; i++) norm += truth[j * options.dimensions + i]! ** 2;
      expect(Math.sqrt(norm)).toBeCloseTo(1, 6);
    }
    // Without noise, E||x||^2 = k E[c^2] = 3 * 2 for Laplacian(0, 1) magnitudes, up to the
    // features' overlaps (zero mean) and sampling.
    let energy = 0;
    for (const value of data) energy += value * value;
    expect(energy / options.rows).toBeGreaterThan(5);
    expect(energy / options.rows).toBeLessThan(7);
  });

  it('uniform magnitudes are non-negative and noise adds the stated variance', () => {
    const clean = generatePlanted({ ...options, magnitudes: 'uniform' });
    const noisy = generatePlanted({ ...options, magnitudes: 'uniform', noise: 0.5 });
    let difference = 0;
    for (let i = 0; i < clean.data.length; i++)
      difference += (noisy.data[i]! - clean.data[i]!) ** 2;
    // The noise draws interleave with the others, so compare only the energy.
    let cleanEnergy = 0;
    let noisyEnergy = 0;
    for (let i = 0; i < clean.data.length; i++) {
      cleanEnergy += clean.data[i]! ** 2;
      noisyEnergy += noisy.data[i]! ** 2;
    }
    expect(difference).toBeGreaterThan(0);
    const addedPerValue = (noisyEnergy - cleanEnergy) / clean.data.length;
    expect(addedPerValue).toBeGreaterThan(0.2);
    expect(addedPerValue).toBeLessThan(0.3);
  });

  it('decaying probabilities follow 0.99^i and keep k features active on average', () => {
    const probabilities = activationProbabilities(512, 5, 'decaying');
    const total = probabilities.reduce((sum, value) => sum + value, 0);
    expect(total).toBeCloseTo(5, 9);
    expect(probabilities[100]! / probabilities[0]!).toBeCloseTo(0.99 ** 100, 9);
    expect([...activationProbabilities(4, 2, 'uniform')]).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('refuses impossible options with a message naming the field', () => {
    expect(() => generatePlanted({ ...options, activePerRow: 40 })).toThrow(
      /active features per row/,
    );
    expect(() => generatePlanted({ ...options, dimensions: 0 })).toThrow(/dimensions/);
    expect(() => generatePlanted({ ...options, noise: NaN })).toThrow(/noise/);
    expect(() => generatePlanted({ ...options, rows: 2.5 })).toThrow(/rows/);
  });

  it('handles zero rows', () => {
    expect(generatePlanted({ ...options, rows: 0 }).data.length).toBe(0);
  });
});
