/**
 * Adam (Kingma & Ba 2015) on Float32Array parameters, with bias correction.
 */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

export interface Moments {
  first: Float32Array;
  second: Float32Array;
}

export function zeroMoments(size: number): Moments {
  return { first: new Float32Array(size), second: new Float32Array(size) };
}

/**
 * One Adam update of `values` by `gradient` times `gradientScale` (the clipping factor) at
 * learning rate `rate`; `t` counts updates from 1.
 */
export function adamUpdate(
  values: Float32Array,
  gradient: Float32Array,
  moments: Moments,
  rate: number,
  t: number,
  gradientScale = 1,
): void {
  const { first, second } = moments;
  const correction1 = 1 - ADAM_BETA1 ** t;
  const correction2 = 1 - ADAM_BETA2 ** t;
  const stepSize = (rate * Math.sqrt(correction2)) / correction1;
  const epsilon = ADAM_EPSILON * Math.sqrt(correction2);
  for (let i = 0; i < values.length; i++) {
    const g = gradient[i]! * gradientScale;
    const m = ADAM_BETA1 * first[i]! + (1 - ADAM_BETA1) * g;
    const v = ADAM_BETA2 * second[i]! + (1 - ADAM_BETA2) * g * g;
    first[i] = m;
    second[i] = v;
    values[i] = values[i]! - (stepSize * m) / (Math.sqrt(v) + epsilon);
  }
}
