/**
 * The optimiser constants and schedules of SAE training (docs/sae.md, Training), shared by
 * the CPU trainer (src/worker/sae) and the WebGPU step (src/gpu), so that both
 * engines train by the same numbers.
 */
import type { SaeCommonConfig } from './methods';

/** Adam (Kingma & Ba 2015): moment decay rates and the denominator's epsilon. */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

/**
 * Adam's learning rate at `step` (0-based): linear warm-up from 0 over `warmupSteps`,
 * constant, then linear decay to 0 over the last `decayFraction` of the steps.
 */
export function scheduledLearningRate(config: SaeCommonConfig, step: number): number {
  const { learningRate, warmupSteps, decayFraction, steps } = config;
  let rate = learningRate;
  if (warmupSteps > 0) rate *= Math.min(1, (step + 1) / warmupSteps);
  const decaySteps = decayFraction * steps;
  const decayStart = steps - decaySteps;
  if (decaySteps > 0 && step >= decayStart) rate *= Math.max(0, (steps - step) / decaySteps);
  return rate;
}

/** The ReLU SAE's L1 coefficient at `step` (0-based): rising linearly over `warmupSteps`. */
export function scheduledL1(l1: number, warmupSteps: number, step: number): number {
  return warmupSteps > 0 ? l1 * Math.min(1, (step + 1) / warmupSteps) : l1;
}

/**
 * Adam's step size and epsilon at update `t` (from 1), bias corrections folded in:
 * value -= stepSize m / (sqrt(v) + epsilon).
 */
export function adamStepSize(rate: number, t: number): { stepSize: number; epsilon: number } {
  const correction1 = 1 - ADAM_BETA1 ** t;
  const correction2 = 1 - ADAM_BETA2 ** t;
  return {
    stepSize: (rate * Math.sqrt(correction2)) / correction1,
    epsilon: ADAM_EPSILON * Math.sqrt(correction2),
  };
}
