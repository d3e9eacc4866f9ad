/**
 * The tensor formulation of the SAE step (the one the WebGPU worker runs) against the CPU
 * trainer, on tfjs's plain-JavaScript backend in Node: the same losses and parameters within
 * float32 tolerances. test/e2e/sae-webgpu.test.ts runs the same comparison on WebGPU.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TensorSaeTrainer } from '../../../src/gpu/saeTensorTrainer';
import type { GpuStepLosses } from '../../../src/gpu/protocol';
import { expectMatches, referenceRun } from './reference';

const SIZES = { dimensions: 12, features: 48, rows: 40, steps: 6 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('TensorSaeTrainer on the cpu backend', () => {
  for (const method of ['sae-topk', 'sae-relu'] as const) {
    it(`${method}: equals the CPU trainer within float32 tolerances`, async () => {
      const reference = referenceRun(method, SIZES);
      const tensorsBefore = tf.memory().numTensors;
      const trainer = new TensorSaeTrainer(
        reference.config,
        reference.initial,
        reference.inputScale,
      );
      const losses: GpuStepLosses[] = [];
      for (const [step, batch] of reference.batches.entries()) {
        losses.push(await trainer.step(batch, reference.rows, step));
      }
      expectMatches(reference, losses, await trainer.parameters());
      if (method === 'sae-topk') {
        // The window is short enough that the auxiliary loss of dead features takes part.
        expect(losses.some((step) => step.aux !== undefined)).toBe(true);
      }
      trainer.dispose();
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });
  }
});
