/**
 * The SAE training step (sae-relu and sae-topk) as whole-tensor tfjs operations, for an
 * accelerator backend (WebGPU in a browser worker, saeWorker.ts). It trains by the same
 * numbers as the CPU trainer (src/worker/sae/trainer.ts, docs/sae.md): inputs times the
 * input scale, the same losses (with TopK's auxiliary loss of dead features), the radial part
 * of each decoder row's gradient removed for TopK, the global gradient norm clipped, Adam
 * with the shared schedule, decoder rows renormalised, dead features counted over a window.
 *
 * What differs is the formulation: an accelerator prefers dense products with transposed
 * operands to the CPU path's sparse kernels, so codes stay dense (rows x features) with zeros,
 * and everything stays on the device between steps; one small vector of losses is read back
 * per step. Sums run in float32 on the device (the CPU path sums errors in float64), and
 * TopK keeps every entry that ties with the k-th value (the CPU path breaks ties by index).
 * Not here: BatchTopK, JumpReLU and dead-feature resampling.
 */
import * as tf from '@tensorflow/tfjs';
import type { SaeReluConfig, SaeTopkConfig } from '../shared/methods';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  adamStepSize,
  scheduledL1,
  scheduledLearningRate,
} from '../shared/saeSchedule';
import type { GpuSaeParameters, GpuStepLosses } from './protocol';

export type GpuSaeConfig = SaeReluConfig | SaeTopkConfig;

/** The trained tensors, in training units; the encoder held transposed (features x d). */
const NAMES = ['encoderT', 'encoderBias', 'decoder', 'decoderBias'] as const;
type Name = (typeof NAMES)[number];

/** Order of the values in the per-step losses vector read back from the device. */
const LOSS_NAMES = ['loss', 'mse', 'l0', 'l1', 'aux', 'deadFeatures', 'gradientNorm'] as const;

export class TensorSaeTrainer {
  private readonly values: Record<Name, tf.Tensor>;
  private readonly first: Record<Name, tf.Tensor>;
  private readonly second: Record<Name, tf.Tensor>;
  /** Training rows since each feature last fired (float32: exact up to 2^24 rows). */
  private rowsSinceActive: tf.Tensor1D;
  private updates = 0;
  /** Dead features at the start of the next step (the count the last step reported). */
  private deadCount = 0;

  constructor(
    private readonly config: GpuSaeConfig,
    parameters: GpuSaeParameters,
    private readonly inputScale: number,
  ) {
    const { dimensions, features } = parameters;
    this.values = {
      encoderT: tf.tensor2d(parameters.encoderT, [features, dimensions]),
      encoderBias: tf.tensor1d(parameters.encoderBias),
      decoder: tf.tensor2d(parameters.decoder, [features, dimensions]),
      decoderBias: tf.tensor1d(parameters.decoderBias),
    };
    this.first = zerosLike(this.values);
    this.second = zerosLike(this.values);
    this.rowsSinceActive = tf.zeros([features]);
  }

  get dimensions(): number {
    return this.values.decoder.shape[1]!;
  }

  get features(): number {
    return this.values.decoder.shape[0]!;
  }

