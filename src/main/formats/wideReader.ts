/**
 * Reads float16 or bfloat16 elements of a file as float32 through WebAssembly SIMD lanes
 * (halfSimd.ts): positioned reads land straight in a lane's input slots, the next one in
 * flight while the current one is converted. A request that starts where the previous one
 * ended is taken for sequential reading, and the chunk after it is read ahead, so that the
 * next request finds its first chunk there instead of waiting for it.
 *
 * A target made by allocateRowBuffer (rowBuffer.ts) is filled in place instead, in parts:
 * each part's elements are read into the back half of the rows it fills and widened forward
 * chunk by chunk, a chunk's float32 ending where its own 16-bit elements ended, so widening
 * never touches bytes still to be read. This thread fills one part with synchronous reads
 * while idle helper threads fill the others (wideningThreads.ts).
 */
import type { RandomAccessFile } from './fileAccess';
import { brainToFloatBits, halfToFloatBits } from './halfBits';
import {
  returnLane,
  SLOT_ELEMENTS,
  takeLane,
  type WideElement,
  type WideningKernels,
  type WideningLane,
} from './halfSimd';
import { inPlaceTarget, type InPlaceTarget } from './rowBuffer';
import {
  fillPart,
  finishPosted,
  idleHelpers,
  type InPlacePart,
  MIN_PART_ELEMENTS,
  PART_CHUNK_ELEMENTS,
  postParts,
} from './wideningThreads';

interface ReadAhead {
  lane: WideningLane;
  slot: 0 | 1;
  /** First element read ahead (SLOT_ELEMENTS of them, or up to the end). */
  first: number;
  landed: Promise<void>;
}

export class WideReader {
  private readonly file: RandomAccessFile;
  private readonly dataOffset: number;
  private readonly element: WideElement;
  private readonly totalElements: number;
  private readAhead: ReadAhead | undefined;
  /** Where the latest request ends: the next one starting there reads sequentially. */
  private sequentialEnd = -1;

  constructor(
    file: RandomAccessFile,
    dataOffset: number,
    element: WideElement,
    totalElements: number,
  ) {
    this.file = file;
    this.dataOffset = dataOffset;
    this.element = element;
    this.totalElements = totalElements;
  }

  /**
   * Converts elements first .. first + count - 1 into target[targetOffset...]; false where
   * WebAssembly SIMD is unavailable.
   */
  async read(
    first: number,
    count: number,
    target: Float32Array,
    targetOffset: number,
  ): Promise<boolean> {
    const sequential = first === this.sequentialEnd;
    this.sequentialEnd = first + count;
    const inPlace = inPlaceTarget(target);
    if (inPlace) {
      this.discardReadAhead();
      await this.readInPlace(inPlace, first, count, target, targetOffset);
      return true;
    }
    const ahead = this.takeReadAhead(first);
    const lane = ahead?.lane ?? takeLane();
    if (!lane) return false;
    const firstSlot = ahead?.slot ?? 0;
    const slotOf = (index: number) => ((firstSlot + index) % 2) as 0 | 1;
    const chunks = Math.ceil(count / SLOT_ELEMENTS);
    const chunkLength = (index: number) => Math.min(SLOT_ELEMENTS, count - index * SLOT_ELEMENTS);
    const readChunk = (index: number) =>
      this.readSlot(lane, slotOf(index), first + index * SLOT_ELEMENTS, chunkLength(index));

    // A failed read-ahead is simply read again.
    let pending = ahead ? ahead.landed.catch(() => readChunk(0)) : readChunk(0);
    // Once the read-ahead starts, the lane is its own (no await comes in between).
    let readingAhead = false;
    try {
      for (let index = 0; index < chunks; index++) {
        await pending;
        const end = first + count;
        if (index + 1 < chunks) {
          pending = readChunk(index + 1);
        } else if (sequential && end < this.totalElements && !this.readAhead) {
          this.startReadAhead(lane, slotOf(index + 1), end);
          readingAhead = true;
        }
        const offset = targetOffset + index * SLOT_ELEMENTS;
        lane.widen(this.element, slotOf(index), chunkLength(index), target, offset);
      }
    } finally {
      if (!readingAhead) {
        // A read still in flight after a failure must land before the lane is reused.
        await pending.catch(() => undefined);
        returnLane(lane);
      }
    }
    return true;
  }

