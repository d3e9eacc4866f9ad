/**
 * The activation functions of the SAE family on row-major Float32Array pre-activations, and
 * the sparse form of their codes. Codes are held as compressed rows (for the products that
 * touch only active features) and, where a dense product needs them, dense (rows x features).
 */
import { onSharedMemory, sharedIntScratch, sharedScratch } from './scratch';
import { partRange, runSplit } from './threads';

/** Codes of a batch; an entry is active when its value is nonzero. */
export interface Codes {
  rows: number;
  features: number;
  /** rows x features, row-major (built from the compressed rows on first use when the
   *  selection did not produce it: the sparse route never reads it). */
  readonly dense: Float32Array;
  /** Compressed rows: the active entries of row r are rowStart[r] .. rowStart[r + 1) - 1. */
  rowStart: Int32Array;
  index: Int32Array;
  value: Float32Array;
}

/** Codes from compressed rows; `dense`, when not given, is expanded on first use. */
export function codesOf(
  rows: number,
  features: number,
  rowStart: Int32Array,
  index: Int32Array,
  value: Float32Array,
  dense?: Float32Array,
): Codes {
  let held = dense;
  return {
    rows,
    features,
    rowStart,
    index,
    value,
    get dense(): Float32Array {
      held ??= expand(rows, features, rowStart, index, value);
      return held;
    },
  };
}

/** The same active entries as `codes` with other values (gradients at the entries). */
export function withValues(codes: Codes, value: Float32Array): Codes {
  return codesOf(codes.rows, codes.features, codes.rowStart, codes.index, value);
}

function expand(
  rows: number,
  features: number,
  rowStart: Int32Array,
  index: Int32Array,
  value: Float32Array,
): Float32Array {
  const dense = new Float32Array(rows * features);
  for (let r = 0; r < rows; r++) {
    for (let p = rowStart[r]!; p < rowStart[r + 1]!; p++)
      dense[r * features + index[p]!] = value[p]!;
  }
  return dense;
}

/** Builds the compressed form of `dense` (rows x features), in one pass over it. */
export function compress(dense: Float32Array, rows: number, features: number): Codes {
  return compressRows(dense, rows, features, 'nonzero');
}

/** ReLU in place and the compressed form of the result, in one pass over `pre`. */
export function reluCodes(pre: Float32Array, rows: number, features: number): Codes {
  return compressRows(pre, rows, features, 'relu');
}

/**
 * JumpReLU codes in compressed form, in one pass over `pre` (left as it is; the dense form is
 * expanded on first use): the entries above their feature's threshold and above 0.
 */
export function jumpReluCodes(
  pre: Float32Array,
  rows: number,
  features: number,
  threshold: Float32Array,
): Codes {
  return compressRows(pre, rows, features, threshold);
}

/** ReLU, in place. */
export function reluInPlace(pre: Float32Array): Float32Array {
  for (let i = 0; i < pre.length; i++) if (!(pre[i]! > 0)) pre[i] = 0;
  return pre;
}

/** Starting capacity of the compressed entries, as a fraction of rows x features. */
const INITIAL_DENSITY = 1 / 64;

/** Density of the latest compressed codes: the next call starts at a capacity just above it. */
let latestDensity = INITIAL_DENSITY;

/**
 * The compressed form of rows x features values: the nonzero ones; with 'relu', the positive
 * ones, the others zeroed in place; with a threshold per feature, the ones above it and above
 * 0 (`values` left as they are, the dense form expanded on first use).
 */
