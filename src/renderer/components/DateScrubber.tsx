// The date scrubber: a slim bar at the grid's right edge when browsing newest first, the library as a
// timeline (as Google Photos and Immich). Each month takes a share of the bar's height in proportion to its
// photos, so a point on the bar is a point in the grid; years are labelled where they start (a label that
// would overlap the one above is left out). Hovering says the month at that point; clicking or dragging jumps
// the grid to the first photo of that month (the photos newer than it: the sum of the counts above).
import { useMemo, useRef, useState, type PointerEvent } from 'react';
import type { TimelineMonth } from '../../shared/types.js';

/** Fewer photos than this: the grid is short enough to scroll, no scrubber. */
export const SCRUBBER_MIN_PHOTOS = 200;
/** The strip the grid keeps clear for the bar (px; the bar's width in styles.css). */
export const SCRUBBER_WIDTH = 40;
/** Space kept above and below the bar's scale. */
const INSET = 10;
/** The least room between two year labels. */
const LABEL_GAP = 22;

const MONTH_LONG = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });

interface Props {
  months: TimelineMonth[];
  /** The bar's height (the grid's viewport). */
  height: number;
  /** The index of the first photo at the top of the grid, for the position mark. */
  topIndex: number;
  /** Scrolls the grid so that the photo at `index` is in the top row. */
  onJump(index: number): void;
}

interface Segment extends TimelineMonth {
  /** Photos newer than this month. */
  start: number;
}

export function DateScrubber({ months, height, topIndex, onJump }: Props) {
  const barRef = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<{ y: number; label: string } | null>(null);
  const dragging = useRef(false);

  const { segments, total } = useMemo(() => {
    let start = 0;
    const segments: Segment[] = months.map((m) => {
      const segment = { ...m, start };
      start += m.count;
      return segment;
    });
    return { segments, total: start };
  }, [months]);

  const scale = Math.max(1, height - 2 * INSET);
  const yOf = (index: number) => INSET + (total > 0 ? (index / total) * scale : 0);

  const years = useMemo(() => {
    const labels: { year: number; y: number; start: number }[] = [];
    let lastY = -Infinity;
    for (const segment of segments) {
      if (labels.length > 0 && labels[labels.length - 1].year === segment.year) continue;
      const y = INSET + (total > 0 ? (segment.start / total) * scale : 0);
      // A year always gets an entry (clicks on it find it); only those with room show their label.
      const shown = y - lastY >= LABEL_GAP;
      if (shown) lastY = y;
      labels.push({ year: segment.year, y: shown ? y : -1, start: segment.start });
    }
    return labels.filter((label) => label.y >= 0);
  }, [segments, total, scale]);

  /** The month at a height on the bar. */
  function monthAt(y: number): Segment | undefined {
    if (segments.length === 0) return undefined;
    const index = Math.max(0, Math.min(total - 1, Math.floor(((y - INSET) / scale) * total)));
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (segments[mid].start <= index) low = mid;
      else high = mid - 1;
    }
    return segments[low];
  }

  function localY(event: PointerEvent<HTMLElement>): number {
    const rect = barRef.current?.getBoundingClientRect();
    return rect ? event.clientY - rect.top : 0;
  }

  function point(event: PointerEvent<HTMLDivElement>, jump: boolean) {
    const y = Math.max(0, Math.min(height, localY(event)));
    const segment = monthAt(y);
    if (!segment) return;
    setHover({ y, label: MONTH_LONG.format(Date.UTC(segment.year, segment.month - 1, 1)) });
    if (jump) onJump(segment.start);
  }

  function onPointerDown(event: PointerEvent<HTMLDivElement>) {
    if (event.button !== 0) return;
    event.preventDefault();
    dragging.current = true;
    event.currentTarget.setPointerCapture?.(event.pointerId);
    // A year label jumps to the year's first (newest) photo, wherever on the label the click fell.
    const year = (event.target as HTMLElement).closest<HTMLElement>('[data-year-start]')?.dataset.yearStart;
    if (year !== undefined) {
      setHover({ y: localY(event), label: (event.target as HTMLElement).textContent ?? '' });
      onJump(Number(year));
      return;
    }
    point(event, true);
  }

  function onPointerUp(event: PointerEvent<HTMLDivElement>) {
    dragging.current = false;
    event.currentTarget.releasePointerCapture?.(event.pointerId);
  }

  const mark = total > 0 ? yOf(Math.max(0, Math.min(total, topIndex))) : -1;
  return (
    <div className="scrubber-anchor">
      <div
        className="scrubber"
        ref={barRef}
        style={{ height }}
        role="slider"
        aria-label="Timeline"
        aria-orientation="vertical"
        aria-valuemin={0}
        aria-valuemax={Math.max(0, total - 1)}
        aria-valuenow={Math.max(0, Math.min(total - 1, topIndex))}
        data-testid="date-scrubber"
        onPointerDown={onPointerDown}
        onPointerMove={(event) => point(event, dragging.current)}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => !dragging.current && setHover(null)}
      >
        {years.map((label) => (
          <span key={label.year} className="scrubber-year" style={{ top: label.y }} data-year-start={label.start} data-testid="scrubber-year">
            {label.year}
          </span>
        ))}
        {mark >= 0 && <span className="scrubber-mark" style={{ top: mark }} aria-hidden="true" />}
        {hover && (
          <span className="scrubber-hover" style={{ top: hover.y }} data-testid="scrubber-hover">
            {hover.label}
          </span>
        )}
      </div>
    </div>
  );
}
