/**
 * A windowed list of fixed-height rows: only the rows in view (and a few either side) are in
 * the DOM, so 16384 features scroll as smoothly as 30. Keyboard: up/down or k/j move the
 * selection, Page Up/Down by a screen, Home/End to the ends; the selection stays in view.
 */
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import { scrollToReveal, visibleRange } from '../windowing';

export interface VirtualListProps {
  count: number;
  rowHeightPx: number;
  selected: number | null;
  onSelect: (index: number) => void;
  renderRow: (index: number, selected: boolean) => ReactNode;
  label: string;
  testId?: string;
  /** A fixed viewport height (shrunk to the rows when fewer); the stylesheet's otherwise. */
  maxHeightPx?: number;
  /** Take the keyboard focus on mount, unless the user is typing in a field. */
  autoFocus?: boolean;
}

export function VirtualList({
  count,
  rowHeightPx,
  selected,
  onSelect,
  renderRow,
  label,
  testId,
  maxHeightPx,
  autoFocus,
}: VirtualListProps) {
  const viewport = useRef<HTMLDivElement | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);

  useEffect(() => {
    const focused = document.activeElement;
    const typing =
      focused instanceof HTMLInputElement ||
      focused instanceof HTMLSelectElement ||
      focused instanceof HTMLTextAreaElement;
    if (autoFocus && !typing) {
      viewport.current?.focus({ preventScroll: true });
    }
  }, [autoFocus]);

  useLayoutEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  const reveal = useCallback(
    (index: number) => {
      const element = viewport.current;
      if (!element) return;
      const target = scrollToReveal(index, rowHeightPx, element.scrollTop, element.clientHeight);
      if (target !== null) element.scrollTop = target;
    },
    [rowHeightPx],
  );

  // Keep the selected row in view when it changes from outside (a new sort order, a link).
  useEffect(() => {
    if (selected !== null) reveal(selected);
  }, [selected, reveal]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (count === 0) return;
    const page = Math.max(1, Math.floor(height / rowHeightPx) - 1);
    const current = selected ?? -1;
    let next: number | null = null;
    switch (event.key) {
      case 'ArrowDown':
      case 'j':
        next = current + 1;
        break;
      case 'ArrowUp':
      case 'k':
        next = current - 1;
        break;
      case 'PageDown':
        next = current + page;
        break;
      case 'PageUp':
        next = current - page;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = count - 1;
        break;
    }
    if (next === null) return;
    event.preventDefault();
    const index = Math.max(0, Math.min(count - 1, next));
    // Scroll at once, even when the selection does not change (Home on the first row).
    reveal(index);
    onSelect(index);
  };

  const { start, end } = visibleRange(count, rowHeightPx, scrollTop, height);
  const rows: ReactNode[] = [];
  for (let index = start; index < end; index += 1) {
    rows.push(
      <div
        key={index}
        className={`virtual-row${index === selected ? ' selected' : ''}`}
        style={{ top: index * rowHeightPx, height: rowHeightPx }}
        role="option"
        aria-selected={index === selected}
        onMouseDown={() => onSelect(index)}
      >
        {renderRow(index, index === selected)}
      </div>,
    );
  }

  return (
    <div
      ref={viewport}
      className="virtual-list"
      tabIndex={0}
      role="listbox"
      aria-label={label}
      data-testid={testId}
      style={
        maxHeightPx === undefined
          ? undefined
          : { height: Math.min(maxHeightPx, count * rowHeightPx + 2) }
      }
      onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
      onKeyDown={onKeyDown}
    >
      <div className="virtual-spacer" style={{ height: count * rowHeightPx }}>
        {rows}
      </div>
    </div>
  );
}
