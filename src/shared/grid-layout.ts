// The thumbnail grid's geometry (pure arithmetic, so that Node tests can check it; the grid is src/renderer/components/PhotoGrid.tsx).
//
// Chromium cannot lay out an element taller than 2^31 / 64 ≈ 33.5M px (LayoutUnit's range): past that
// the content is cut off and the end of a long list can't be scrolled to. 2,000,000 photos at 180 px
// are ~49M px tall. So the grid keeps its scrollable height under MAX_SCROLL_HEIGHT and, when the rows
// are taller than that, maps the scroll position onto them proportionally (a scroll of 1 px moves the
// rows by `scale` px). Thumbnails keep the size the user asked for, whatever the number of photos.

export const GAP = 6;
export const PADDING = 14;
/** Chromium's layout limit is 33,554,431 px; stay well under it. */
export const MAX_SCROLL_HEIGHT = 30_000_000;

export interface GridLayout {
  columns: number;
  cellSize: number;
  /** A cell plus the gap under it. */
  rowHeight: number;
  rows: number;
  /** The height of all the rows with the padding around them (may exceed what the browser can lay out). */
  contentHeight: number;
  /** The height of the scrollable element: contentHeight, capped at MAX_SCROLL_HEIGHT. */
  scrollHeight: number;
}

export function gridLayout(width: number, targetSize: number, total: number, maxScrollHeight = MAX_SCROLL_HEIGHT): GridLayout {
  const usable = Math.max(1, width - 2 * PADDING);
  const columns = Math.max(1, Math.floor((usable + GAP) / (Math.max(1, targetSize) + GAP)));
  const cellSize = Math.max(1, (usable - GAP * (columns - 1)) / columns);
  const rowHeight = cellSize + GAP;
  const rows = total > 0 ? Math.ceil(total / columns) : 0;
  const contentHeight = rows > 0 ? 2 * PADDING + rows * rowHeight - GAP : 0;
  return { columns, cellSize, rowHeight, rows, contentHeight, scrollHeight: Math.min(contentHeight, maxScrollHeight) };
}

/** How many px the rows move per px of scroll: 1 unless the content is taller than the scrollable element. */
export function scrollScale(layout: GridLayout, viewportHeight: number): number {
  const domRange = layout.scrollHeight - viewportHeight;
  const contentRange = layout.contentHeight - viewportHeight;
  return domRange > 0 && contentRange > domRange ? contentRange / domRange : 1;
}

/** The offset into the content shown at the top of the viewport for the element's scrollTop. */
export function contentOffset(layout: GridLayout, scrollTop: number, viewportHeight: number): number {
  const maxTop = Math.max(0, layout.scrollHeight - viewportHeight);
  const top = Math.max(0, Math.min(maxTop, scrollTop));
  // At the very bottom, exactly the end of the content (no rounding short of the last row).
  if (top === maxTop) return Math.max(0, layout.contentHeight - viewportHeight);
  return top * scrollScale(layout, viewportHeight);
}

/** The scrollTop that shows the content from `offset` (the inverse of contentOffset). */
export function scrollTopFor(layout: GridLayout, offset: number, viewportHeight: number): number {
  const maxOffset = Math.max(0, layout.contentHeight - viewportHeight);
  const clamped = Math.max(0, Math.min(maxOffset, offset));
  if (clamped === maxOffset) return Math.max(0, layout.scrollHeight - viewportHeight);
  return clamped / scrollScale(layout, viewportHeight);
}

/** The top of `row` in content coordinates. */
export function rowTop(layout: GridLayout, row: number): number {
  return PADDING + row * layout.rowHeight;
}

/** The rows that intersect [offset, offset + viewportHeight), widened by `overscan` each way; last < first when there are none. */
export function visibleRows(layout: GridLayout, offset: number, viewportHeight: number, overscan = 0): { first: number; last: number } {
  if (layout.rows === 0 || viewportHeight <= 0) return { first: 0, last: -1 };
  const first = Math.floor((offset - PADDING) / layout.rowHeight);
  const last = Math.floor((offset + viewportHeight - PADDING) / layout.rowHeight);
  return { first: Math.max(0, Math.min(layout.rows - 1, first - overscan)), last: Math.max(0, Math.min(layout.rows - 1, last + overscan)) };
}

/**
 * The content offset to scroll to so that `row` is wholly in view, with the padding around it, or null
 * when it already is wholly in view (scrollIntoView's "nearest").
 */
export function offsetToReveal(layout: GridLayout, row: number, offset: number, viewportHeight: number): number | null {
  const top = rowTop(layout, row);
  const bottom = top + layout.cellSize;
  // A scaled scroll position lands within about `scale` px of its target: the padding plus that much slack.
  const margin = PADDING + Math.ceil(scrollScale(layout, viewportHeight));
  if (top < offset) return Math.max(0, top - margin);
  if (bottom > offset + viewportHeight) return Math.min(Math.max(0, layout.contentHeight - viewportHeight), bottom - viewportHeight + margin);
  return null;
}
