/**
 * The sparse kernels (active atoms only) and the dense products give the same loss and
 * gradients whatever the code density, so the pass may choose either from the density it
 * measures (passes.ts, SPARSE_DENSITY_LIMIT).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import { initializeBackend } from '../../../src/worker/backend';
import type { Architecture } from '../../../src/worker/sae/parameters';
import { PARAMETER_NAMES, zeroParameters } from '../../../src/worker/sae/parameters';
import type { PassSettings } from '../../../src/worker/sae/passes';
import { lossAndGradients } from '../../../src/worker/sae/passes';

/** float32 sums in another order (tfjs products against sums per entry). */
const RELATIVE_TOLERANCE = 1e-5;
const DIMENSIONS = 24;
const FEATURES = 96;
const ROWS = 40;

beforeAll(async () => {
  await initializeBackend();
});

const cases: { architecture: Architecture; biasShift: number; density: [number, number] }[] = [
  // Untrained ReLU (about half the codes active) and a trained-like one (a few percent).
  { architecture: 'relu', biasShift: 0, density: [0.3, 0.7] },
  { architecture: 'relu', biasShift: -1.8, density: [0.005, 0.08] },
  { architecture: 'topk', biasShift: 0, density: [0.03, 0.05] },
  { architecture: 'batchtopk', biasShift: 0, density: [0.03, 0.05] },
  { architecture: 'jumprelu', biasShift: -1.8, density: [0.005, 0.08] },
];

describe('sparse and dense routes give the same gradients', () => {
  for (const c of cases) {
    test(`${c.architecture}, encoder bias ${c.biasShift}`, () => {
      const random = new Random(5);
      const p = zeroParameters(DIMENSIONS, FEATURES);
      for (const name of ['encoderT', 'decoder'] as const) {
        for (let i = 0; i < p[name].length; i++) {
          p[name][i] = random.gaussian() / Math.sqrt(DIMENSIONS);
        }
      }
      for (let j = 0; j < FEATURES; j++) p.encoderBias[j] = 0.1 * random.gaussian() + c.biasShift;
      for (let j = 0; j < FEATURES; j++) p.threshold[j] = 0.05 + 0.1 * random.uniform();
      const batch = Float32Array.from({ length: ROWS * DIMENSIONS }, () => random.gaussian());
      const settings: PassSettings = {
        architecture: c.architecture,
        k: 3,
        l1: 0.7,
        sparsity: 0.3,
        bandwidth: 0.2,
        auxK: 4,
        auxCoefficient: 0.25,
        dead: Uint8Array.from({ length: FEATURES }, (_, j) => (j % 5 === 0 ? 1 : 0)),
      };

      const sparse = lossAndGradients(p, batch, ROWS, { ...settings, route: 'sparse' });
      const dense = lossAndGradients(p, batch, ROWS, { ...settings, route: 'dense' });

      const density = sparse.codes.value.length / (ROWS * FEATURES);
      expect(density).toBeGreaterThanOrEqual(c.density[0]);
      expect(density).toBeLessThanOrEqual(c.density[1]);
      expect(Array.from(sparse.codes.index)).toEqual(Array.from(dense.codes.index));
      for (const name of Object.keys(dense.losses)) {
        expect(sparse.losses[name], name).toBeCloseTo(dense.losses[name]!, 5);
      }
      for (const name of PARAMETER_NAMES) {
        const expected = dense.gradients[name];
        const actual = sparse.gradients[name];
        let scale = 0;
        let worst = 0;
        for (let i = 0; i < expected.length; i++) {
          scale = Math.max(scale, Math.abs(expected[i]!));
          worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
        }
        expect(worst, `${name}: worst ${worst}, scale ${scale}`).toBeLessThanOrEqual(
          RELATIVE_TOLERANCE * Math.max(scale, 1e-3),
        );
      }
    });
  }
});
