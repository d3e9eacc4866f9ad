/**
 * Forward and backward passes of the SAE family, written by hand on Float32Array. Dense
 * products go to tensorflow.js as plain products on explicitly transposed copies (see
 * dense.ts); when few codes are active (TopK, BatchTopK, a trained JumpReLU) the decoder
 * products and every gradient touch only the active atoms.
 *
 * Losses (spec/sae.md), on a batch of B rows in training units, e = xhat - x:
 *   reconstruction = (1/B) sum_b ||e_b||^2
 *   relu:      + l1 (1/B) sum_b sum_i f_bi ||W_dec[i]||
 *   topk, batchtopk: + auxCoefficient (1/B) sum_b ||ehat_b + e_b||^2, ehat_b = the residual
 *              predicted by the top auxK dead features of row b (Gao et al. 2024)
 *   jumprelu:  + sparsity (1/B) sum_b ||f_b||_0, thresholds trained through the rectangle
 *              kernel straight-through estimator (Rajamanoharan et al. 2024)
 */
import { assert } from '../../shared/errors';
import type { Codes } from './codes';
import {
  compress,
  jumpRelu,
  jumpReluCodes,
  reluCodes,
  reluInPlace,
  topKOfBatchCodes,
  topKPerRow,
  topKPerRowCodes,
  withValues,
} from './codes';
import { matMul, matMulTransposedPlusBias, rowDot, rowNorm } from './dense';
import { transpose } from './transpose';
import type { Architecture, SaeParameters } from './parameters';
import { onSharedMemory, sharedDoubleScratch, sharedScratch } from './scratch';
import { partRange, runSplit } from './threads';
import { PARAMETER_NAMES, zeroParameters } from './parameters';

/**
 * Below this fraction of active codes the sparse kernels beat the dense products. Measured on
 * a sae-relu pass at d = 512, 4096 features, batch 1024, one thread (bench/sae-route): sparse
 * / dense CPU time 0.33 at 0.5%, 0.69 at 4%, 0.89 at 6%, 1.09 at 8%, 1.51 at 12%.
 */
export const SPARSE_DENSITY_LIMIT = 0.07;

export interface PassSettings {
  architecture: Architecture;
  /** TopK / BatchTopK: active features per row (BatchTopK: on average over the batch). */
  k: number;
  /** ReLU: the L1 coefficient in effect at this step. */
  l1: number;
  /** JumpReLU: L0 coefficient and kernel width. */
  sparsity: number;
  bandwidth: number;
  /** Auxiliary loss of dead features (TopK, BatchTopK). */
  auxK: number;
  auxCoefficient: number;
  /** dead[i] = 1 when feature i counts as dead; null: none. */
  dead: Uint8Array | null;
  /** Forces the sparse or the dense kernels (tests and benches compare them); by default
   *  the batch's code density chooses (SPARSE_DENSITY_LIMIT). Both give the same gradients. */
  route?: 'sparse' | 'dense';
}

export interface PassResult {
  losses: Record<string, number>;
  /** Gradients of the total loss, same layout as the parameters. */
  gradients: SaeParameters;
  /** The batch's codes (a ReLU pass's dense form is scratch memory the next pass reuses). */
  codes: Codes;
  /** BatchTopK: smallest kept activation of this batch (the threshold estimate's sample). */
  smallestKept: number;
}

/**
 * Pre-activations (x - b_dec) W_enc + b_enc of `rows` rows, and x - b_dec. `into`: arrays to
 * write both into (rows x d and rows x F), else new ones.
 */
export function preActivations(
  parameters: SaeParameters,
  batch: Float32Array,
  rows: number,
  into?: { centred: Float32Array; pre: Float32Array },
): { centred: Float32Array; pre: Float32Array } {
  const { dimensions, features, encoderT, encoderBias, decoderBias } = parameters;
  const centred = into?.centred ?? new Float32Array(rows * dimensions);
  for (let r = 0; r < rows; r++) {
    const base = r * dimensions;
    for (let c = 0; c < dimensions; c++) centred[base + c] = batch[base + c]! - decoderBias[c]!;
  }
  // The encoder as held (W_enc transposed); the bias rides in the product's kernel.
  const pre = matMulTransposedPlusBias(
    centred,
    rows,
    dimensions,
    encoderT,
    features,
    encoderBias,
    into?.pre,
  );
  return { centred, pre };
}

