/**
 * The worker's peak resident memory so far, in bytes: what a run cost in memory, reported
 * with every progress message and at the end (the operating system keeps the high-water
 * mark, so nothing is sampled).
 */
export function peakMemoryBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
