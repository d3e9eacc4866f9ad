/**
 * What a coding helper thread receives: a block of rows on shared memory, and where it
 * writes back its statistics. Shared by the caller (codingThreads.ts) and the helper
 * (codingThread.ts) so that both read one layout.
 */
import type { CodingOptions, CodingProblem, CodingStats } from './inference';

/**
 * A helper's control array (Int32, CONTROL_LENGTH): at STATE idle, busy with a job, done or
 * failed; at READY 1 once the helper listens, -1 once it has ended; at PROGRESS a count of
 * rows coded, which the caller watches while it waits.
 */
export const CODING_STATE = { idle: 0, busy: 1, done: 2, failed: 3 } as const;
export const CONTROL = { state: 0, ready: 1, progress: 2 } as const;
export const CONTROL_LENGTH = 3;

const STAT_FIELDS = [
  'maxResidual',
  'unconvergedRows',
  'polishedRows',
  'sweeps',
  'breakpoints',
  'fallbackRows',
] as const satisfies readonly (keyof CodingStats)[];

export interface CodingJob {
  /** M x M float64. */
  gram: SharedArrayBuffer;
  features: number;
  alpha: number;
  /** rows x M float64 each, the block's rows only. */
  correlations: SharedArrayBuffer;
  codes: SharedArrayBuffer;
  /** Byte offset of the block in correlations and codes. */
  byteOffset: number;
  rows: number;
  options: CodingOptions;
  /** STAT_FIELDS float64 written by the helper. */
  stats: SharedArrayBuffer;
}

export const CODING_STATS_BYTES = 8 * STAT_FIELDS.length;

/** Views of a job's arrays. */
export function readCodingJob(job: CodingJob): {
  problem: CodingProblem;
  correlations: Float64Array;
  codes: Float64Array;
  rows: number;
  options: CodingOptions;
} {
  const m = job.features;
  const length = job.rows * m;
  return {
    problem: { gram: new Float64Array(job.gram, 0, m * m), features: m, alpha: job.alpha },
    correlations: new Float64Array(job.correlations, job.byteOffset, length),
    codes: new Float64Array(job.codes, job.byteOffset, length),
    rows: job.rows,
    options: job.options,
  };
}

export function writeCodingStats(job: CodingJob, stats: CodingStats): void {
  const fields = new Float64Array(job.stats);
  STAT_FIELDS.forEach((field, k) => (fields[k] = stats[field]));
}

export function readCodingStats(job: CodingJob): CodingStats {
  const fields = new Float64Array(job.stats);
  const stats = {} as CodingStats;
  STAT_FIELDS.forEach((field, k) => (stats[field] = fields[k]!));
  return stats;
}

/** Statistics of several blocks as one: the worst residual, the sums of the counts. */
export function mergeCodingStats(parts: CodingStats[]): CodingStats {
  const merged = {} as CodingStats;
  for (const field of STAT_FIELDS) merged[field] = 0;
  for (const part of parts) {
    for (const field of STAT_FIELDS) {
      // As the solver keeps it: a NaN residual stays the worst.
      if (field !== 'maxResidual') merged[field] += part[field];
      else if (!(part.maxResidual <= merged.maxResidual)) merged.maxResidual = part.maxResidual;
    }
  }
  return merged;
}