/**
 * The inference activation. BatchTopK is evaluated as JumpReLU with its learned threshold,
 * the form in which it is exported. `pre` is consumed.
 */
export function activate(
  architecture: Architecture,
  parameters: SaeParameters,
  pre: Float32Array,
  rows: number,
  k: number,
): Float32Array {
  const { features } = parameters;
  switch (architecture) {
    case 'relu':
      return reluInPlace(pre);
    case 'topk':
      return topKPerRow(pre, rows, features, k);
    case 'batchtopk':
    case 'jumprelu':
      return jumpRelu(pre, rows, features, parameters.threshold);
  }
}

/**
 * xhat = f W_dec + b_dec, by the sparse kernel when few codes are active; `into`: where the
 * sparse kernel writes it (rows x d), else a new array.
 */
export function decodeCodes(
  parameters: SaeParameters,
  codes: Codes,
  sparse = isSparse(codes),
  into?: Float32Array,
): Float32Array {
  const { dimensions, features, decoder, decoderBias } = parameters;
  const rows = codes.rows;
  if (sparse) return sparseTimesDense(codes, decoder, dimensions, into, decoderBias);
  const reconstruction = matMul(codes.dense, rows, features, decoder, dimensions);
  for (let r = 0; r < rows; r++) {
    const base = r * dimensions;
    for (let c = 0; c < dimensions; c++) {
      reconstruction[base + c] = reconstruction[base + c]! + decoderBias[c]!;
    }
  }
  return reconstruction;
}

/**
 * One forward and backward pass on `rows` rows of `batch` (training units). `gradientBuffer`,
 * when given, is zeroed and receives the gradients (it saves allocating them every step).
 */