function compressRows(
  values: Float32Array,
  rows: number,
  features: number,
  keep: 'nonzero' | 'relu' | Float32Array,
): Codes {
  const rowStart = new Int32Array(rows + 1);
  const expected = Math.min(1, Math.max(INITIAL_DENSITY, 1.25 * latestDensity));
  let index = new Int32Array(Math.max(16, Math.ceil(rows * features * expected)));
  let value = new Float32Array(index.length);
  let position = 0;
  for (let r = 0; r < rows; r++) {
    rowStart[r] = position;
    // Room for a whole row, so the inner loop needs no check.
    if (index.length - position < features) {
      const capacity = Math.min(rows * features, 2 * index.length + features);
      const grownIndex = new Int32Array(capacity);
      const grownValue = new Float32Array(capacity);
      grownIndex.set(index.subarray(0, position));
      grownValue.set(value.subarray(0, position));
      index = grownIndex;
      value = grownValue;
    }
    // Every entry is written and kept or overwritten by the next: no branch to mispredict
    // at middling densities (the room check above covers the writes).
    const row = values.subarray(r * features, (r + 1) * features);
    if (keep === 'relu') {
      for (let j = 0; j < features; j++) {
        const v = row[j]!;
        const kept = v > 0;
        row[j] = kept ? v : 0;
        index[position] = j;
        value[position] = v;
        position += kept ? 1 : 0;
      }
    } else if (keep === 'nonzero') {
      for (let j = 0; j < features; j++) {
        const v = row[j]!;
        index[position] = j;
        value[position] = v;
        position += v !== 0 ? 1 : 0;
      }
    } else {
      for (let j = 0; j < features; j++) {
        const v = row[j]!;
        index[position] = j;
        value[position] = v;
        position += v > keep[j]! && v > 0 ? 1 : 0;
      }
    }
  }
  rowStart[rows] = position;
  latestDensity = position / Math.max(1, rows * features);
  // A view when it fills most of the arrays; a copy when that would hold much unused room.
  const fits = 2 * position >= index.length;
  return codesOf(
    rows,
    features,
    rowStart,
    fits ? index.subarray(0, position) : index.slice(0, position),
    fits ? value.subarray(0, position) : value.slice(0, position),
    keep instanceof Float32Array ? undefined : values,
  );
}

/** Up to this k, TopK keeps a sorted list of the best values; above it, quickselect (measured:
 *  1024 rows of 4096, k = 32: 36 ms against 70 ms; k = 256: 167 ms against 113 ms). */
const INSERTION_MAX_K = 64;

/**
 * TopK per row: keeps the k largest positive pre-activations of each row, zeroes the rest.
 * Ties at the cut go to the lower feature index, so results do not depend on the platform.
 * When `allowed` is given only features with allowed[j] = 1 compete (the auxiliary loss of
 * dead features).
 */
export function topKPerRow(
  pre: Float32Array,
  rows: number,
  features: number,
  k: number,
  allowed?: Uint8Array,
): Float32Array {
  const out = new Float32Array(rows * features);
  if (k <= 0) return out;
  if (k <= INSERTION_MAX_K) topKByInsertion(pre, rows, features, k, allowed, out);
  else topKBySelection(pre, rows, features, k, allowed, out);
  return out;
}

/**
 * topKPerRow in compressed form, without the dense codes (built on first use). For
 * k <= INSERTION_MAX_K each row is first cut by block maxima (topKOfRowByBlocks), so the
 * selection visits a quarter of the row or less; rows are split over the compute threads
 * (threads.ts) when `pre` is on shared memory. Equals compress(topKPerRow(pre, rows,
 * features, k), rows, features) (tested).
 */
export function topKPerRowCodes(
  pre: Float32Array,
  rows: number,
  features: number,
  k: number,
): Codes {
  if (k <= 0 || k > INSERTION_MAX_K)
    return compress(topKPerRow(pre, rows, features, k), rows, features);
  // Row r's entries go to slots r k .. r k + held[r] - 1, on shared memory for the threads
  // (reused buffers: the codes are copied out of them below).
  const shared = onSharedMemory(pre);
  const index = shared ? sharedIntScratch('topk.index', rows * k) : new Int32Array(rows * k);
  const value = shared ? sharedScratch('topk.value', rows * k) : new Float32Array(rows * k);
  const held = shared ? sharedIntScratch('topk.held', rows) : new Int32Array(rows);
  runSplit(
    topKRowsInSlots,
    shared ? TOPK_WORK_PER_ELEMENT * rows * features : 0,
    (part) => [...partRange(part, rows), pre, features, k, SELECTION_BLOCK, index, value, held],
    { dependencies: [rowSelection, topKOfRowByBlocks, topKOfRow, selectKthLargest, medianOfThree] },
  );
  const rowStart = new Int32Array(rows + 1);
  let position = 0;
  for (let r = 0; r < rows; r++) {
    rowStart[r] = position;
    if (position !== r * k) {
      index.copyWithin(position, r * k, r * k + held[r]!);
      value.copyWithin(position, r * k, r * k + held[r]!);
    }
    position += held[r]!;
  }
  rowStart[rows] = position;
  const own = (slots: Int32Array | Float32Array) =>
    shared || position < rows * k ? slots.slice(0, position) : slots;
  return codesOf(rows, features, rowStart, own(index) as Int32Array, own(value) as Float32Array);
}

