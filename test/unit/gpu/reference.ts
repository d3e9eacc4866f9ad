/**
 * The CPU reference for the tensor SAE step (src/gpu/saeTensorTrainer.ts): a
 * few steps of the CPU trainer (src/worker/sae) from its seeded initial state on seeded
 * batches, and the tolerances within which another engine must match it.
 */
import { expect } from 'vitest';
import type { SaeReluConfig, SaeTopkConfig } from '../../../src/shared/methods';
import { Random } from '../../../src/shared/random';
import type { GpuSaeParameters, GpuStepLosses } from '../../../src/gpu/protocol';
import { transpose } from '../../../src/worker/sae/transpose';
import { saeReluMethod, saeTopkMethod } from '../../../src/worker/sae/methods';
import { configFor, contextFor } from '../sae/helpers';

/**
 * Float32 tolerances. The engines add the same terms in different orders (the CPU path sums
 * errors in float64 and keeps codes sparse), so losses and gradients differ by rounding, and
 * parameters by the rounding of Adam's steps. Measured at SIZES of the tests: parameters
 * within 1.2e-7 and losses within 1.7e-7 (relative) after 6 steps, on tfjs-cpu and on
 * SwiftShader alike; the bounds leave room for a GPU's looser division and square root.
 */
export const PARAMETER_TOLERANCE = 1e-5;
export const LOSS_RELATIVE_TOLERANCE = 1e-5;

export interface ReferenceRun {
  config: SaeReluConfig | SaeTopkConfig;
  initial: GpuSaeParameters;
  inputScale: number;
  batches: Float32Array[];
  rows: number;
  losses: Record<string, number>[];
  final: GpuSaeParameters;
}

/**
 * `steps` CPU steps of sae-topk or sae-relu on Gaussian rows with a nonzero mean, at a rate
 * and clip that move the parameters visibly, with a window short enough that TopK features
 * go dead and its auxiliary loss takes part.
 */
export function referenceRun(
  method: 'sae-topk' | 'sae-relu',
  sizes: { dimensions: number; features: number; rows: number; steps: number },
): ReferenceRun {
  const { dimensions, features, rows, steps } = sizes;
  const random = new Random(7);
  const batches = Array.from({ length: steps }, () =>
    Float32Array.from({ length: rows * dimensions }, (_, i) => 0.5 + (i % 3) + random.gaussian()),
  );
  const common = {
    features,
    batchSize: rows,
    steps,
    learningRate: 1e-2,
    warmupSteps: 2,
    decayFraction: 0.4,
    gradientClip: 1,
    deadWindowRows: 2 * rows,
  };
  const config =
    method === 'sae-topk'
      ? configFor('sae-topk', dimensions, { ...common, k: 4, auxK: 8, auxCoefficient: 1 / 32 })
      : configFor('sae-relu', dimensions, { ...common, l1: 1, l1WarmupSteps: 3 });
  const definition = method === 'sae-topk' ? saeTopkMethod : saeReluMethod;
  const context = contextFor(config as never, batches[0]!, rows, dimensions);
  const trainer = definition.create(context as never);

  const initial = parametersOf(trainer.checkpoint(), dimensions, features);
  const inputScale = trainer.checkpoint().input_scale!.values[0]!;
  const losses = batches.map((batch, step) => trainer.step(batch, rows, step).losses);
  const final = parametersOf(trainer.checkpoint(), dimensions, features);
  return { config, initial, inputScale, batches, rows, losses, final };
}

/** Asserts that another engine's losses and final parameters match the reference run. */
export function expectMatches(
  reference: ReferenceRun,
  losses: GpuStepLosses[],
  final: GpuSaeParameters,
): void {
  expect(losses.length).toBe(reference.losses.length);
  reference.losses.forEach((expected, step) => {
    for (const name of ['loss', 'mse', 'l0', 'l1', 'aux', 'deadFeatures', 'gradientNorm']) {
      const want = expected[name];
      const got = losses[step]![name];
      expect(got === undefined, `step ${step} ${name} present`).toBe(want === undefined);
      if (want === undefined || got === undefined) continue;
      const allowed = LOSS_RELATIVE_TOLERANCE * Math.max(1, Math.abs(want));
      expect(Math.abs(got - want), `step ${step} ${name}: ${got} vs ${want}`).toBeLessThan(allowed);
    }
  });
  for (const name of ['encoderT', 'encoderBias', 'decoder', 'decoderBias'] as const) {
    const difference = largestDifference(final[name], reference.final[name]);
    expect(difference, `${name} differs by ${difference}`).toBeLessThan(PARAMETER_TOLERANCE);
    // The steps moved the parameters far beyond the tolerance, so the check has teeth.
    expect(largestDifference(reference.initial[name], reference.final[name])).toBeGreaterThan(
      100 * PARAMETER_TOLERANCE,
    );
  }
}

export function largestDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i]! - b[i]!));
  return largest;
}

function parametersOf(
  checkpoint: ReturnType<ReturnType<typeof saeTopkMethod.create>['checkpoint']>,
  dimensions: number,
  features: number,
): GpuSaeParameters {
  return {
    dimensions,
    features,
    encoderT: transpose(checkpoint.W_enc!.values, dimensions, features),
    encoderBias: checkpoint.b_enc!.values.slice(),
    decoder: checkpoint.W_dec!.values.slice(),
    decoderBias: checkpoint.b_dec!.values.slice(),
  };
}
