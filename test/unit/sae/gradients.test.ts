/**
 * The hand-written passes against the same losses differentiated by tensorflow.js autodiff,
 * on small sizes, through both the dense and the sparse kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import { initializeBackend } from '../../../src/worker/backend';
import type { Architecture, SaeParameters } from '../../../src/worker/sae/parameters';
import { PARAMETER_NAMES, zeroParameters } from '../../../src/worker/sae/parameters';
import type { PassSettings } from '../../../src/worker/sae/passes';
import { SPARSE_DENSITY_LIMIT, lossAndGradients } from '../../../src/worker/sae/passes';

const RELATIVE_TOLERANCE = 2e-4;

beforeAll(async () => {
  await initializeBackend();
});

function randomParameters(
  seed: number,
  dimensions: number,
  features: number,
  biasShift: number,
): SaeParameters {
  const random = new Random(seed);
  const p = zeroParameters(dimensions, features);
  for (const name of ['encoderT', 'decoder'] as const) {
    for (let i = 0; i < p[name].length; i++) p[name][i] = random.gaussian() / Math.sqrt(dimensions);
  }
  for (let j = 0; j < features; j++) p.encoderBias[j] = 0.1 * random.gaussian() + biasShift;
  for (let c = 0; c < dimensions; c++) p.decoderBias[c] = 0.1 * random.gaussian();
  for (let j = 0; j < features; j++) p.threshold[j] = 0.05 + 0.1 * random.uniform();
  return p;
}

function randomBatch(seed: number, rows: number, dimensions: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: rows * dimensions }, () => random.gaussian());
}

/**
 * The reference loss in tensorflow.js. The selection of TopK/BatchTopK entries is piecewise
 * constant, so it enters as masks taken from the hand-written pass.
 */
function referenceGradients(
  p: SaeParameters,
  batch: Float32Array,
  rows: number,
  settings: PassSettings,
  activeMask: Float32Array,
  auxMask: Float32Array | null,
): { loss: number; gradients: Record<string, Float32Array> } {
  const { dimensions: d, features: F } = p;
  const x = tf.tensor2d(batch, [rows, d]);
  const mask = tf.tensor2d(activeMask, [rows, F]);
  const epsilon = settings.bandwidth;
  const rectangle = (pre: tf.Tensor, threshold: tf.Tensor) =>
    tf.cast(tf.less(tf.abs(tf.sub(pre, threshold)), epsilon / 2), 'float32');
  const jump = tf.customGrad((pre, thresholdInput, save) => {
    const threshold = thresholdInput as tf.Tensor;
    const on = tf.cast(tf.greater(pre as tf.Tensor, threshold), 'float32');
    (save as tf.GradSaveFunc)([pre as tf.Tensor, threshold, on]);
    return {
      value: tf.mul(pre as tf.Tensor, on),
      gradFunc: (dy, saved) => {
        const [savedPre, t, savedOn] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const kernel = rectangle(savedPre, t);
        const dThreshold = tf.mul(tf.mul(dy, kernel), tf.div(tf.neg(t), epsilon));
        return [tf.mul(dy, savedOn), tf.sum(dThreshold, 0)];
      },
    };
  });
  const step = tf.customGrad((pre, thresholdInput, save) => {
    const threshold = thresholdInput as tf.Tensor;
    (save as tf.GradSaveFunc)([pre as tf.Tensor, threshold]);
    return {
      value: tf.cast(tf.greater(pre as tf.Tensor, threshold), 'float32'),
      gradFunc: (dy, saved) => {
        const [savedPre, t] = saved as [tf.Tensor, tf.Tensor];
        const dThreshold = tf.mul(tf.mul(dy, rectangle(savedPre, t)), -1 / epsilon);
        return [tf.zerosLike(savedPre), tf.sum(dThreshold, 0)];
      },
    };
  });

  const lossOf = (
    encoderT: tf.Tensor,
    encoderBias: tf.Tensor,
    decoder: tf.Tensor,
    decoderBias: tf.Tensor,
    threshold: tf.Tensor,
  ) => {
    const pre = tf.add(tf.matMul(tf.sub(x, decoderBias), encoderT, false, true), encoderBias);
    let codes: tf.Tensor;
    if (settings.architecture === 'jumprelu')
      codes = (jump as (...inputs: tf.Tensor[]) => tf.Tensor)(pre, threshold);
    else codes = tf.mul(pre, mask);
    const reconstruction = tf.add(tf.matMul(codes, decoder), decoderBias);
    let loss = tf.div(tf.sum(tf.square(tf.sub(reconstruction, x))), rows);
    if (settings.architecture === 'relu') {
      const norms = tf.sqrt(tf.sum(tf.square(decoder), 1));
      loss = tf.add(loss, tf.mul(settings.l1 / rows, tf.sum(tf.mul(codes, norms))));
    }
    if (auxMask !== null) {
      const auxCodes = tf.mul(pre, tf.tensor2d(auxMask, [rows, F]));
      const residual = tf.sub(x, reconstruction);
      const predicted = tf.matMul(auxCodes, decoder);
      const difference = tf.sub(predicted, tf.tensor2d(residual.dataSync(), [rows, d]));
      loss = tf.add(loss, tf.mul(settings.auxCoefficient / rows, tf.sum(tf.square(difference))));
    }
    if (settings.architecture === 'jumprelu') {
      loss = tf.add(
        loss,
        tf.mul(
          settings.sparsity / rows,
          tf.sum((step as (...inputs: tf.Tensor[]) => tf.Tensor)(pre, threshold)),
        ),
      );
    }
    // Keeps every input on the tape (the threshold enters only JumpReLU's loss).
    loss = tf.add(loss, tf.mul(0, tf.sum(threshold)));
    return loss as tf.Scalar;
  };
  const inputs = [
    tf.tensor2d(p.encoderT, [F, d]),
    tf.tensor1d(p.encoderBias),
    tf.tensor2d(p.decoder, [F, d]),
    tf.tensor1d(p.decoderBias),
    tf.tensor1d(p.threshold),
  ];
  const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) =>
    lossOf(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!),
  )(inputs);
  const gradients: Record<string, Float32Array> = {};
  PARAMETER_NAMES.forEach((name, i) => {
    gradients[name] = grads[i]!.dataSync() as Float32Array;
  });
  const loss = value.dataSync()[0]!;
  tf.dispose([x, mask, value, ...grads, ...inputs]);
  return { loss, gradients };
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst, `${what}: worst difference ${worst} against scale ${scale}`).toBeLessThanOrEqual(
    RELATIVE_TOLERANCE * Math.max(scale, 1e-3),
  );
}