/**
 * A scan of one pre-activation by the selection costs about as much as this many
 * multiply-adds of the product kernels (threads.ts splits work above a minimum).
 */
const TOPK_WORK_PER_ELEMENT = 4;

/**
 * The k largest positive values of rows firstRow .. endRow - 1 of `pre` (rows x features),
 * in increasing feature order, into slots r k .. r k + held[r] - 1 of `index` and `value`.
 * Rows are cut by block maxima (blocks of `blockSize`) when there are 2 k blocks or more.
 * Self-contained but for the functions runSplit sends with it (rowSelection,
 * topKOfRowByBlocks, topKOfRow, selectKthLargest, medianOfThree).
 */
function topKRowsInSlots(
  firstRow: number,
  endRow: number,
  pre: Float32Array,
  features: number,
  k: number,
  blockSize: number,
  index: Int32Array,
  value: Float32Array,
  held: Int32Array,
): void {
  const blocks = Math.ceil(features / blockSize);
  const selection = rowSelection(k, blocks);
  const { bestIndex } = selection;
  for (let r = firstRow; r < endRow; r++) {
    const row = pre.subarray(r * features, (r + 1) * features);
    const count =
      blocks >= 2 * k
        ? topKOfRowByBlocks(row, k, blockSize, selection)
        : topKOfRow(row, 0, features, k, 0, 0, selection);
    // Increasing feature order within the row, as compress gives (insertion sort of <= k).
    for (let s = 1; s < count; s++) {
      const j = bestIndex[s]!;
      let t = s;
      while (t > 0 && bestIndex[t - 1]! > j) {
        bestIndex[t] = bestIndex[t - 1]!;
        t--;
      }
      bestIndex[t] = j;
    }
    for (let s = 0; s < count; s++) {
      const j = bestIndex[s]!;
      index[r * k + s] = j;
      value[r * k + s] = row[j]!;
    }
    held[r] = count;
  }
}

/** Features per block of the block-maximum cut. */
const SELECTION_BLOCK = 32;

/** Scratch of a row's selection, reused from row to row. */
interface RowSelection {
  /** bestValue[0 .. held) in decreasing order, bestIndex the features holding them. */
  bestValue: Float64Array;
  bestIndex: Int32Array;
  blockMaximum: Float32Array;
  maximaScratch: Float32Array;
}

function rowSelection(k: number, blocks: number): RowSelection {
  return {
    bestValue: new Float64Array(k),
    bestIndex: new Int32Array(k),
    blockMaximum: new Float32Array(blocks),
    maximaScratch: new Float32Array(blocks),
  };
}

/**
 * The k largest positive values of one row into selection.bestValue/bestIndex; returns how
 * many (fewer than k when fewer are positive). The k-th largest block maximum m is a lower
 * bound of the row's k-th largest value (k distinct entries reach it), so only blocks whose
 * maximum reaches m can hold a kept entry; those are visited in feature order, which keeps
 * the tie rule of topKByInsertion (equal values go to the lower feature).
 */
