/**
 * How a split cuts its work between the calling thread and the helper threads (threads.ts).
 * The caller does other work between splits and a helper may copy more than the caller or
 * share its core, so equal parts leave one side waiting. Each kind of work keeps the calling
 * thread's share, moved after every split halfway towards the share that would have made all
 * parts end together; the helpers take equal parts of the rest. Kernels must give the same
 * results however the work is cut.
 */

/** The calling thread's share of each kind of split work. */
const callerShares = new Map<unknown, number>();

/** The key under which products keep their share (kernels use their function). */
export const PRODUCT = 'product';
/** Weight of the latest measurement in a share; the bounds of a share. */
const SHARE_RATE = 0.5;
const MINIMUM_SHARE = 0.05;
/** Parts shorter than this are too short to time (timer resolution, hand-off costs). */
const MINIMUM_TIMED_MS = 0.5;

/**
 * Where the parts of a split of `count` begin and end, as fractions of the work: the calling
 * thread takes its share of kind `key` (1 / count until measured), the helpers equal parts
 * of the rest.
 */
export function partFractions(key: unknown, count: number): number[] {
  const share = callerShares.get(key) ?? 1 / count;
  return Array.from({ length: count + 1 }, (_, i) =>
    i === 0 ? 0 : i === count ? 1 : share + ((1 - share) * (i - 1)) / (count - 1),
  );
}

/**
 * Moves the calling thread's share of `key` towards the one that would have made it finish
 * with the slowest helper, from the times the parts took (`fractions` as partFractions gave
 * them; `helperMs`, each helper's time; call only when every part succeeded). A helper
 * shares a core with other work, or copies more than the caller: the share absorbs both.
 */
export function rebalance(
  key: unknown,
  fractions: readonly number[],
  callerMs: number,
  helperMs: readonly number[],
): void {
  if (helperMs.length === 0) return;
  const slowest = Math.max(...helperMs);
  if (Math.min(callerMs, slowest) < MINIMUM_TIMED_MS) return;
  const share = fractions[1]!;
  const helpers = helperMs.length;
  // Work per millisecond of the caller and of each helper (each took (1 - share) / helpers).
  const callerRate = share / callerMs;
  const helperRate = (1 - share) / helpers / slowest;
  const balanced = callerRate / (callerRate + helpers * helperRate);
  const next = (1 - SHARE_RATE) * share + SHARE_RATE * balanced;
  callerShares.set(key, Math.min(1 - MINIMUM_SHARE, Math.max(MINIMUM_SHARE, next)));
}

/** Forgets every measured share (the next splits start from equal parts). */
export function forgetShares(): void {
  callerShares.clear();
}
