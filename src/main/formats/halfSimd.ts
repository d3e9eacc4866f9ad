/**
 * float16 and bfloat16 to float32 with WebAssembly SIMD, 8 values per step. The module is
 * assembled here from its opcodes (no toolchain, no binary blob); where SIMD is unavailable,
 * `takeLane` returns null and callers keep the scalar table (halfBits.ts).
 *
 * The module imports its memory. A lane is one instance with a memory of its own: two input
 * slots, so that a positioned read can fill one while the other is converted, and an output
 * area small enough to stay in the cache while it is copied to the caller's array. Reading
 * straight into a slot saves the copy into WebAssembly memory; the copy out is left because
 * WebAssembly writes only its own memory. Callers that allocate their arrays in WebAssembly
 * memory (rowBuffer.ts) save that copy too: the kernels run on their memory, in place.
 *
 * float16, per 8 halves h, in 16-bit lanes: magnitude a = h & 0x7fff; the float32 of a is
 * (a << 13) + (112 << 23), whose upper 16 bits are (a >> 3) + 0x3800 and lower 16 bits
 * a << 13, so the two are computed 8 at a time and interleaved. That is exact for normal
 * halves. For exponent 0 (zero, subnormal) it gives 2^-15 + m 2^-25 instead of m 2^-24,
 * which is 2 f - 2^-14; as 2 f - 2^-14 >= f for every normal f, min(f, 2 f - 2^-14) is right
 * in every lane, with no mask and no subnormal float anywhere (they are slow on x86). Last,
 * the sign and, for exponent 31, the missing exponent bits are or-ed into the upper half:
 * the float steps saw a finite 2^16-ish value there, so the NaN payload is untouched.
 * bfloat16 is the upper half of a float32: interleaving with zeros is the whole conversion.
 */

// The tsconfig's ES2022 library does not declare WebAssembly; this is the part used here.
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => {
    buffer: ArrayBuffer;
  };
};

/** A WebAssembly memory, as far as it is used here. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export type WideElement = 'f16' | 'bf16';

/** Elements per input slot: the largest positioned read a lane takes. */
export const SLOT_ELEMENTS = 1 << 19;
/** Elements converted per call: 256 kB of float32, which stays in the L2 cache. */
const OUTPUT_ELEMENTS = 1 << 16;
/** Lanes kept for reuse; TrainingBatches reads 16 blocks at a time. */
const MAX_POOLED_LANES = 16;

/** The kernels' constants lie at the start of every memory they run on. */
export const CONSTANTS_BYTES = 128;
const CONSTANTS_OFFSET = 0;
export const PAGE_BYTES = 65536;
// 64 bytes between areas, so that a last group read past its count never touches the
// other slot while a read is filling it.
const SLOT_STRIDE = 2 * SLOT_ELEMENTS + 64;
const SLOT_OFFSETS = [1 << 16, (1 << 16) + SLOT_STRIDE] as const;
const OUTPUT_OFFSET = (1 << 16) + 2 * SLOT_STRIDE;
const MEMORY_PAGES = Math.ceil((OUTPUT_OFFSET + 4 * OUTPUT_ELEMENTS) / PAGE_BYTES);

/**
 * The kernels' constants, one v128 each. They are loaded from memory rather than written as
 * v128.const, which V8 rematerialises in every iteration (three instructions per constant
 * in --print-wasm-code); loaded once before the loop, they stay in registers.
 */
const CONSTANTS: { lanes: 'u16' | 'u32'; value: number }[] = [
  { lanes: 'u16', value: 0x7fff }, // magnitude mask
  { lanes: 'u16', value: 0x7bff }, // largest finite magnitude
  { lanes: 'u16', value: 0x7f80 }, // float32 exponent bits, upper half
  { lanes: 'u16', value: 0x3800 }, // (127 - 15) << 23, upper half
  { lanes: 'u32', value: 0x38800000 }, // 2^-14 as float32
  { lanes: 'u32', value: 0 },
];
const [ABS_MASK, FINITE_MAX, EXPONENT_BITS, REBIAS, SUBNORMAL_STEP, ZERO] = [0, 1, 2, 3, 4, 5];