  /**
   * One Adam update on `rows` rows of `batch` (raw units, rows x d, row-major) at `step`
   * (0-based, for the schedules). Resolves with the step's losses, as the CPU trainer
   * reports them (mse in raw units, deadFeatures after this step).
   */
  async step(batch: Float32Array, rows: number, step: number): Promise<GpuStepLosses> {
    const rate = scheduledLearningRate(this.config, step);
    const l1 =
      this.config.method === 'sae-relu'
        ? scheduledL1(this.config.l1, this.config.l1WarmupSteps, step)
        : 0;
    const withAux =
      this.config.method === 'sae-topk' &&
      this.deadCount > 0 &&
      this.config.auxK > 0 &&
      this.config.auxCoefficient > 0;
    this.updates++;
    const { stepSize, epsilon } = adamStepSize(rate, this.updates);

    const result = tf.tidy(() => {
      const x = tf.tensor2d(batch, [rows, this.dimensions]).mul<tf.Tensor2D>(this.inputScale);
      const pass = this.lossAndGradients(x, rows, l1, withAux);
      if (this.config.method === 'sae-topk') {
        pass.gradients.decoder = tangentPart(pass.gradients.decoder, this.values.decoder);
      }

      // Clip the global gradient norm (as a factor on the gradients), then Adam.
      const squaredNorm = tf.addN(NAMES.map((name) => pass.gradients[name].square().sum()));
      const gradientNorm = squaredNorm.sqrt();
      const clip = this.config.gradientClip;
      const gradientScale =
        clip > 0 ? tf.where(gradientNorm.greater(clip), tf.scalar(clip).div(gradientNorm), 1) : 1;
      const next = {} as Record<'values' | 'first' | 'second', Record<Name, tf.Tensor>>;
      next.values = {} as Record<Name, tf.Tensor>;
      next.first = {} as Record<Name, tf.Tensor>;
      next.second = {} as Record<Name, tf.Tensor>;
      for (const name of NAMES) {
        const gradient = pass.gradients[name].mul(gradientScale);
        const first = this.first[name].mul(ADAM_BETA1).add(gradient.mul(1 - ADAM_BETA1));
        const second = this.second[name].mul(ADAM_BETA2).add(gradient.square().mul(1 - ADAM_BETA2));
        next.first[name] = first;
        next.second[name] = second;
        next.values[name] = this.values[name].sub(
          first.mul(stepSize).div(second.sqrt().add(epsilon)),
        );
      }
      if (this.config.method === 'sae-topk') {
        next.values.decoder = normalizedRows(next.values.decoder);
      }

      // Dead features: rows since each feature last fired in the main codes.
      const fired = pass.active.any(0);
      const rowsSinceActive = tf.where(fired, 0, this.rowsSinceActive.add(rows)) as tf.Tensor1D;
      const deadFeatures = rowsSinceActive.greaterEqual(this.config.deadWindowRows).sum();

      const losses = tf.stack([
        pass.total,
        pass.squaredError.div(rows * this.dimensions * this.inputScale * this.inputScale),
        pass.active.sum().div(rows),
        pass.l1Sum.div(rows),
        pass.auxLoss,
        deadFeatures.cast('float32'),
        gradientNorm,
      ]);
      return { next, rowsSinceActive, losses };
    });

    for (const name of NAMES) {
      tf.dispose([this.values[name], this.first[name], this.second[name]]);
      this.values[name] = result.next.values[name];
      this.first[name] = result.next.first[name];
      this.second[name] = result.next.second[name];
    }
    this.rowsSinceActive.dispose();
    this.rowsSinceActive = result.rowsSinceActive;
    const read = await result.losses.data();
    result.losses.dispose();
    const value = (name: (typeof LOSS_NAMES)[number]): number => read[LOSS_NAMES.indexOf(name)]!;
    this.deadCount = value('deadFeatures');

    const losses: GpuStepLosses = {
      loss: value('loss'),
      mse: value('mse'),
      l0: value('l0'),
      deadFeatures: value('deadFeatures'),
      gradientNorm: value('gradientNorm'),
      learningRate: rate,
    };
    if (this.config.method === 'sae-relu') losses.l1 = value('l1');
    if (withAux) losses.aux = value('aux');
    return losses;
  }

  /** The parameters in training units, read back from the device. */
  async parameters(): Promise<GpuSaeParameters> {
    const [encoderT, encoderBias, decoder, decoderBias] = await Promise.all(
      NAMES.map((name) => this.values[name].data<'float32'>()),
    );
    return {
      dimensions: this.dimensions,
      features: this.features,
      encoderT: encoderT!,
      encoderBias: encoderBias!,
      decoder: decoder!,
      decoderBias: decoderBias!,
    };
  }

  dispose(): void {
    for (const name of NAMES) tf.dispose([this.values[name], this.first[name], this.second[name]]);
    this.rowsSinceActive.dispose();
  }