export function lossAndGradients(
  parameters: SaeParameters,
  batch: Float32Array,
  rows: number,
  settings: PassSettings,
  gradientBuffer?: SaeParameters,
): PassResult {
  const { dimensions, features, decoder } = parameters;
  assert(batch.length >= rows * dimensions, () => `batch holds ${batch.length} values`);

  // Forward. x - b_dec, the pre-activations, the reconstruction and g below live in the same
  // shared buffers every pass (no new garbage; compute threads read them where they are).
  const { centred, pre } = preActivations(parameters, batch, rows, {
    centred: sharedScratch('sae.centred', rows * dimensions),
    pre: sharedScratch('sae.pre', rows * features),
  });
  let codes: Codes;
  let smallestKept = 0;
  if (settings.architecture === 'batchtopk') {
    ({ codes, smallestKept } = topKOfBatchCodes(pre, rows, features, settings.k * rows));
  } else if (settings.architecture === 'jumprelu') {
    codes = jumpReluCodes(pre, rows, features, parameters.threshold);
  } else if (settings.architecture === 'topk') {
    codes = topKPerRowCodes(pre, rows, features, settings.k);
  } else {
    // Only the auxiliary loss and the JumpReLU thresholds read `pre` later; ReLU needs neither.
    codes = reluCodes(pre, rows, features);
  }
  const sparse = settings.route === undefined ? isSparse(codes) : settings.route === 'sparse';
  const reconstruction = decodeCodes(
    parameters,
    codes,
    sparse,
    sharedScratch('sae.reconstruction', rows * dimensions),
  );

  // Reconstruction error and its gradient g = dL/dxhat = 2 e / B, by rows over the threads.
  const g = sharedScratch('sae.errorGradient', rows * dimensions);
  const rowSquaredError = sharedDoubleScratch('sae.rowSquaredError', rows);
  const errorShared = [reconstruction, batch].every(onSharedMemory);
  runSplit(
    reconstructionErrorRows,
    errorShared ? ERROR_WORK_PER_ELEMENT * rows * dimensions : 0,
    (part) => [
      ...partRange(part, rows),
      reconstruction,
      batch,
      dimensions,
      rows,
      g,
      rowSquaredError,
    ],
  );
  let squaredError = 0;
  for (const rowError of rowSquaredError) squaredError += rowError;
  const losses: Record<string, number> = {
    mse: squaredError / (rows * dimensions),
    l0: codes.value.length / rows,
  };
  let total = squaredError / rows;

  const gradients = gradientBuffer ?? zeroParameters(dimensions, features);
  if (gradientBuffer !== undefined) {
    // The sparse backward pass writes the two large gradients whole.
    for (const name of PARAMETER_NAMES) {
      if (!sparse || (name !== 'decoder' && name !== 'encoderT')) gradientBuffer[name].fill(0);
    }
  }
  // Atom norms weight the L1 penalty of ReLU SAEs; the other members do not need them.
  const atomNorms = new Float32Array(features);
  if (settings.architecture === 'relu') {
    for (let j = 0; j < features; j++) atomNorms[j] = rowNorm(decoder, j, dimensions);
  }

  // Gradient of the loss with respect to the pre-activations at the active entries, G, and
  // from it and g the decoder gradient f^T g and the encoder gradient G^T centred.
  // Dense route: gradCodes = g W_dec^T (B x F) and two products. Sparse route: one pass per
  // feature (sparseBackward), with the ReLU penalty's constant per feature added to G.
  // Shared memory, so that compute threads can fill it (it is used within this pass only).
  const preGradient = sparse
    ? sharedScratch('sae.preGradient', codes.value.length)
    : new Float32Array(codes.value.length);
  let penaltyGradient: Float64Array | null = null;
  let l1Sum = 0;
  if (settings.architecture === 'relu') {
    penaltyGradient = new Float64Array(features);
    for (let j = 0; j < features; j++) penaltyGradient[j] = (settings.l1 * atomNorms[j]!) / rows;
    // Arrays in locals: property reads inside hot loops are not hoisted (measured 5x slower).
    const { value, index } = codes;
    for (let p = 0; p < value.length; p++) l1Sum += value[p]! * atomNorms[index[p]!]!;
    losses.l1 = l1Sum / rows;
    total += (settings.l1 * l1Sum) / rows;
  }
  const preGradientSums = new Float32Array(features);
  const entries = withValues(codes, preGradient);
  let gradCodes: Float32Array | null = null;
  if (sparse) {
    sparseBackward(codes, g, decoder, penaltyGradient, centred, dimensions, preGradient, gradients);
    addBiasGradients(entries, gradients, preGradientSums);
  } else {
    gradCodes = matMul(g, rows, dimensions, transpose(decoder, features, dimensions), features);
    const { rowStart, index } = codes;
    for (let r = 0; r < rows; r++) {
      for (let p = rowStart[r]!; p < rowStart[r + 1]!; p++) {
        const j = index[p]!;
        const gradient = gradCodes[r * features + j]!;
        preGradient[p] = penaltyGradient === null ? gradient : gradient + penaltyGradient[j]!;
      }
    }
    addCodesTransposeTimes(codes, g, dimensions, sparse, gradients.decoder);
    accumulateEncoder(entries, centred, dimensions, sparse, gradients, preGradientSums);
  }
  if (settings.architecture === 'relu' && settings.l1 > 0) {
    // d/dW_dec[i] of l1 (1/B) sum_b f_bi ||W_dec[i]||
    //   = l1 (1/B) (sum_b f_bi) W_dec[i] / ||W_dec[i]||.
    const codeSums = columnSums(codes);
    for (let j = 0; j < features; j++) {
      if (codeSums[j] === 0 || atomNorms[j] === 0) continue;
      const factor = (settings.l1 * codeSums[j]!) / (rows * atomNorms[j]!);
      const gradientRow = gradients.decoder.subarray(j * dimensions, (j + 1) * dimensions);
      const atom = decoder.subarray(j * dimensions, (j + 1) * dimensions);
      for (let c = 0; c < dimensions; c++) gradientRow[c] = gradientRow[c]! + factor * atom[c]!;
    }
  }

  // Auxiliary loss of dead features (TopK, BatchTopK).
  if (
    (settings.architecture === 'topk' || settings.architecture === 'batchtopk') &&
    settings.dead !== null &&
    settings.auxK > 0 &&
    settings.auxCoefficient > 0
  ) {
    const aux = auxiliary(parameters, pre, rows, reconstruction, batch, settings, settings.dead);
    if (aux !== null) {
      losses.aux = aux.loss;
      total += settings.auxCoefficient * aux.loss;
      const auxSparse = isSparse(aux.codes);
      addCodesTransposeTimes(aux.codes, aux.gradient, dimensions, auxSparse, gradients.decoder);
      const auxEntries = gradientAtEntries(aux.codes, aux.gradient, decoder, dimensions, auxSparse);
      accumulateEncoder(
        withValues(aux.codes, auxEntries),
        centred,
        dimensions,
        auxSparse,
        gradients,
        preGradientSums,
      );
    }
  }

  // JumpReLU thresholds: pseudo-derivatives of f = pre H(pre - t) and of H(pre - t) with
  // respect to t are -(t/eps) K((pre - t)/eps) and -(1/eps) K((pre - t)/eps), K = 1 on
  // (-1/2, 1/2).
  if (settings.architecture === 'jumprelu') {
    const threshold = parameters.threshold;
    const epsilon = settings.bandwidth;
    let l0 = 0;
    for (let r = 0; r < rows; r++) {
      const base = r * features;
      for (let j = 0; j < features; j++) {
        const t = threshold[j]!;
        const v = pre[base + j]!;
        if (v > t && v > 0) l0++;
        if (Math.abs(v - t) >= epsilon / 2) continue;
        const codeGradient =
          gradCodes === null ? rowDot(g, r, decoder, j, dimensions) : gradCodes[base + j]!;
        const dThreshold = -(t / epsilon) * codeGradient - settings.sparsity / (rows * epsilon);
        gradients.threshold[j] = gradients.threshold[j]! + dThreshold;
      }
    }
    losses.sparsity = l0 / rows;
    total += (settings.sparsity * l0) / rows;
  }

  // b_dec: from xhat directly (sum_b g_b) and through pre = (x - b_dec) W_enc + b_enc, summed
  // in float64 (locals, where the loops run fastest) and added once.
  const decoderBiasGradient = new Float64Array(dimensions);
  for (let r = 0; r < rows; r++) {
    const row = g.subarray(r * dimensions, (r + 1) * dimensions);
    for (let c = 0; c < dimensions; c++) {
      decoderBiasGradient[c] = decoderBiasGradient[c]! + row[c]!;
    }
  }
  for (let j = 0; j < features; j++) {
    const s = preGradientSums[j]!;
    if (s === 0) continue;
    const row = parameters.encoderT.subarray(j * dimensions, (j + 1) * dimensions);
    for (let c = 0; c < dimensions; c++) {
      decoderBiasGradient[c] = decoderBiasGradient[c]! - s * row[c]!;
    }
  }
  for (let c = 0; c < dimensions; c++) {
    gradients.decoderBias[c] = gradients.decoderBias[c]! + decoderBiasGradient[c]!;
  }

  losses.loss = total;
  return { losses, gradients, codes, smallestKept };
}