function topKOfRowByBlocks(
  row: Float32Array,
  k: number,
  blockSize: number,
  selection: RowSelection,
): number {
  // Floors below this (near float32's subnormals) are not narrowed by a relative step.
  const normalFloor = 1e-30;
  const { blockMaximum, maximaScratch } = selection;
  const features = row.length;
  const blocks = blockMaximum.length;
  for (let b = 0; b < blocks; b++) {
    const end = Math.min(features, (b + 1) * blockSize);
    // From -Infinity, so that NaN entries are passed over here as in the selection.
    let maximum = -Infinity;
    for (let j = b * blockSize; j < end; j++) {
      const v = row[j]!;
      if (v > maximum) maximum = v;
    }
    blockMaximum[b] = maximum;
  }
  maximaScratch.set(blockMaximum);
  const floor = selectKthLargest(maximaScratch, k);

  // Admit from the floor on: a double just below a float32 `floor` and above the float32
  // below it, so that `v > cut` is `v >= floor` for every float32 v (ties at the floor stay
  // in). Without it every positive entry of the first blocks would enter the sorted list
  // (measured: 38 ms against 16 ms for 1024 rows of 4096 standard normal values).
  let cut = floor > normalFloor && floor < Infinity ? floor * (1 - 2 ** -30) : 0;
  let held = 0;
  for (let b = 0; b < blocks; b++) {
    const maximum = blockMaximum[b]!;
    if (maximum < floor || !(maximum > cut)) continue;
    const end = Math.min(features, (b + 1) * blockSize);
    held = topKOfRow(row, b * blockSize, end, k, held, cut, selection);
    if (held === k) cut = selection.bestValue[k - 1]!;
  }
  return held;
}

/**
 * Offers row[first .. end) in feature order (only features with allowed[j] = 1, when given) to
 * a selection holding `held` values whose cut is `cut` (0 until k are held); returns the new
 * count. Once k are held a candidate must beat
 * the last one, so equal values keep the earlier (lower) feature.
 */
function topKOfRow(
  row: Float32Array,
  first: number,
  end: number,
  k: number,
  held: number,
  cut: number,
  selection: RowSelection,
  allowed?: Uint8Array,
): number {
  const { bestValue, bestIndex } = selection;
  for (let j = first; j < end; j++) {
    const v = row[j]!;
    if (!(v > cut) || (allowed !== undefined && allowed[j] === 0)) continue;
    let slot = held < k ? held++ : k - 1;
    while (slot > 0 && bestValue[slot - 1]! < v) {
      bestValue[slot] = bestValue[slot - 1]!;
      bestIndex[slot] = bestIndex[slot - 1]!;
      slot--;
    }
    bestValue[slot] = v;
    bestIndex[slot] = j;
    if (held === k) cut = bestValue[k - 1]!;
  }
  return held;
}

function topKByInsertion(
  pre: Float32Array,
  rows: number,
  features: number,
  k: number,
  allowed: Uint8Array | undefined,
  out: Float32Array,
): void {
  const selection = rowSelection(k, 0);
  for (let r = 0; r < rows; r++) {
    const row = pre.subarray(r * features, (r + 1) * features);
    const held = topKOfRow(row, 0, features, k, 0, 0, selection, allowed);
    const target = out.subarray(r * features, (r + 1) * features);
    for (let s = 0; s < held; s++) target[selection.bestIndex[s]!] = selection.bestValue[s]!;
  }
}

function topKBySelection(
  pre: Float32Array,
  rows: number,
  features: number,
  k: number,
  allowed: Uint8Array | undefined,
  out: Float32Array,
): void {
  const candidates = new Float32Array(features);
  for (let r = 0; r < rows; r++) {
    const base = r * features;
    let count = 0;
    for (let j = 0; j < features; j++) {
      const v = pre[base + j]!;
      if (v > 0 && (allowed === undefined || allowed[j] === 1)) candidates[count++] = v;
    }
    if (count === 0) continue;
    const cut = count <= k ? 0 : selectKthLargest(candidates.subarray(0, count), k);
    let taken = 0;
    for (let j = 0; j < features; j++) {
      const v = pre[base + j]!;
      if (v > cut && v > 0 && (allowed === undefined || allowed[j] === 1)) {
        out[base + j] = v;
        taken++;
      }
    }
    for (let j = 0; j < features && taken < k && cut > 0; j++) {
      if (pre[base + j] === cut && (allowed === undefined || allowed[j] === 1)) {
        out[base + j] = cut;
        taken++;
      }
    }
  }
}

