/**
 * Windowing of long lists: which rows to render for a scroll position, so that a list of
 * 16384 features costs as much as the 30 rows on screen.
 */

export interface WindowRange {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last to render (exclusive). */
  end: number;
}

/**
 * Rows of fixed height `rowHeightPx` visible in a viewport of `viewportPx` scrolled by
 * `scrollTopPx`, widened by `overscan` rows on each side and clamped to [0, count).
 */
export function visibleRange(
  count: number,
  rowHeightPx: number,
  scrollTopPx: number,
  viewportPx: number,
  overscan = 8,
): WindowRange {
  if (count <= 0 || rowHeightPx <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTopPx) / rowHeightPx);
  const last = Math.ceil((Math.max(0, scrollTopPx) + Math.max(0, viewportPx)) / rowHeightPx);
  return {
    start: Math.max(0, Math.min(count, first - overscan)),
    end: Math.max(0, Math.min(count, last + overscan)),
  };
}

/** The scroll position that brings row `index` into view, or null when it is visible already. */
export function scrollToReveal(
  index: number,
  rowHeightPx: number,
  scrollTopPx: number,
  viewportPx: number,
): number | null {
  const top = index * rowHeightPx;
  const bottom = top + rowHeightPx;
  if (top < scrollTopPx) return top;
  if (bottom > scrollTopPx + viewportPx) return bottom - viewportPx;
  return null;
}