function isSparse(codes: Codes): boolean {
  return codes.value.length < SPARSE_DENSITY_LIMIT * codes.rows * codes.features;
}

/** target (F x columns) += codes^T (F x rows) rowsMatrix (rows x columns). */
function addCodesTransposeTimes(
  codes: Codes,
  rowsMatrix: Float32Array,
  columns: number,
  sparse: boolean,
  target: Float32Array,
): void {
  if (sparse) {
    scatterOuter(codes, rowsMatrix, columns, target);
    return;
  }
  // As (rowsMatrix^T codes)^T: transposes rows x columns and columns x F instead of the
  // larger rows x F.
  const { rows, features } = codes;
  const product = matMul(
    transpose(rowsMatrix, rows, columns),
    columns,
    rows,
    codes.dense,
    features,
  );
  transpose(product, columns, features, target, true);
}

/** (gradientRows W_dec^T) at the active entries of `codes`, aligned with codes.value. */
function gradientAtEntries(
  codes: Codes,
  gradientRows: Float32Array,
  decoder: Float32Array,
  dimensions: number,
  sparse: boolean,
): Float32Array {
  const out = new Float32Array(codes.value.length);
  const { rows, features, rowStart, index } = codes;
  const full = sparse
    ? null
    : matMul(gradientRows, rows, dimensions, transpose(decoder, features, dimensions), features);
  for (let r = 0; r < rows; r++) {
    for (let p = rowStart[r]!; p < rowStart[r + 1]!; p++) {
      const j = index[p]!;
      out[p] =
        full === null ? rowDot(gradientRows, r, decoder, j, dimensions) : full[r * features + j]!;
    }
  }
  return out;
}

