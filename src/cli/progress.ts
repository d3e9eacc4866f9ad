/**
 * Progress of long work on stderr: a bar with step, rows/s and ETA redrawn in place when
 * stderr is a terminal, otherwise a plain line every PLAIN_INTERVAL_MS (logs, CI).
 */
import type { RunProgress } from '../shared/contract';
import { formatEta, formatNumber } from './format';

const BAR_WIDTH = 24;
const PLAIN_INTERVAL_MS = 5000;

export class ProgressBar {
  private lastPlainMs = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  update(progress: RunProgress): void {
    const fraction = progress.totalSteps > 0 ? progress.step / progress.totalSteps : 0;
    const loss = progress.latest
      ? Object.entries(progress.latest.losses)
          .slice(0, 2)
          .map(([name, value]) => `${name} ${formatNumber(value, 3)}`)
          .join(' ')
      : '';
    const text =
      `${this.label} ${progress.phase} ${progress.step}/${progress.totalSteps} ` +
      `${Math.round(progress.rowsPerSecond)} rows/s ETA ${formatEta(progress.etaSeconds)}` +
      (loss ? ` ${loss}` : '');
    if (this.stream.isTTY) {
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
      const width = Math.max(20, (this.stream.columns ?? 100) - 1);
      this.stream.write(`\r\x1b[K${`${bar} ${text}`.slice(0, width)}`);
      this.drawn = true;
      return;
    }
    const nowMs = Date.now();
    if (nowMs - this.lastPlainMs >= PLAIN_INTERVAL_MS || progress.step === progress.totalSteps) {
      this.lastPlainMs = nowMs;
      this.stream.write(`${text}\n`);
    }
  }

  /** Clears the bar line so the next output starts clean. */
  finish(): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
