/**
 * Reads float16 or bfloat16 elements of a file as float32 through WebAssembly SIMD lanes
 * (halfSimd.ts): positioned reads land straight in a lane's input slots, the next one in
 * flight while the current one is converted. A request that starts where the previous one
 * ended is taken for sequential reading, and the chunk after it is read ahead, so that the
 * next request finds its first chunk there instead of waiting for it.
 */
import type { RandomAccessFile } from './fileAccess';
import {
  returnLane,
  SLOT_ELEMENTS,
  takeLane,
  type WideElement,
  type WideningLane,
} from './halfSimd';

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
    if (!ahead) return undefined;
    this.readAhead = undefined;
    if (ahead.first === first) return ahead;
    void ahead.landed.catch(() => undefined).then(() => returnLane(ahead.lane));
    return undefined;
  }
}