/**
 * Sparse codes (rows x F) times a dense matrix (F x columns), plus `bias` (columns) on every
 * row when given: the decoder product. Into `into` when given (rows x columns), else a new
 * array. Split by rows over the compute threads when
 * `matrix` and the output are on shared memory.
 */
export function sparseTimesDense(
  codes: Codes,
  matrix: Float32Array,
  columns: number,
  into?: Float32Array,
  bias?: Float32Array,
): Float32Array {
  const { rows, rowStart, index, value } = codes;
  const out = into ?? new Float32Array(rows * columns);
  const shared = onSharedMemory(matrix) && onSharedMemory(out);
  runSplit(sparseRowsTimesDense, shared ? value.length * columns : 0, (part) => [
    ...partRange(part, rows),
    rowStart,
    index,
    value,
    matrix,
    columns,
    bias ?? null,
    out,
  ]);
  return out;
}

/**
 * Rows firstRow .. endRow - 1 of sparseTimesDense (compressed rows rowStart, index, value;
 * the bias added last) into `out` (overwritten). Self-contained: compute threads receive it
 * as source text.
 */
function sparseRowsTimesDense(
  firstRow: number,
  endRow: number,
  rowStart: Int32Array,
  index: Int32Array,
  value: Float32Array,
  matrix: Float32Array,
  columns: number,
  bias: Float32Array | null,
  out: Float32Array,
): void {
  // Row views keep the inner loops free of index arithmetic (about 1.9x faster in V8).
  for (let r = firstRow; r < endRow; r++) {
    const target = out.subarray(r * columns, (r + 1) * columns);
    target.fill(0);
    const end = rowStart[r + 1]!;
    let p = rowStart[r]!;
    // Four entries per pass over the target row (fewer loads and stores of it); the float32
    // rounding between them keeps the result equal to one entry at a time.
    for (; p + 3 < end; p += 4) {
      const v1 = value[p]!;
      const v2 = value[p + 1]!;
      const v3 = value[p + 2]!;
      const v4 = value[p + 3]!;
      const j1 = index[p]!;
      const j2 = index[p + 1]!;
      const j3 = index[p + 2]!;
      const j4 = index[p + 3]!;
      const source1 = matrix.subarray(j1 * columns, (j1 + 1) * columns);
      const source2 = matrix.subarray(j2 * columns, (j2 + 1) * columns);
      const source3 = matrix.subarray(j3 * columns, (j3 + 1) * columns);
      const source4 = matrix.subarray(j4 * columns, (j4 + 1) * columns);
      for (let c = 0; c < columns; c++) {
        target[c] =
          Math.fround(
            Math.fround(Math.fround(target[c]! + v1 * source1[c]!) + v2 * source2[c]!) +
              v3 * source3[c]!,
          ) +
          v4 * source4[c]!;
      }
    }
    for (; p < end; p++) {
      const v = value[p]!;
      const j = index[p]!;
      const source = matrix.subarray(j * columns, (j + 1) * columns);
      for (let c = 0; c < columns; c++) target[c] = target[c]! + v * source[c]!;
    }
    if (bias !== null) for (let c = 0; c < columns; c++) target[c] = target[c]! + bias[c]!;
  }
}

/**
 * A pass over an element of a row costs about as much as this many multiply-adds of the
 * product kernels (threads.ts splits work above a minimum).
 */
const ERROR_WORK_PER_ELEMENT = 8;