  /** Waits for a read-ahead still in flight and gives its lane back. */
  async close(): Promise<void> {
    const ahead = this.readAhead;
    this.readAhead = undefined;
    if (!ahead) return;
    await ahead.landed.catch(() => undefined);
    returnLane(ahead.lane);
  }

  /** Fills target[targetOffset...] in place (see the file comment). */
  private async readInPlace(
    place: InPlaceTarget,
    first: number,
    count: number,
    target: Float32Array,
    targetOffset: number,
  ): Promise<void> {
    const output = target.byteOffset + 4 * targetOffset;
    // Whole groups of 8 go through the kernels; the last count % 8 are read apart.
    const grouped = count - (count % 8);
    const helpers = place.shared ? idleHelpers() : 0;
    const parts = this.parts(first, grouped, output, helpers + 1);
    const { posted, left } = place.shared
      ? postParts(place.shared, parts.slice(1), this.element, this.file.descriptor)
      : { posted: undefined, left: parts.slice(1) };
    let failed: InPlacePart[] = [];
    try {
      for (const part of [parts[0]!, ...left]) this.fillHere(place.kernels, target.buffer, part);
    } finally {
      if (posted) failed = await finishPosted(posted);
    }
    // A part a helper could not fill is filled here, which throws what went wrong.
    for (const part of failed) this.fillHere(place.kernels, target.buffer, part);
    const tailOutput = output + 4 * grouped;
    await this.readTail(target.buffer as ArrayBuffer, first + grouped, count - grouped, tailOutput);
  }

  /**
   * `grouped` elements cut into at most `ways` parts of whole groups, each filling its own
   * rows with its 16-bit elements in their back half (at least one part, maybe empty).
   */
  private parts(first: number, grouped: number, output: number, ways: number): InPlacePart[] {
    const count = Math.max(1, Math.min(ways, Math.floor(grouped / MIN_PART_ELEMENTS)));
    const size = 8 * Math.ceil(grouped / count / 8);
    const parts: InPlacePart[] = [];
    for (let start = 0; start < grouped || parts.length === 0; start += size) {
      const length = Math.min(size, grouped - start);
      parts.push({
        position: this.dataOffset + 2 * (first + start),
        input: output + 4 * start + 2 * length,
        output: output + 4 * start,
        count: length,
      });
    }
    return parts;
  }

  private fillHere(kernels: WideningKernels, buffer: ArrayBufferLike, part: InPlacePart): void {
    const read = (bytes: Uint8Array, position: number) => this.file.readIntoSync(bytes, position);
    fillPart(read, kernels.convert[this.element], buffer, part, PART_CHUNK_ELEMENTS);
  }

  /** The last `count` (< 8) elements from element `first`, converted one by one. */
  private async readTail(
    buffer: ArrayBuffer,
    first: number,
    count: number,
    output: number,
  ): Promise<void> {
    if (count === 0) return;
    const bytes = await this.file.read(this.dataOffset + 2 * first, 2 * count, 'data');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bits = new Uint32Array(buffer, output, count);
    for (let k = 0; k < count; k++) {
      const element = view.getUint16(2 * k, true);
      bits[k] = this.element === 'f16' ? halfToFloatBits(element) : brainToFloatBits(element);
    }
  }

  /** Drops a read-ahead once it has landed. */
  private discardReadAhead(): void {
    const ahead = this.readAhead;
    this.readAhead = undefined;
    if (ahead) void ahead.landed.catch(() => undefined).then(() => returnLane(ahead.lane));
  }

  private readSlot(lane: WideningLane, slot: 0 | 1, first: number, count: number) {
    const bytes = lane.slots[slot].subarray(0, 2 * count);
    return this.file.readInto(bytes, this.dataOffset + 2 * first);
  }

  private startReadAhead(lane: WideningLane, slot: 0 | 1, first: number): void {
    const count = Math.min(SLOT_ELEMENTS, this.totalElements - first);
    const landed = this.readSlot(lane, slot, first, count);
    // Handled now: a failure only means the next request reads the chunk itself.
    landed.catch(() => undefined);
    this.readAhead = { lane, slot, first, landed };
  }

  /** The read-ahead when it starts at `first`; any other is dropped once it has landed. */
  private takeReadAhead(first: number): ReadAhead | undefined {
    const ahead = this.readAhead;
    if (ahead?.first !== first) {
      this.discardReadAhead();
      return undefined;
    }
    this.readAhead = undefined;
    return ahead;
  }
}
