/**
 * Throttles what the training loop reports: loss-curve points (at most MAX_RECORDS per run,
 * each the mean of the steps since the previous point) and progress messages (about four a
 * second, plus the last step).
 */
import type { StepRecord } from '../../shared/contract';

export const PROGRESS_INTERVAL_MS = 250;
/** Loss-curve points kept per run; longer runs average neighbouring steps. */
export const MAX_RECORDS = 2000;

export class StepRecorder {
  private readonly every: number;
  private sums: Record<string, number> = {};
  private count = 0;
  private pending: StepRecord[] = [];
  private windowStartMs: number;
  private windowRows = 0;
  private lastSentMs = -Infinity;
  latest: StepRecord | null = null;
  rowsPerSecond = 0;

  constructor(
    totalSteps: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.every = Math.max(1, Math.ceil(totalSteps / MAX_RECORDS));
    this.windowStartMs = clock();
  }

  /** Adds the losses of the step that completed `completed` steps. */
  add(completed: number, losses: Record<string, number>, rows: number, elapsedMs: number): void {
    for (const [name, value] of Object.entries(losses)) {
      this.sums[name] = (this.sums[name] ?? 0) + value;
    }
    this.count++;
    this.windowRows += rows;
    const nowMs = this.clock();
    if (nowMs - this.windowStartMs >= PROGRESS_INTERVAL_MS) {
      this.rowsPerSecond = (1000 * this.windowRows) / (nowMs - this.windowStartMs);
      this.windowStartMs = nowMs;
      this.windowRows = 0;
    }
    if (completed % this.every !== 0) return;
    const averaged: Record<string, number> = {};
    for (const [name, sum] of Object.entries(this.sums)) averaged[name] = sum / this.count;
    this.latest = {
      step: completed,
      losses: averaged,
      rowsPerSecond: this.rowsPerSecond,
      elapsedMs,
    };
    this.pending.push(this.latest);
    this.sums = {};
    this.count = 0;
  }

  /** True when a progress message is due (or `force`). */
  due(force = false): boolean {
    return force || this.clock() - this.lastSentMs >= PROGRESS_INTERVAL_MS;
  }

  /** The records since the last call; marks a progress message sent. */
  take(): StepRecord[] {
    this.lastSentMs = this.clock();
    const records = this.pending;
    this.pending = [];
    return records;
  }
}