  /**
   * Forward and backward pass on scaled rows x (B x d), the losses of docs/sae.md with
   * e = xhat - x and g = dL/dxhat = 2 e / B:
   *   G = (g W_dec^T [+ l1 ||W_dec[j]|| / B]) at the active entries (pre-activation gradient)
   *   dW_dec = f^T g [+ l1 (sum_b f_bj) W_dec[j] / (B ||W_dec[j]||)],  dW_enc^T = G^T (x - b_dec)
   *   db_enc = sum_b G_b,  db_dec = sum_b g_b - (sum_b G_b) W_enc^T
   * TopK with dead features adds the auxiliary loss's terms to dW_dec and G.
   */
  private lossAndGradients(
    x: tf.Tensor2D,
    rows: number,
    l1: number,
    withAux: boolean,
  ): {
    gradients: Record<Name, tf.Tensor>;
    active: tf.Tensor2D;
    total: tf.Scalar;
    squaredError: tf.Scalar;
    l1Sum: tf.Scalar;
    auxLoss: tf.Scalar;
  } {
    const { encoderT, encoderBias, decoder, decoderBias } = this.values;

    // Forward: pre = (x - b_dec) W_enc + b_enc, f = act(pre), xhat = f W_dec + b_dec.
    const centred = x.sub(decoderBias) as tf.Tensor2D;
    const pre = tf.matMul(centred, encoderT as tf.Tensor2D, false, true).add(encoderBias);
    const active =
      this.config.method === 'sae-topk'
        ? topKMask(pre as tf.Tensor2D, this.config.k)
        : (pre.greater(0) as tf.Tensor2D);
    const codes = tf.where(active, pre, 0) as tf.Tensor2D;
    const reconstruction = tf.matMul(codes, decoder as tf.Tensor2D).add(decoderBias);
    const error = reconstruction.sub(x) as tf.Tensor2D;
    const squaredError = error.square().sum() as tf.Scalar;
    const g = error.mul(2 / rows) as tf.Tensor2D;
    let total = squaredError.div(rows) as tf.Scalar;

    // Backward through the decoder and the activation.
    const decoderT = decoder as tf.Tensor2D;
    let preGradient = tf.matMul(g, decoderT, false, true) as tf.Tensor2D;
    let decoderGradient = tf.matMul(codes, g, true, false) as tf.Tensor2D;
    let l1Sum = tf.scalar(0);
    if (this.config.method === 'sae-relu') {
      const atomNorms = decoder.square().sum(1).sqrt();
      l1Sum = codes.mul(atomNorms).sum();
      total = total.add(l1Sum.mul(l1 / rows));
      preGradient = preGradient.add(atomNorms.mul(l1 / rows));
      // d/dW_dec[j] of the atom-norm-weighted L1 penalty; atoms of norm 0 get none.
      const factor = tf.where(
        atomNorms.greater(0),
        codes
          .sum(0)
          .mul(l1 / rows)
          .div(atomNorms),
        0,
      );
      decoderGradient = decoderGradient.add(decoder.mul(factor.expandDims(1)));
    }
    preGradient = tf.where(active, preGradient, 0) as tf.Tensor2D;

    // Auxiliary loss (TopK): the top auxK dead features of each row predict the residual.
    let auxLoss = tf.scalar(0);
    if (withAux && this.config.method === 'sae-topk') {
      const coefficient = this.config.auxCoefficient;
      const dead = this.rowsSinceActive.greaterEqual(this.config.deadWindowRows);
      const auxK = Math.min(this.config.auxK, this.deadCount, this.features);
      const deadPre = tf.where(dead, pre, -Infinity) as tf.Tensor2D;
      const auxActive = topKMask(deadPre, auxK).logicalAnd(dead) as tf.Tensor2D;
      const auxCodes = tf.where(auxActive, pre, 0) as tf.Tensor2D;
      const predicted = tf.matMul(auxCodes, decoderT);
      const difference = predicted.sub(x.sub(reconstruction)) as tf.Tensor2D;
      auxLoss = difference.square().sum().div(rows);
      total = total.add(auxLoss.mul(coefficient));
      const auxGradient = difference.mul((2 * coefficient) / rows) as tf.Tensor2D;
      decoderGradient = decoderGradient.add(tf.matMul(auxCodes, auxGradient, true, false));
      const auxPreGradient = tf.where(
        auxActive,
        tf.matMul(auxGradient, decoderT, false, true),
        0,
      ) as tf.Tensor2D;
      preGradient = preGradient.add(auxPreGradient);
    }

    // Backward through the encoder.
    const encoderGradient = tf.matMul(preGradient, centred, true, false);
    const encoderBiasGradient = preGradient.sum(0);
    const decoderBiasGradient = g
      .sum(0)
      .sub(tf.matMul(encoderBiasGradient.expandDims(0), encoderT as tf.Tensor2D).squeeze());

    return {
      gradients: {
        encoderT: encoderGradient,
        encoderBias: encoderBiasGradient,
        decoder: decoderGradient,
        decoderBias: decoderBiasGradient,
      },
      active,
      total,
      squaredError,
      l1Sum,
      auxLoss,
    };
  }
}

/** Entries among the k largest of their row and positive (ties with the k-th all kept). */
function topKMask(pre: tf.Tensor2D, k: number): tf.Tensor2D {
  const { values } = tf.topk(pre, k);
  const kth = values.slice([0, k - 1], [-1, 1]);
  return pre.greaterEqual(kth).logicalAnd(pre.greater(0)) as tf.Tensor2D;
}

/** The gradient of each decoder row minus its part along the row (0 for a zero row). */
function tangentPart(gradient: tf.Tensor, decoder: tf.Tensor): tf.Tensor {
  const squared = decoder.square().sum(1, true);
  const along = tf.where(squared.greater(0), gradient.mul(decoder).sum(1, true).div(squared), 0);
  return gradient.sub(along.mul(decoder));
}

/** Rows scaled to unit norm (zero rows stay zero). */
function normalizedRows(matrix: tf.Tensor): tf.Tensor {
  const norms = matrix.square().sum(1, true).sqrt();
  return tf.where(norms.greater(0), matrix.div(norms), 0);
}

function zerosLike(values: Record<Name, tf.Tensor>): Record<Name, tf.Tensor> {
  const zeros = {} as Record<Name, tf.Tensor>;
  for (const name of NAMES) zeros[name] = tf.zerosLike(values[name]);
  return zeros;
}