const cases: {
  name: string;
  architecture: Architecture;
  features: number;
  k: number;
  biasShift: number;
  dead: boolean;
}[] = [
  {
    name: 'relu, dense kernels',
    architecture: 'relu',
    features: 12,
    k: 0,
    biasShift: 0,
    dead: false,
  },
  {
    name: 'relu, sparse kernels',
    architecture: 'relu',
    features: 120,
    k: 0,
    biasShift: -2.2,
    dead: false,
  },
  {
    name: 'topk, dense kernels, with dead features',
    architecture: 'topk',
    features: 12,
    k: 3,
    biasShift: 0,
    dead: true,
  },
  {
    name: 'topk, sparse kernels, with dead features',
    architecture: 'topk',
    features: 100,
    k: 2,
    biasShift: 0,
    dead: true,
  },
  {
    name: 'batchtopk, sparse kernels',
    architecture: 'batchtopk',
    features: 100,
    k: 2,
    biasShift: 0,
    dead: true,
  },
  {
    name: 'jumprelu, dense kernels',
    architecture: 'jumprelu',
    features: 12,
    k: 0,
    biasShift: 0,
    dead: false,
  },
  {
    name: 'jumprelu, sparse kernels',
    architecture: 'jumprelu',
    features: 120,
    k: 0,
    biasShift: -2.2,
    dead: false,
  },
];

describe('hand-written SAE gradients equal autodiff', () => {
  for (const c of cases) {
    test(c.name, () => {
      const d = 6;
      const rows = 16;
      const p = randomParameters(1, d, c.features, c.biasShift);
      const batch = randomBatch(2, rows, d);
      const dead = c.dead
        ? Uint8Array.from({ length: c.features }, (_, j) => (j % 3 === 0 ? 1 : 0))
        : null;
      // A wide kernel so that several pre-activations fall inside it.
      const settings: PassSettings = {
        architecture: c.architecture,
        k: c.k,
        l1: 0.7,
        sparsity: 0.3,
        bandwidth: 0.2,
        auxK: 2,
        auxCoefficient: 0.25,
        dead,
      };
      const result = lossAndGradients(p, batch, rows, settings);

      const density = result.codes.value.length / (rows * c.features);
      expect(density < SPARSE_DENSITY_LIMIT, `density ${density}`).toBe(c.name.includes('sparse'));
      expect(density).toBeGreaterThan(0);
      const activeMask = Float32Array.from(result.codes.dense, (v) => (v !== 0 ? 1 : 0));
      let auxMask: Float32Array | null = null;
      if (dead !== null) {
        // Recompute the aux selection the way the pass does: top auxK dead positive entries.
        const { pre } = prePlain(p, batch, rows);
        auxMask = new Float32Array(rows * c.features);
        for (let r = 0; r < rows; r++) {
          const candidates = [...Array(c.features).keys()]
            .filter((j) => dead[j] === 1 && pre[r * c.features + j]! > 0)
            .sort((a, b) => pre[r * c.features + b]! - pre[r * c.features + a]! || a - b)
            .slice(0, settings.auxK);
          for (const j of candidates) auxMask[r * c.features + j] = 1;
        }
      }
      const reference = referenceGradients(p, batch, rows, settings, activeMask, auxMask);
      expect(result.losses.loss!).toBeCloseTo(reference.loss, 4);
      for (const name of PARAMETER_NAMES)
        expectClose(result.gradients[name], reference.gradients[name]!, name);
      if (c.architecture === 'jumprelu') {
        expect(Math.max(...result.gradients.threshold.map(Math.abs))).toBeGreaterThan(0);
      }
    });
  }
});

function prePlain(p: SaeParameters, batch: Float32Array, rows: number): { pre: Float32Array } {
  const pre = new Float32Array(rows * p.features);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < p.features; j++) {
      let s = p.encoderBias[j]!;
      for (let c = 0; c < p.dimensions; c++) {
        s += (batch[r * p.dimensions + c]! - p.decoderBias[c]!) * p.encoderT[j * p.dimensions + c]!;
      }
      pre[r * p.features + j] = s;
    }
  }
  return { pre };
}
