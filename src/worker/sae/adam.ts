/**
 * Adam (Kingma & Ba 2015) on Float32Array parameters, with bias correction.
 */
import { ADAM_BETA1, ADAM_BETA2, adamStepSize } from '../../shared/saeSchedule';

export interface Moments {
  first: Float32Array;
  second: Float32Array;
}

export function zeroMoments(size: number): Moments {
  return { first: new Float32Array(size), second: new Float32Array(size) };
}

/**
 * One Adam update of `values` by `gradient` times `gradientScale` (the clipping factor) at
 * learning rate `rate`; `t` counts updates from 1. Only elements start .. end - 1 when given
 * (a row at a time, so the caller can work on the row while it is in cache).
 */
export function adamUpdate(
  values: Float32Array,
  gradient: Float32Array,
  moments: Moments,
  rate: number,
  t: number,
  gradientScale = 1,
  start = 0,
  end = values.length,
): void {
  const { first, second } = moments;
  const { stepSize, epsilon } = adamStepSize(rate, t);
  // Locals, not the imported bindings: module loaders that turn imports into property reads
  // (vitest) would otherwise read them on every element (measured 4x slower).
  const beta1 = ADAM_BETA1;
  const beta2 = ADAM_BETA2;
  const keep1 = 1 - beta1;
  const keep2 = 1 - beta2;
  for (let i = start; i < end; i++) {
    const g = gradient[i]! * gradientScale;
    const m = beta1 * first[i]! + keep1 * g;
    const v = beta2 * second[i]! + keep2 * g * g;
    first[i] = m;
    second[i] = v;
    values[i] = values[i]! - (stepSize * m) / (Math.sqrt(v) + epsilon);
  }
}
