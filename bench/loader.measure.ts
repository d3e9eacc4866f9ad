/**
 * Loader benchmark. Generates a float16 .npy of about 4 GB in the temp folder (less when the
 * disk has under 10 GB free, and says so), reads it once so it is page-cache hot, then
 * times `cat FILE > /dev/null` against Basis reading every row as float32 (sequential
 * 4 MB row blocks into a row buffer, as TrainingBatches reads, and into a plain
 * Float32Array; ROUNDS interleaved turns, best time of each; then one epoch of shuffled
 * training batches). The same bytes are then
 * read as bfloat16 (the header rewritten to '<V2', opened with dtype bf16). Repeats the
 * sequential figures for a float32 file of the same size (no conversion: the bytes are read
 * straight into the caller's Float32Array), and reports peak RSS and the load average.
 * Deletes the files.
 *
 *   npx vitest run --config bench/loader.vitest.config.ts
 *   BASIS_BENCH_GB=1 npx vitest run --config bench/loader.vitest.config.ts   (smaller files)
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

import type { OpenOptions } from '../src/shared/contract';
import { TrainingBatches } from '../src/main/formats/batches';
import { encodeNpyHeader } from '../src/main/formats/npyWrite';
import { openActivations } from '../src/main/formats/open';
import { allocateRowBuffer } from '../src/main/formats/rowBuffer';

const COLUMNS = 2048;
const TARGET_BYTES = Number(process.env.BASIS_BENCH_GB ?? 4) * 2 ** 30;
const MIN_FREE_BYTES = 10 * 2 ** 30;
const WRITE_CHUNK_ROWS = 4096;
const BLOCK_BYTES = 4 << 20;
const BATCH_SIZE = 4096;
/** cat and Basis take turns this many times; the best time of each counts. */
const ROUNDS = 3;

const megabytes = (bytes: number) => bytes / 1e6;

/** Writes rows x COLUMNS of pseudo-random finite values as float16 or float32. */
async function generate(path: string, rows: number, dtype: 'f16' | 'f32'): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    await handle.write(encodeNpyHeader([rows, COLUMNS], dtype === 'f16' ? '<f2' : '<f4'));
    const halves = new Uint16Array(WRITE_CHUNK_ROWS * COLUMNS);
    const floats = new Float32Array(WRITE_CHUNK_ROWS * COLUMNS);
    let state = 12345;
    for (let first = 0; first < rows; first += WRITE_CHUNK_ROWS) {
      const count = Math.min(WRITE_CHUNK_ROWS, rows - first) * COLUMNS;
      for (let i = 0; i < count; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        // Clearing bit 14 keeps the float16 exponent below 31: every value is finite.
        if (dtype === 'f16') halves[i] = (state >>> 16) & 0xbfff;
        else floats[i] = (state >>> 8) / 2 ** 23 - 1;
      }
      const chunk = dtype === 'f16' ? halves : floats;
      await handle.write(new Uint8Array(chunk.buffer, 0, count * chunk.BYTES_PER_ELEMENT));
    }
  } finally {
    await handle.close();
  }
}

function timeCat(path: string): number {
  const started = process.hrtime.bigint();
  const result = spawnSync('sh', ['-c', 'cat "$0" > /dev/null', path]);
  if (result.status !== 0) throw new Error(`cat failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

interface Figures {
  size: number;
  rows: number;
  catRate: number;
  sequentialRate: number;
  rowsPerSecond: number;
  /** The same reads into a plain Float32Array (float16: through a lane, copied out). */
  plainRate: number;
  batchRate?: number;
  batchRowsPerSecond?: number;
  brainCatRate?: number;
  brainRate?: number;
  brainRowsPerSecond?: number;
}

/**
 * Seconds to read every row of the file at `path` in 4 MB float32 blocks: a block from
 * allocateRowBuffer (filled in place, as TrainingBatches' buffers are) or a plain array.
 */
async function readSequentially(
  path: string,
  block: 'row buffer' | 'plain array',
  options: OpenOptions = {},
): Promise<number> {
  const source = await openActivations(path, options);
  try {
    const { rows, columns } = source.description;
    const blockRows = Math.floor(BLOCK_BYTES / (4 * columns));
    const length = blockRows * columns;
    const values = block === 'row buffer' ? allocateRowBuffer(length) : new Float32Array(length);
    let checksum = 0;
    const started = Date.now();
    for (let first = 0; first < rows; first += blockRows) {
      const count = Math.min(blockRows, rows - first);
      await source.readRows(first, count, values);
      checksum += values[0]!;
    }
    const seconds = (Date.now() - started) / 1000;
    expect(Number.isFinite(checksum)).toBe(true);
    return seconds;
  } finally {
    await source.close();
  }
}

/** Rewrites the header of a '<f2' .npy as '<V2' (same length): the bytes become bfloat16. */
async function relabelAsBrainFloat(path: string, rows: number): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    await handle.write(encodeNpyHeader([rows, COLUMNS], '<V2'), 0, undefined, 0);
  } finally {
    await handle.close();
  }
}

/**
 * Best-of-ROUNDS rates (MB/s of file) of cat and of Basis reading `path` sequentially, the
 * two interleaved so that both see the same load from other work on the machine.
 */
async function bestRates(path: string, size: number, options: OpenOptions = {}) {
  let catSeconds = Infinity;
  let basisSeconds = Infinity;
  let plainSeconds = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    catSeconds = Math.min(catSeconds, timeCat(path));
    basisSeconds = Math.min(basisSeconds, await readSequentially(path, 'row buffer', options));
    plainSeconds = Math.min(plainSeconds, await readSequentially(path, 'plain array', options));
  }
  return { catRate: megabytes(size) / catSeconds, basisSeconds, plainSeconds };
}

async function measure(folder: string, dtype: 'f16' | 'f32', bytes: number, withBatches: boolean) {
  const rows = Math.floor(bytes / (COLUMNS * (dtype === 'f16' ? 2 : 4)));
  const path = join(folder, `bench_${dtype}.npy`);
  try {
    let started = Date.now();
    await generate(path, rows, dtype);
    const size = (await fs.stat(path)).size;
    console.log(
      `generated ${rows} x ${COLUMNS} ${dtype} (${(size / 2 ** 30).toFixed(2)} GiB) in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    // Warm-up so that cat and Basis both read from the page cache.
    timeCat(path);
    const { catRate, basisSeconds, plainSeconds } = await bestRates(path, size);
    const figures: Figures = {
      size,
      rows,
      catRate,
      sequentialRate: megabytes(size) / basisSeconds,
      rowsPerSecond: rows / basisSeconds,
      plainRate: megabytes(size) / plainSeconds,
    };

    if (withBatches) {
      const source = await openActivations(path);
      const batches = new TrainingBatches(source, {
        batchSize: BATCH_SIZE,
        seed: 1,
        skipNonfinite: false,
      });
      const batchCount = Math.floor(rows / BATCH_SIZE);
      started = Date.now();
      const batch = new Float32Array(BATCH_SIZE * COLUMNS);
      let checksum = 0;
      for (let i = 0; i < batchCount; i++) checksum += (await batches.next(batch)).values[0]!;
      const batchSeconds = (Date.now() - started) / 1000;
      batches.close();
      await source.close();
      expect(Number.isFinite(checksum)).toBe(true);
      figures.batchRate = megabytes((batchCount * BATCH_SIZE * size) / rows) / batchSeconds;
      figures.batchRowsPerSecond = (batchCount * BATCH_SIZE) / batchSeconds;

      await relabelAsBrainFloat(path, rows);
      const brain = await bestRates(path, size, { dtype: 'bf16' });
      figures.brainCatRate = brain.catRate;
      figures.brainRate = megabytes(size) / brain.basisSeconds;
      figures.brainRowsPerSecond = rows / brain.basisSeconds;
    }
    return figures;
  } finally {
    await fs.rm(path, { force: true });
  }
}