function leb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

const simd = (opcode: number) => [0xfd, ...leb(opcode)];
/** i8x16.shuffle of (zero-or-low, high): 16-bit lanes of the first and second interleaved. */
const interleave = (half: 'low' | 'high') => {
  const first = half === 'low' ? 0 : 8;
  const lanes: number[] = [];
  for (let k = 0; k < 4; k++)
    lanes.push(first + 2 * k, first + 2 * k + 1, 16 + first + 2 * k, 17 + first + 2 * k);
  return [...simd(0x0d), ...lanes];
};

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  i32Eqz: [0x45],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  localGet: (index: number) => [0x20, index],
  localSet: (index: number) => [0x21, index],
  localTee: (index: number) => [0x22, index],
  i32Const: (value: number) => [0x41, ...signedLeb(value)],
  load: (offset: number) => [...simd(0x00), 4, ...leb(offset)],
  store: (offset: number) => [...simd(0x0b), 4, ...leb(offset)],
  and: simd(0x4e),
  or: simd(0x50),
  xor: simd(0x51),
  i16x8GtS: simd(0x31),
  i16x8Shl: simd(0x8b),
  i16x8ShrU: simd(0x8d),
  i16x8Add: simd(0x8e),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Pmin: simd(0xea),
};

// Parameters: 0 source, 1 target (byte addresses), 2 groups of 8 elements.
const [SOURCE, TARGET, GROUPS] = [0, 1, 2];
// v128 locals: the constants from 3, then working values.
const constant = (index: number) => op.localGet(3 + index);
const FIRST_WORKING = 3 + CONSTANTS.length;
const HALVES = FIRST_WORKING;
const MAGNITUDE = FIRST_WORKING + 1;
const HIGH = FIRST_WORKING + 2;
const LOW = FIRST_WORKING + 3;
const FLAGS = FIRST_WORKING + 4;
const WIDE = FIRST_WORKING + 5;
const V128_LOCALS = WIDE - 2;

/** A function (source, target, groups) that runs `step` once per group of 8 elements. */
function kernel(step: number[]): number[] {
  const loadConstants = CONSTANTS.flatMap((_, index) => [
    ...op.i32Const(CONSTANTS_OFFSET),
    ...op.load(16 * index),
    ...op.localSet(3 + index),
  ]);
  const body = [
    ...[1, ...leb(V128_LOCALS), 0x7b],
    ...loadConstants,
    ...op.block,
    ...op.loop,
    ...op.localGet(GROUPS),
    ...op.i32Eqz,
    ...op.brIf(1),
    ...op.localGet(SOURCE),
    ...op.load(0),
    ...op.localSet(HALVES),
    ...step,
    ...op.localGet(SOURCE),
    ...op.i32Const(16),
    ...op.i32Add,
    ...op.localSet(SOURCE),
    ...op.localGet(TARGET),
    ...op.i32Const(32),
    ...op.i32Add,
    ...op.localSet(TARGET),
    ...op.localGet(GROUPS),
    ...op.i32Const(1),
    ...op.i32Sub,
    ...op.localSet(GROUPS),
    ...op.br(0),
    ...op.end, // loop
    ...op.end, // block
    ...op.end, // function
  ];
  return [...leb(body.length), ...body];
}

/** Stores four float32 of the halves' low or high 4 lanes (see the file comment). */
const halfQuarter = (half: 'low' | 'high') => [
  ...op.localGet(TARGET),
  ...op.localGet(LOW),
  ...op.localGet(HIGH),
  ...interleave(half),
  ...op.localTee(WIDE),
  ...op.localGet(WIDE),
  ...op.f32x4Add,
  ...constant(SUBNORMAL_STEP),
  ...op.f32x4Sub,
  ...op.localGet(WIDE),
  ...op.f32x4Pmin,
  ...constant(ZERO),
  ...op.localGet(FLAGS),
  ...interleave(half),
  ...op.or,
  ...op.store(half === 'low' ? 0 : 16),
];