/**
 * For rows firstRow .. endRow - 1: e = reconstruction - batch, the gradient 2 e / batchRows of
 * the mean squared error into `gradient`, and each row's sum of e^2 (float64, in column
 * order) into rowSquaredError. Self-contained: compute threads receive it as source text.
 */
function reconstructionErrorRows(
  firstRow: number,
  endRow: number,
  reconstruction: Float32Array,
  batch: Float32Array,
  columns: number,
  batchRows: number,
  gradient: Float32Array,
  rowSquaredError: Float64Array,
): void {
  for (let r = firstRow; r < endRow; r++) {
    const start = r * columns;
    let squared = 0;
    for (let i = start; i < start + columns; i++) {
      const e = reconstruction[i]! - batch[i]!;
      squared += e * e;
      gradient[i] = (2 * e) / batchRows;
    }
    rowSquaredError[r] = squared;
  }
}

/** target (F x columns) += codes^T (F x rows) rowsMatrix (rows x columns). */
function scatterOuter(
  codes: Codes,
  rowsMatrix: Float32Array,
  columns: number,
  target: Float32Array,
): void {
  const { rows, rowStart, index, value } = codes;
  for (let r = 0; r < rows; r++) {
    const source = rowsMatrix.subarray(r * columns, (r + 1) * columns);
    for (let p = rowStart[r]!; p < rowStart[r + 1]!; p++) {
      const v = value[p]!;
      const j = index[p]!;
      const row = target.subarray(j * columns, (j + 1) * columns);
      for (let c = 0; c < columns; c++) row[c] = row[c]! + v * source[c]!;
    }
  }
}

/** Adds the encoder gradients of pre-activation gradients given at `entries`. */
function accumulateEncoder(
  entries: Codes,
  centred: Float32Array,
  dimensions: number,
  sparse: boolean,
  gradients: SaeParameters,
  preGradientSums: Float32Array,
): void {
  addBiasGradients(entries, gradients, preGradientSums);
  // W_enc^T gradient = G^T (F x B) centred (B x d), G the pre-activation gradients.
  addCodesTransposeTimes(entries, centred, dimensions, sparse, gradients.encoderT);
}

/** b_enc gradient (and the sums that carry it on to b_dec) from gradients at `entries`. */
function addBiasGradients(
  entries: Codes,
  gradients: SaeParameters,
  preGradientSums: Float32Array,
): void {
  const { rows, rowStart, index, value } = entries;
  const encoderBias = gradients.encoderBias;
  for (let r = 0; r < rows; r++) {
    for (let p = rowStart[r]!; p < rowStart[r + 1]!; p++) {
      const j = index[p]!;
      encoderBias[j] = encoderBias[j]! + value[p]!;
      preGradientSums[j] = preGradientSums[j]! + value[p]!;
    }
  }
}

/**
 * The sparse backward pass over the active entries of `codes`: for entry (r, j),
 * G_rj = g_r . W_dec[j] (+ penalty[j]) into `preGradient` (aligned with codes.value), then
 * gradients.decoder[j] = sum_r f_rj g_r and gradients.encoderT[j] = sum_r G_rj centred_r
 * (written, every row: what the two held before is overwritten). Entries are
 * visited feature by feature in increasing row order, so W_dec[j] and both target rows stay in
 * cache, and every sum adds the same terms in the same order as a row-by-row scatter. Ranges
 * of features go to the compute threads when the gradients live in shared memory; each
 * feature is computed the same way on any thread, so results do not depend on the split.
 */