it("streams float16 and float32 .npy in bounded memory at half cat's speed or better", async () => {
  const loadBefore = loadavg();
  const folder = await fs.mkdtemp(join(tmpdir(), 'basis-bench-'));
  const statistics = await fs.statfs(folder);
  const free = statistics.bavail * statistics.bsize;
  let target = TARGET_BYTES;
  if (free < MIN_FREE_BYTES) {
    target = Math.min(target, Math.floor(free / 4));
    console.log(
      `only ${(free / 2 ** 30).toFixed(1)} GiB free in ${tmpdir()}: scaled the files down to ` +
        `${(target / 2 ** 30).toFixed(2)} GiB`,
    );
  }
  try {
    const half = await measure(folder, 'f16', target, true);
    const single = await measure(folder, 'f32', target, false);
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const loadAfter = loadavg();
    const percent = (rate: number, cat: number) => `${((100 * rate) / cat).toFixed(0)}% of cat`;
    const sequential = (rate: number, rowsPerSecond: number, cat: number) =>
      `${rate.toFixed(0)} MB/s of file, ${(rowsPerSecond / 1e3).toFixed(0)} k rows/s ` +
      `(${percent(rate, cat)})`;
    const load = (averages: number[]) => averages.map((value) => value.toFixed(2)).join(' ');
    console.log(
      [
        `best of ${ROUNDS} interleaved rounds; load average ${load(loadBefore)} before, ` +
          `${load(loadAfter)} after (1, 5, 15 min; ${cpus().length} CPUs)`,
        `float16 file: ${half.rows} x ${COLUMNS}, ${megabytes(half.size).toFixed(0)} MB, ` +
          `page-cache hot`,
        `  cat > /dev/null: ${half.catRate.toFixed(0)} MB/s`,
        `  readRows, 4 MB float32 blocks: ` +
          sequential(half.sequentialRate, half.rowsPerSecond, half.catRate),
        `  the same into a plain Float32Array: ${half.plainRate.toFixed(0)} MB/s of file ` +
          `(${percent(half.plainRate, half.catRate)})`,
        `  TrainingBatches, batch ${BATCH_SIZE}, shuffled: ${half.batchRate!.toFixed(0)} MB/s ` +
          `of file, ${(half.batchRowsPerSecond! / 1e3).toFixed(0)} k rows/s`,
        `  the same bytes as bfloat16 ('<V2', dtype bf16): cat ${half.brainCatRate!.toFixed(0)} ` +
          `MB/s; readRows ` +
          sequential(half.brainRate!, half.brainRowsPerSecond!, half.brainCatRate!),
        `float32 file: ${single.rows} x ${COLUMNS}, ${megabytes(single.size).toFixed(0)} MB, ` +
          `page-cache hot`,
        `  cat > /dev/null: ${single.catRate.toFixed(0)} MB/s`,
        `  readRows, 4 MB float32 blocks: ` +
          sequential(single.sequentialRate, single.rowsPerSecond, single.catRate),
        `peak RSS of the benchmark process (vitest included): ` +
          `${(peakRss / 2 ** 20).toFixed(0)} MiB`,
      ].join('\n'),
    );
    expect(peakRss).toBeLessThan(512 * 2 ** 20);
    expect(single.sequentialRate).toBeGreaterThanOrEqual(single.catRate / 2);
    expect(half.sequentialRate).toBeGreaterThanOrEqual(half.catRate / 2);
  } finally {
    await fs.rm(folder, { recursive: true, force: true });
  }
});
