import { describe, expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import {
  compress,
  jumpRelu,
  jumpReluCodes,
  reluCodes,
  reluInPlace,
  selectKthLargest,
  topKOfBatchCodes,
  topKPerRow,
  topKPerRowCodes,
} from '../../../src/worker/sae/codes';
import {
  failedPartCount,
  setComputeThreads,
  splitCount,
  startComputeThreads,
  stopComputeThreads,
} from '../../../src/worker/sae/threads';
import { sharedScratch } from '../../../src/worker/sae/scratch';

/** The straightforward TopK: sort each row's positive entries, lower index first on ties. */
function topKBySorting(
  pre: Float32Array,
  rows: number,
  features: number,
  k: number,
  allowed?: Uint8Array,
) {
  const out = new Float32Array(rows * features);
  for (let r = 0; r < rows; r++) {
    const order = [...Array(features).keys()]
      .filter((j) => pre[r * features + j]! > 0 && (allowed === undefined || allowed[j] === 1))
      .sort((a, b) => pre[r * features + b]! - pre[r * features + a]! || a - b)
      .slice(0, k);
    for (const j of order) out[r * features + j] = pre[r * features + j]!;
  }
  return out;
}

describe('activation functions', () => {
  test('TopK per row equals sorting, with ties and masks', () => {
    const random = new Random(5);
    const rows = 40;
    const features = 37;
    // Few distinct values, so ties at the cut are common.
    const pre = Float32Array.from({ length: rows * features }, () => random.integer(9) - 3);
    const allowed = Uint8Array.from({ length: features }, (_, j) => (j % 3 === 0 ? 0 : 1));
    for (const k of [1, 4, 30, 40]) {
      expect(Array.from(topKPerRow(pre, rows, features, k))).toEqual(
        Array.from(topKBySorting(pre, rows, features, k)),
      );
      expect(Array.from(topKPerRow(pre, rows, features, k, allowed))).toEqual(
        Array.from(topKBySorting(pre, rows, features, k, allowed)),
      );
    }
    expect(topKPerRow(pre, rows, features, 0).every((v) => v === 0)).toBe(true);
    // Wide rows and k above the insertion limit take the quickselect path.
    const wide = Float32Array.from({ length: 5 * 300 }, () => random.integer(41) - 10);
    const wideAllowed = Uint8Array.from({ length: 300 }, (_, j) => (j % 5 === 0 ? 0 : 1));
    for (const k of [65, 100, 250]) {
      expect(Array.from(topKPerRow(wide, 5, 300, k))).toEqual(
        Array.from(topKBySorting(wide, 5, 300, k)),
      );
      expect(Array.from(topKPerRow(wide, 5, 300, k, wideAllowed))).toEqual(
        Array.from(topKBySorting(wide, 5, 300, k, wideAllowed)),
      );
    }
  });

  test('BatchTopK keeps the k x batch largest positive values and reports the smallest kept', () => {
    const pre = Float32Array.of(5, -1, 3, 2, 2, 0, 7, 1);
    const { codes, smallestKept } = topKOfBatchCodes(pre, 2, 4, 4);
    expect(Array.from(codes.dense)).toEqual([5, 0, 3, 2, 0, 0, 7, 0]);
    expect(Array.from(codes.rowStart)).toEqual([0, 3, 4]);
    expect(smallestKept).toBe(2);
    const none = topKOfBatchCodes(Float32Array.of(-1, 0), 1, 2, 3);
    expect(none.smallestKept).toBe(0);
    expect(none.codes.value.length).toBe(0);
  });

  test('BatchTopK equals sorting the batch, with ties, NaN, zeros and any count', () => {
    const random = new Random(17);
    const rows = 64;
    const features = 300;
    // Quarters: many ties; a spread of magnitudes so that the cut's bucket varies.
    const pre = Float32Array.from({ length: rows * features }, (_, i) => {
      if (i % 97 === 5) return Number.NaN;
      if (i % 89 === 3) return 0;
      const quarter = Math.round(random.gaussian() * 8) / 4;
      return i % 7 === 0 ? quarter * 1000 : quarter;
    });
    const positive = Array.from(pre.keys()).filter((i) => pre[i]! > 0);
    // Largest first, ties in index order: the first `count` are the kept entries.
    const order = positive.sort((a, b) => pre[b]! - pre[a]! || a - b);
    for (const count of [0, 1, 7, 640, 5000, order.length, order.length + 10]) {
      const { codes, smallestKept } = topKOfBatchCodes(pre, rows, features, count);
      const expected = order.slice(0, count).sort((a, b) => a - b);
      const got = Array.from({ length: codes.value.length }, (_, p) => {
        const row = codes.rowStart.findIndex(
          (start, r) => p >= start && p < codes.rowStart[r + 1]!,
        );
        return row * features + codes.index[p]!;
      });
      expect(got, `count ${count}`).toEqual(expected);
      expect(Array.from(codes.value)).toEqual(expected.map((i) => pre[i]!));
      expect(smallestKept).toBe(count === 0 ? 0 : pre[order[Math.min(count, order.length) - 1]!]!);
    }
  });

  test('JumpReLU keeps values above their own threshold', () => {
    const codes = jumpRelu(Float32Array.of(0.5, 0.5, 2, -1), 2, 2, Float32Array.of(0.4, 0.6));
    expect(Array.from(codes)).toEqual([0.5, 0, 2, 0]);
  });

  test('JumpReLU codes built in one pass equal compressing the dense JumpReLU codes', () => {
    const random = new Random(19);
    const rows = 30;
    const features = 50;
    // Values on the thresholds, NaN, negatives and thresholds at and below 0.
    const threshold = Float32Array.from({ length: features }, (_, j) => (j % 5) / 4 - 0.25);
    const pre = Float32Array.from({ length: rows * features }, (_, i) => {
      if (i % 31 === 0) return Number.NaN;
      if (i % 13 === 0) return threshold[i % features]!;
      return Math.round(random.gaussian() * 4) / 4;
    });
    const before = pre.slice();
    const expected = compress(jumpRelu(pre, rows, features, threshold), rows, features);
    const codes = jumpReluCodes(pre, rows, features, threshold);
    expect(Array.from(codes.rowStart)).toEqual(Array.from(expected.rowStart));
    expect(Array.from(codes.index)).toEqual(Array.from(expected.index));
    expect(Array.from(codes.value)).toEqual(Array.from(expected.value));
    expect(Array.from(codes.dense)).toEqual(Array.from(expected.dense));
    // The pre-activations are left as they were (the threshold gradient reads them).
    expect(Object.is(pre[0], before[0]) && pre.every((v, i) => Object.is(v, before[i]))).toBe(true);
  });

  test('quickselect finds the k-th largest', () => {
    const random = new Random(9);
    const values = Float32Array.from({ length: 101 }, () => random.gaussian());
    const sorted = Array.from(values).sort((a, b) => b - a);
    for (const k of [1, 2, 50, 101])
      expect(selectKthLargest(values.slice(), k)).toBe(sorted[k - 1]);
  });

  test('compressed rows list the nonzero entries of each row', () => {
    const codes = compress(Float32Array.of(0, 1, 0, 2, 0, 0), 2, 3);
    expect(Array.from(codes.rowStart)).toEqual([0, 1, 2]);
    expect(Array.from(codes.index)).toEqual([1, 0]);
    expect(Array.from(codes.value)).toEqual([1, 2]);
  });
});

test('TopK codes built during selection equal compressing the dense TopK codes', () => {
  const random = new Random(21);
  const rows = 40;
  // 300 features: plain selection; 2100: the block-maximum cut (k <= 32), with a partial block.
  for (const features of [300, 2100]) {
    // Ties, negatives, zeros and rows with fewer than k positive values.
    const pre = Float32Array.from({ length: rows * features }, (_, i) => {
      if (i % features < 200 && Math.floor(i / features) % 5 === 0) return -1;
      if (Math.floor(i / features) % 7 === 3 && i % features > 40) return -2;
      return Math.round(random.gaussian() * 4) / 4;
    });
    for (const k of [1, 7, 32, 64, 65, 150]) {
      const expected = compress(topKPerRow(pre, rows, features, k), rows, features);
      const codes = topKPerRowCodes(pre, rows, features, k);
      expect(Array.from(codes.rowStart)).toEqual(Array.from(expected.rowStart));
      expect(Array.from(codes.index)).toEqual(Array.from(expected.index));
      expect(Array.from(codes.value)).toEqual(Array.from(expected.value));
      expect(Array.from(codes.dense)).toEqual(Array.from(expected.dense));
    }
  }
});

test('TopK codes split over 2 threads equal one thread, short rows included', async () => {
  setComputeThreads(2);
  await startComputeThreads();
  const random = new Random(22);
  const rows = 1024;
  const features = 4100;
  // On shared memory, as the trainer's pre-activations, so that the rows are split.
  const pre = sharedScratch('test.pre', rows * features);
  for (let i = 0; i < pre.length; i++) {
    const row = Math.floor(i / features);
    pre[i] = row % 7 === 3 && i % features > 40 ? -2 : Math.round(random.gaussian() * 4) / 4;
  }
  const failedBefore = failedPartCount();
  for (const k of [7, 32]) {
    const expected = compress(topKPerRow(pre, rows, features, k), rows, features);
    const splitBefore = splitCount();
    const codes = topKPerRowCodes(pre, rows, features, k);
    expect(splitCount()).toBe(splitBefore + 1);
    // Every seventh row has at most 41 nonnegative values, some of them zero.
    if (k === 32) expect(codes.value.length).toBeLessThan(rows * k);
    expect(Array.from(codes.rowStart)).toEqual(Array.from(expected.rowStart));
    expect(Array.from(codes.index)).toEqual(Array.from(expected.index));
    expect(Array.from(codes.value)).toEqual(Array.from(expected.value));
  }
  expect(failedPartCount()).toBe(failedBefore);
  await stopComputeThreads();
  setComputeThreads(1);
});

test('ReLU codes equal compressing the rectified pre-activations, at every density', () => {
  const random = new Random(4);
  const rows = 50;
  const features = 256;
  // Shifts from all negative (no codes) to mostly positive (the buffers grow several times).
  for (const shift of [-100, -2.5, -1, 0, 1.5]) {
    const pre = Float32Array.from({ length: rows * features }, () => random.gaussian() + shift);
    pre[3] = Number.NaN;
    pre[5] = -0;
    const expected = compress(reluInPlace(pre.slice()), rows, features);
    const codes = reluCodes(pre, rows, features);
    expect(Array.from(codes.rowStart)).toEqual(Array.from(expected.rowStart));
    expect(Array.from(codes.index)).toEqual(Array.from(expected.index));
    expect(Array.from(codes.value)).toEqual(Array.from(expected.value));
    expect(Object.is(pre[5], 0) && pre[3] === 0).toBe(true);
    expect(Array.from(codes.dense)).toEqual(Array.from(expected.dense));
  }
});