const halfStep = [
  ...op.localGet(HALVES),
  ...constant(ABS_MASK),
  ...op.and,
  ...op.localTee(MAGNITUDE),
  ...constant(FINITE_MAX),
  ...op.i16x8GtS,
  ...constant(EXPONENT_BITS),
  ...op.and,
  ...op.localGet(HALVES),
  ...op.localGet(MAGNITUDE),
  ...op.xor,
  ...op.or,
  ...op.localSet(FLAGS),
  ...op.localGet(MAGNITUDE),
  ...op.i32Const(3),
  ...op.i16x8ShrU,
  ...constant(REBIAS),
  ...op.i16x8Add,
  ...op.localSet(HIGH),
  ...op.localGet(MAGNITUDE),
  ...op.i32Const(13),
  ...op.i16x8Shl,
  ...op.localSet(LOW),
  ...halfQuarter('low'),
  ...halfQuarter('high'),
];

const brainQuarter = (half: 'low' | 'high') => [
  ...op.localGet(TARGET),
  ...constant(ZERO),
  ...op.localGet(HALVES),
  ...interleave(half),
  ...op.store(half === 'low' ? 0 : 16),
];

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

const name = (text: string) => [text.length, ...[...text].map((char) => char.charCodeAt(0))];

/** "\0asm", version 1. */
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Memory limits of the import: shared memories must declare a maximum (4 GB here). */
const memoryLimits = (shared: boolean) => (shared ? [0x03, 1, ...leb(65536)] : [0x00, 1]);

// Sections: type (i32 i32 i32) -> (), the memory imported as basis.memory (one page at
// least), two functions of the type, their exports, code.
const moduleBytes = (shared: boolean) =>
  Uint8Array.from([
    ...HEADER,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]),
    ...section(2, [1, ...name('basis'), ...name('memory'), 0x02, ...memoryLimits(shared)]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...name('f16'), 0x00, 0, ...name('bf16'), 0x00, 1]),
    ...section(10, [
      2,
      ...kernel(halfStep),
      ...kernel([...brainQuarter('low'), ...brainQuarter('high')]),
    ]),
  ]);

type Kernel = (source: number, target: number, groups: number) => void;

/**
 * The kernels instantiated on one memory, whose first CONSTANTS_BYTES they own. `convert`
 * widens groups of 8 elements from byte address `source` to byte address `target`; the
 * target may overlap the source as long as it lies at least as far before it as the bytes
 * already converted (each group is loaded before its result is stored).
 */
export class WideningKernels {
  readonly convert: Record<WideElement, Kernel>;

  constructor(module: object, memory: WasmMemory) {
    const exports = new WebAssembly.Instance(module, { basis: { memory } }).exports;
    this.convert = { f16: exports.f16 as Kernel, bf16: exports.bf16 as Kernel };
    const view = new DataView(memory.buffer, CONSTANTS_OFFSET, CONSTANTS_BYTES);
    CONSTANTS.forEach(({ lanes, value }, index) => {
      for (let byte = 0; byte < 16; byte += lanes === 'u16' ? 2 : 4) {
        if (lanes === 'u16') view.setUint16(16 * index + byte, value, true);
        else view.setUint32(16 * index + byte, value, true);
      }
    });
  }
}

/** One instance: input slots, an output area and the kernels (see the file comment). */
export class WideningLane {
  /** The two input slots, SLOT_ELEMENTS little-endian 16-bit elements each. */
  readonly slots: readonly [Uint8Array, Uint8Array];
  private readonly kernels: Record<WideElement, Kernel>;
  private readonly output: Float32Array;