/**
 * BatchTopK (Bussmann et al. 2024): keeps the `count` largest positive pre-activations of
 * the whole batch (rows x features), ties at the cut in index order, as compressed codes.
 * Returns them and the smallest kept value (0 when nothing is kept), the per-batch estimate
 * of the inference threshold.
 *
 * The cut is found by its bits: positive float32 values order as their bit patterns do, so
 * one pass counts the positive values per value of the upper 16 bits, the counts from the
 * top give the bucket that holds the cut, and a selection among that bucket's values alone
 * gives the cut itself (measured on 1024 x 4096 standard normal values: about 4x faster than
 * selecting among all the positive values).
 */
export function topKOfBatchCodes(
  pre: Float32Array,
  rows: number,
  features: number,
  count: number,
): { codes: Codes; smallestKept: number } {
  const bits = new Uint32Array(pre.buffer, pre.byteOffset, pre.length);
  const buckets = new Uint32Array(BATCH_BUCKETS);
  let positive = 0;
  for (let i = 0; i < pre.length; i++) {
    // NaN fails the comparison and is never kept.
    if (pre[i]! > 0) {
      buckets[bits[i]! >>> 16] = buckets[bits[i]! >>> 16]! + 1;
      positive++;
    }
  }
  const kept = Math.min(Math.max(0, count), positive);
  if (kept === 0) {
    const empty = codesOf(
      rows,
      features,
      new Int32Array(rows + 1),
      new Int32Array(0),
      new Float32Array(0),
    );
    return { codes: empty, smallestKept: 0 };
  }

  // The bucket of the cut, and how many kept values lie in buckets above it.
  let bucket = BATCH_BUCKETS - 1;
  let above = 0;
  while (above + buckets[bucket]! < kept) above += buckets[bucket--]!;
  const candidates = new Float32Array(buckets[bucket]!);
  let gathered = 0;
  for (let i = 0; i < pre.length; i++) {
    if (pre[i]! > 0 && bits[i]! >>> 16 === bucket) candidates[gathered++] = pre[i]!;
  }
  const cut = selectKthLargest(candidates, kept - above);
  let greater = above;
  for (const value of candidates) if (value > cut) greater++;

  // Everything above the cut, then ties at the cut in index order until `kept` are in.
  let ties = kept - greater;
  const rowStart = new Int32Array(rows + 1);
  const index = new Int32Array(kept);
  const value = new Float32Array(kept);
  let position = 0;
  for (let r = 0; r < rows; r++) {
    rowStart[r] = position;
    const row = pre.subarray(r * features, (r + 1) * features);
    for (let j = 0; j < features; j++) {
      const v = row[j]!;
      if (v > cut || (v === cut && ties > 0)) {
        if (v === cut) ties--;
        index[position] = j;
        value[position] = v;
        position++;
      }
    }
  }
  rowStart[rows] = position;
  return { codes: codesOf(rows, features, rowStart, index, value), smallestKept: cut };
}

/** Buckets of the BatchTopK cut: one per value of a float32's upper 16 bits. */
const BATCH_BUCKETS = 1 << 16;

/** JumpReLU: keeps pre-activations above their feature's threshold. */
export function jumpRelu(
  pre: Float32Array,
  rows: number,
  features: number,
  threshold: Float32Array,
): Float32Array {
  const out = new Float32Array(rows * features);
  for (let r = 0; r < rows; r++) {
    const base = r * features;
    for (let j = 0; j < features; j++) {
      const v = pre[base + j]!;
      if (v > threshold[j]! && v > 0) out[base + j] = v;
    }
  }
  return out;
}

/** The k-th largest value (k from 1) of `values`, which it reorders (quickselect). */
export function selectKthLargest(values: Float32Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  const target = k - 1;
  while (low < high) {
    // Median of three as pivot keeps sorted and reversed inputs linear.
    const middle = (low + high) >>> 1;
    const pivot = medianOfThree(values[low]!, values[middle]!, values[high]!);
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const held = values[i]!;
        values[i] = values[j]!;
        values[j] = held;
        i++;
        j--;
      }
    }
    if (target <= j) high = j;
    else if (target >= i) low = i;
    else break;
  }
  return values[target]!;
}

function medianOfThree(a: number, b: number, c: number): number {
  if (a > b) [a, b] = [b, a];
  if (b > c) b = c;
  return a > b ? a : b;
}