export function sparseBackward(
  codes: Codes,
  g: Float32Array,
  decoder: Float32Array,
  penalty: Float64Array | null,
  centred: Float32Array,
  columns: number,
  preGradient: Float32Array,
  gradients: SaeParameters,
): void {
  const { rows, features, rowStart, index } = codes;
  const entries = index.length;
  // Counting sort of the entries by feature; rows stay increasing within a feature.
  const featureStart = new Int32Array(features + 1);
  for (let p = 0; p < entries; p++) {
    const next = index[p]! + 1;
    featureStart[next] = featureStart[next]! + 1;
  }
  for (let j = 0; j < features; j++) featureStart[j + 1] = featureStart[j + 1]! + featureStart[j]!;
  const fill = featureStart.slice(0, features);
  const entryRow = new Int32Array(entries);
  const entryPosition = new Int32Array(entries);
  for (let r = 0; r < rows; r++) {
    for (let p = rowStart[r]!; p < rowStart[r + 1]!; p++) {
      const slot = fill[index[p]!]!++;
      entryRow[slot] = r;
      entryPosition[slot] = p;
    }
  }

  const splittable =
    onSharedMemory(preGradient) &&
    onSharedMemory(gradients.decoder) &&
    onSharedMemory(gradients.encoderT);
  // Parts cut where their share of the entries ends.
  const boundary = (fraction: number): number => {
    if (fraction >= 1) return features;
    const wanted = fraction * entries;
    let j = 0;
    while (j < features && featureStart[j]! < wanted) j++;
    return j;
  };
  runSplit(sparseBackwardFeatures, splittable ? 3 * entries * columns : 0, (part) => [
    boundary(part.from),
    boundary(part.to),
    featureStart,
    entryRow,
    entryPosition,
    codes.value,
    g,
    decoder,
    penalty,
    centred,
    columns,
    preGradient,
    gradients.decoder,
    gradients.encoderT,
  ]);
}

/**
 * sparseBackward for features firstFeature .. endFeature - 1, given the entries sorted by
 * feature. Self-contained: compute threads receive it as source text.
 */
function sparseBackwardFeatures(
  firstFeature: number,
  endFeature: number,
  featureStart: Int32Array,
  entryRow: Int32Array,
  entryPosition: Int32Array,
  value: Float32Array,
  g: Float32Array,
  decoder: Float32Array,
  penalty: Float64Array | null,
  centred: Float32Array,
  columns: number,
  preGradient: Float32Array,
  decoderGradient: Float32Array,
  encoderGradient: Float32Array,
): void {
  for (let j = firstFeature; j < endFeature; j++) {
    const start = featureStart[j]!;
    const end = featureStart[j + 1]!;
    const decoderRow = decoderGradient.subarray(j * columns, (j + 1) * columns);
    const encoderRow = encoderGradient.subarray(j * columns, (j + 1) * columns);
    // Written, not added to: a part can be run again (threads.ts), and no pass needs the
    // gradients zeroed first.
    decoderRow.fill(0);
    encoderRow.fill(0);
    if (start === end) continue;
    const atom = decoder.subarray(j * columns, (j + 1) * columns);
    const extra = penalty === null ? 0 : penalty[j]!;
    let q = start;
    // Four entries per pass over the gradient rows (fewer loads and stores of them); the
    // float32 rounding between them keeps every sum equal to one entry at a time.
    for (; q + 3 < end; q += 4) {
      const r1 = entryRow[q]!;
      const r2 = entryRow[q + 1]!;
      const r3 = entryRow[q + 2]!;
      const r4 = entryRow[q + 3]!;
      const p1 = entryPosition[q]!;
      const p2 = entryPosition[q + 1]!;
      const p3 = entryPosition[q + 2]!;
      const p4 = entryPosition[q + 3]!;
      // Row views keep the inner loops free of index arithmetic (about 1.9x faster in V8).
      const gRow1 = g.subarray(r1 * columns, (r1 + 1) * columns);
      const gRow2 = g.subarray(r2 * columns, (r2 + 1) * columns);
      const gRow3 = g.subarray(r3 * columns, (r3 + 1) * columns);
      const gRow4 = g.subarray(r4 * columns, (r4 + 1) * columns);
      const codeValue1 = value[p1]!;
      const codeValue2 = value[p2]!;
      const codeValue3 = value[p3]!;
      const codeValue4 = value[p4]!;
      let dot1 = 0;
      let dot2 = 0;
      let dot3 = 0;
      let dot4 = 0;
      for (let c = 0; c < columns; c++) {
        const a = atom[c]!;
        const g1 = gRow1[c]!;
        const g2 = gRow2[c]!;
        const g3 = gRow3[c]!;
        const g4 = gRow4[c]!;
        dot1 += g1 * a;
        dot2 += g2 * a;
        dot3 += g3 * a;
        dot4 += g4 * a;
        decoderRow[c] =
          Math.fround(
            Math.fround(Math.fround(decoderRow[c]! + codeValue1 * g1) + codeValue2 * g2) +
              codeValue3 * g3,
          ) +
          codeValue4 * g4;
      }
      preGradient[p1] = penalty === null ? dot1 : dot1 + extra;
      preGradient[p2] = penalty === null ? dot2 : dot2 + extra;
      preGradient[p3] = penalty === null ? dot3 : dot3 + extra;
      preGradient[p4] = penalty === null ? dot4 : dot4 + extra;
      // Read back, so the encoder gradient uses the float32 values, as the dense route does.
      const preValue1 = preGradient[p1]!;
      const preValue2 = preGradient[p2]!;
      const preValue3 = preGradient[p3]!;
      const preValue4 = preGradient[p4]!;
      const centredRow1 = centred.subarray(r1 * columns, (r1 + 1) * columns);
      const centredRow2 = centred.subarray(r2 * columns, (r2 + 1) * columns);
      const centredRow3 = centred.subarray(r3 * columns, (r3 + 1) * columns);
      const centredRow4 = centred.subarray(r4 * columns, (r4 + 1) * columns);
      for (let c = 0; c < columns; c++) {
        encoderRow[c] =
          Math.fround(
            Math.fround(
              Math.fround(encoderRow[c]! + preValue1 * centredRow1[c]!) +
                preValue2 * centredRow2[c]!,
            ) +
              preValue3 * centredRow3[c]!,
          ) +
          preValue4 * centredRow4[c]!;
      }
    }
    for (; q < end; q++) {
      const r = entryRow[q]!;
      const p = entryPosition[q]!;
      const gRow = g.subarray(r * columns, (r + 1) * columns);
      const centredRow = centred.subarray(r * columns, (r + 1) * columns);
      const codeValue = value[p]!;
      let dot = 0;
      for (let c = 0; c < columns; c++) {
        const gValue = gRow[c]!;
        dot += gValue * atom[c]!;
        decoderRow[c] = decoderRow[c]! + codeValue * gValue;
      }
      preGradient[p] = penalty === null ? dot : dot + extra;
      const preValue = preGradient[p]!;
      for (let c = 0; c < columns; c++) encoderRow[c] = encoderRow[c]! + preValue * centredRow[c]!;
    }
  }
}