  /** A lane on a memory of its own; null where kernelsOnNewMemory gives none. */
  static create(): WideningLane | null {
    const made = kernelsOnNewMemory(MEMORY_PAGES, false);
    return made ? new WideningLane(made.memory.buffer, made.kernels) : null;
  }

  private constructor(buffer: ArrayBufferLike, kernels: WideningKernels) {
    this.kernels = kernels.convert;
    this.slots = [
      new Uint8Array(buffer, SLOT_OFFSETS[0], 2 * SLOT_ELEMENTS),
      new Uint8Array(buffer, SLOT_OFFSETS[1], 2 * SLOT_ELEMENTS),
    ];
    this.output = new Float32Array(buffer, OUTPUT_OFFSET, OUTPUT_ELEMENTS);
  }

  /** Converts the first `count` elements of slots[slot] into target[targetOffset...]. */
  widen(
    element: WideElement,
    slot: 0 | 1,
    count: number,
    target: Float32Array,
    targetOffset: number,
  ): void {
    // The last group may run past `count` into bytes of no meaning; only `count` are copied.
    const convert = this.kernels[element];
    for (let done = 0; done < count; done += OUTPUT_ELEMENTS) {
      const length = Math.min(OUTPUT_ELEMENTS, count - done);
      convert(SLOT_OFFSETS[slot] + 2 * done, OUTPUT_OFFSET, Math.ceil(length / 8));
      target.set(this.output.subarray(0, length), targetOffset + done);
    }
  }
}

function compile(shared: boolean): object | null {
  try {
    const bytes = moduleBytes(shared);
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}

const compiled = compile(false);
/** The kernels for shared memories, which other threads can run on too; null without. */
export const sharedKernelModule = compile(true);

/**
 * A memory of `pages` WebAssembly pages with the kernels on it: shared between threads when
 * `shareable` and the runtime allows (copies out of shared memory are slower in V8, so lanes
 * do not ask), else unshared; null without SIMD, or when no memory can be had (each one
 * reserves address space, of which a process has a bounded amount).
 */
export function kernelsOnNewMemory(
  pages: number,
  shareable: boolean,
): { memory: WasmMemory; kernels: WideningKernels; shared: boolean } | null {
  const attempts = [
    { module: shareable ? sharedKernelModule : null, shared: true },
    { module: compiled, shared: false },
  ];
  for (const { module, shared } of attempts) {
    if (!module) continue;
    try {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
      return { memory, kernels: new WideningKernels(module, memory), shared };
    } catch {
      // This kind of memory is unavailable: try the next, else none.
    }
  }
  return null;
}

const pool: WideningLane[] = [];

/**
 * A lane for the caller's exclusive use, or null where WebAssembly SIMD is unavailable or no
 * memory can be had for a new lane (each reserves address space: a process under a
 * virtual-memory limit runs out of it); callers then convert with the scalar table.
 */
export function takeLane(): WideningLane | null {
  return pool.pop() ?? WideningLane.create();
}

export function returnLane(lane: WideningLane): void {
  if (pool.length < MAX_POOLED_LANES) pool.push(lane);
}

/**
 * Converts `count` little-endian elements held in `source` (any offset) into
 * target[targetOffset...] through a lane; false where WebAssembly SIMD is unavailable.
 */
export function widenBytes(
  element: WideElement,
  source: Uint8Array,
  count: number,
  target: Float32Array,
  targetOffset: number,
): boolean {
  const lane = takeLane();
  if (!lane) return false;
  try {
    for (let done = 0; done < count; done += SLOT_ELEMENTS) {
      const length = Math.min(SLOT_ELEMENTS, count - done);
      lane.slots[0].set(source.subarray(2 * done, 2 * (done + length)));
      lane.widen(element, 0, length, target, targetOffset + done);
    }
  } finally {
    returnLane(lane);
  }
  return true;
}
