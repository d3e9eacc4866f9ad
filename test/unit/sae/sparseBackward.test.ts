import { afterAll, expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import { compress, topKPerRow } from '../../../src/worker/sae/codes';
import { zeroParameters } from '../../../src/worker/sae/parameters';
import { sparseBackward, sparseTimesDense } from '../../../src/worker/sae/passes';
import { sameBits } from './helpers';
import {
  PARALLEL_MINIMUM_WORK,
  failedPartCount,
  setComputeThreads,
  startComputeThreads,
  stopComputeThreads,
} from '../../../src/worker/sae/threads';

afterAll(async () => {
  setComputeThreads(1);
  await stopComputeThreads();
});

// Large enough (3 x entries x columns) for the pass to be split over threads.
const ROWS = 512;
const FEATURES = 1024;
const COLUMNS = 384;
const K = 32;

function gaussians(random: Random, length: number): Float32Array {
  return Float32Array.from({ length }, () => random.gaussian());
}

/** The straightforward pass: row by row, a dot product per entry, scattered outer products. */
function rowByRow(
  codes: ReturnType<typeof compress>,
  g: Float32Array,
  decoder: Float32Array,
  penalty: Float64Array | null,
  centred: Float32Array,
): { preGradient: Float32Array; decoderGradient: Float32Array; encoderGradient: Float32Array } {
  const preGradient = new Float32Array(codes.value.length);
  const decoderGradient = new Float32Array(FEATURES * COLUMNS);
  const encoderGradient = new Float32Array(FEATURES * COLUMNS);
  for (let r = 0; r < ROWS; r++) {
    for (let p = codes.rowStart[r]!; p < codes.rowStart[r + 1]!; p++) {
      const j = codes.index[p]!;
      let dot = 0;
      for (let c = 0; c < COLUMNS; c++) dot += g[r * COLUMNS + c]! * decoder[j * COLUMNS + c]!;
      preGradient[p] = penalty === null ? dot : dot + penalty[j]!;
      for (let c = 0; c < COLUMNS; c++) {
        decoderGradient[j * COLUMNS + c] =
          decoderGradient[j * COLUMNS + c]! + codes.value[p]! * g[r * COLUMNS + c]!;
        encoderGradient[j * COLUMNS + c] =
          encoderGradient[j * COLUMNS + c]! + preGradient[p]! * centred[r * COLUMNS + c]!;
      }
    }
  }
  return { preGradient, decoderGradient, encoderGradient };
}

test('the sparse backward pass equals the row-by-row pass bit for bit on 1 and 2 threads', async () => {
  const random = new Random(11);
  const pre = gaussians(random, ROWS * FEATURES);
  const codes = compress(topKPerRow(pre, ROWS, FEATURES, K), ROWS, FEATURES);
  expect(3 * codes.value.length * COLUMNS).toBeGreaterThan(PARALLEL_MINIMUM_WORK);
  const g = gaussians(random, ROWS * COLUMNS);
  const decoder = gaussians(random, FEATURES * COLUMNS);
  const centred = gaussians(random, ROWS * COLUMNS);
  const penalty = Float64Array.from({ length: FEATURES }, () => Math.abs(random.gaussian()) / ROWS);

  for (const withPenalty of [null, penalty]) {
    const expected = rowByRow(codes, g, decoder, withPenalty, centred);
    for (const threads of [1, 2]) {
      setComputeThreads(threads);
      await startComputeThreads();
      const gradients = zeroParameters(COLUMNS, FEATURES, true);
      const preGradient = new Float32Array(new SharedArrayBuffer(codes.value.length * 4));
      const failedBefore = failedPartCount();
      // Twice: the pass writes the gradients rather than adding to them, so a part a helper
      // failed half way can be run again.
      for (let run = 0; run < 2; run++) {
        sparseBackward(codes, g, decoder, withPenalty, centred, COLUMNS, preGradient, gradients);
        expect(sameBits(preGradient, expected.preGradient)).toBe(true);
        expect(sameBits(gradients.decoder, expected.decoderGradient)).toBe(true);
        expect(sameBits(gradients.encoderT, expected.encoderGradient)).toBe(true);
      }
      expect(failedPartCount()).toBe(failedBefore);
    }
  }
});

test('the sparse backward pass on ordinary (unshared) gradients stays on the calling thread', () => {
  setComputeThreads(2);
  const random = new Random(5);
  const rows = 4;
  const features = 6;
  const columns = 3;
  const codes = compress(
    topKPerRow(gaussians(random, rows * features), rows, features, 2),
    rows,
    features,
  );
  const g = gaussians(random, rows * columns);
  const decoder = gaussians(random, features * columns);
  const gradients = zeroParameters(columns, features);
  const preGradient = new Float32Array(codes.value.length);
  sparseBackward(codes, g, decoder, null, g, columns, preGradient, gradients);
  // Entry (r, j): G = g_r . W_dec[j]; decoder row j gathers f_rj g_r.
  const r = 0;
  const p = codes.rowStart[r]!;
  const j = codes.index[p]!;
  let dot = 0;
  for (let c = 0; c < columns; c++) dot += g[r * columns + c]! * decoder[j * columns + c]!;
  expect(preGradient[p]).toBe(Math.fround(dot));
  expect(gradients.decoder.some((value) => value !== 0)).toBe(true);
});

test('the sparse decoder product equals adding one entry at a time bit for bit', () => {
  const random = new Random(13);
  const rows = 64;
  // k = 7: odd, so rows end with an unpaired entry.
  const codes = compress(
    topKPerRow(gaussians(random, rows * FEATURES), rows, FEATURES, 7),
    rows,
    FEATURES,
  );
  const decoder = gaussians(random, FEATURES * COLUMNS);
  const expected = new Float32Array(rows * COLUMNS);
  for (let r = 0; r < rows; r++) {
    for (let p = codes.rowStart[r]!; p < codes.rowStart[r + 1]!; p++) {
      const j = codes.index[p]!;
      for (let c = 0; c < COLUMNS; c++) {
        expected[r * COLUMNS + c] =
          expected[r * COLUMNS + c]! + codes.value[p]! * decoder[j * COLUMNS + c]!;
      }
    }
  }
  expect(sameBits(sparseTimesDense(codes, decoder, COLUMNS), expected)).toBe(true);
});