function columnSums(codes: Codes): Float32Array {
  const { features, index, value } = codes;
  const sums = new Float32Array(features);
  for (let p = 0; p < value.length; p++) sums[index[p]!] = sums[index[p]!]! + value[p]!;
  return sums;
}

/**
 * The auxiliary loss (1/B) sum_b ||ehat_b - r_b||^2 with r = x - xhat held constant and
 * ehat_b = sum over the top auxK dead features of row b of f_bi W_dec[i]. Returns null when
 * no feature is dead. `gradient` is dL_aux/dehat times the coefficient.
 */
function auxiliary(
  parameters: SaeParameters,
  pre: Float32Array,
  rows: number,
  reconstruction: Float32Array,
  batch: Float32Array,
  settings: PassSettings,
  dead: Uint8Array,
): { loss: number; codes: Codes; gradient: Float32Array } | null {
  const { dimensions, features } = parameters;
  let deadCount = 0;
  for (let j = 0; j < features; j++) deadCount += dead[j]!;
  if (deadCount === 0) return null;
  const auxDense = topKPerRow(pre, rows, features, Math.min(settings.auxK, deadCount), dead);
  const codes = compress(auxDense, rows, features);
  const predicted = isSparse(codes)
    ? sparseTimesDense(codes, parameters.decoder, dimensions)
    : matMul(auxDense, rows, features, parameters.decoder, dimensions);
  let loss = 0;
  const gradient = new Float32Array(rows * dimensions);
  for (let i = 0; i < rows * dimensions; i++) {
    const difference = predicted[i]! - (batch[i]! - reconstruction[i]!);
    loss += difference * difference;
    gradient[i] = (2 * settings.auxCoefficient * difference) / rows;
  }
  return { loss: loss / rows, codes, gradient };
}
