// The virtualised thumbnail grid: only the rows in view (plus a few) exist in the DOM, whatever the
// number of results, and the pages under them are fetched as they come into view. The rows are
// placed by hand (they all have one height). Rows taller than 30M px in all (over ~1.2M photos at
// 180 px in a 1600 px window) are mapped onto a 30M px scroll proportionally, since Chromium can't
// lay out an element taller than ~33.5M px; the thumbnails keep their size (src/shared/grid-layout.ts).
import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { flushSync } from 'react-dom';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { PhotoSummary, TimelineMonth } from '../../shared/types.js';
import type { ResultsSnapshot, ResultsStore } from '../state/results.js';
import { isSelected, type Selection } from '../state/selection.js';
import { fileName } from '../format.js';
import { contentOffset, GAP, gridLayout, offsetToReveal, PADDING, rowTop, scrollScale, scrollTopFor, visibleRows, type GridLayout } from '../../shared/grid-layout.js';
import { Icon } from './icons.js';
import { DateScrubber, SCRUBBER_MIN_PHOTOS, SCRUBBER_WIDTH } from './DateScrubber.js';

/** Rows rendered beyond the viewport each way. */
const OVERSCAN = 3;

/** Month of a result's date (taken, else file time; taken times are wall-clock stored as UTC). */
const MONTH = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });
const MONTH_LONG = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
function monthKey(item: PhotoSummary | undefined): number | null {
  if (item?.date === undefined) return null;
  const date = new Date(item.date);
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

export interface GridClick {
  index: number;
  item: PhotoSummary | undefined;
  toggle: boolean;
  range: boolean;
}

export interface EmptyAction {
  label: string;
  onClick(): void;
}

interface Props {
  client: PhotoSearchClient;
  store: ResultsStore;
  snapshot: ResultsSnapshot;
  selection: Selection;
  focusIndex: number;
  thumbSize: number;
  onClick(click: GridClick): void;
  onOpen(index: number): void;
  /** Moves keyboard focus; `extend` grows the selection from the anchor (Shift+arrow). */
  onMove(index: number, extend: boolean): void;
  onToggle(index: number): void;
  onSelectAll(): void;
  onClearSelection(): void;
  onRate(rating: number): void;
  emptyMessage: string;
  emptyAction?: EmptyAction;
}

interface RowRange {
  first: number;
  last: number;
}

export function PhotoGrid(props: Props) {
  const { client, store, snapshot, selection, focusIndex, thumbSize } = props;
  const total = snapshot.total ?? 0;
  const scrollRef = useRef<HTMLDivElement>(null);
  const layerRef = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    const measure = () => setSize((current) => (current.width === element.clientWidth && current.height === element.clientHeight ? current : { width: element.clientWidth, height: element.clientHeight }));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // A new result list (a search, "find similar" from the viewer) takes the keyboard if nothing else has it.
  useEffect(() => {
    if (document.activeElement === document.body || document.activeElement === null) scrollRef.current?.focus({ preventScroll: true });
  }, []);

  // Browsing newest first (no text query, not "similar") a library of some size: the date scrubber, in a
  // strip kept clear at the right edge.
  const browsing = snapshot.mode === 'browse' && store.query.kind === 'search' && total >= SCRUBBER_MIN_PHOTOS;
  const reserve = browsing ? SCRUBBER_WIDTH : 0;
  const layout = gridLayout(size.width - reserve, thumbSize, size.width > 0 ? total : 0);
  const viewportHeight = size.height;
  const scale = scrollScale(layout, viewportHeight);
  const [range, setRange] = useState<RowRange>({ first: 0, last: -1 });

  // The committed geometry, for the scroll listener (which outlives renders). First of the layout effects.
  const geometry = useRef({ layout, viewportHeight, range });
  useLayoutEffect(() => {
    geometry.current = { layout, viewportHeight, range };
  });

  /**
   * Places the layer of rendered rows for the current scroll position. Rows sit inside the layer at
   * their distance from the first rendered row; the layer follows the scroll natively when the scale is
   * 1 and is moved by the rest ((scale - 1) × scrollTop) otherwise.
   */
  const placeLayer = useCallback((rendered: RowRange) => {
    const element = scrollRef.current;
    const layer = layerRef.current;
    if (!element || !layer) return;
    const { layout, viewportHeight } = geometry.current;
    const top = element.scrollTop;
    const y = rowTop(layout, rendered.first) - contentOffset(layout, top, viewportHeight) + top;
    const transform = `translateY(${y}px)`;
    if (layer.style.transform !== transform) layer.style.transform = transform;
  }, []);

  /** Works out the rows for the current scroll position; re-renders only when they change. */
  const sync = useCallback((urgent: boolean) => {
    const element = scrollRef.current;
    if (!element) return;
    const { layout, viewportHeight, range } = geometry.current;
    const next = visibleRows(layout, contentOffset(layout, element.scrollTop, viewportHeight), viewportHeight, OVERSCAN);
    if (next.first === range.first && next.last === range.last) {
      placeLayer(range);
      return;
    }
    // Inside a scroll event the new rows must be in this frame's paint.
    if (urgent) flushSync(() => setRange(next));
    else setRange(next);
  }, [placeLayer]);

  useEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    const onScroll = () => sync(true);
    element.addEventListener('scroll', onScroll, { passive: true });
    return () => element.removeEventListener('scroll', onScroll);
  }, [sync]);

  // A new size, thumbnail size or total: the rows for the (possibly clamped) scroll position.
  useLayoutEffect(() => sync(false), [sync, layout.scrollHeight, layout.contentHeight, layout.columns, layout.rowHeight, viewportHeight]);

  // After every render, the layer goes where the rendered rows belong.
  useLayoutEffect(() => placeLayer(range));

  const rowCount = layout.rows;
  const firstRow = range.first;
  const lastRow = range.last;
  useEffect(() => {
    if (rowCount === 0 || lastRow < firstRow) return;
    // The rows on screen first, then about a screen more either way, so paging rarely shows blanks.
    const span = (lastRow - firstRow + 1) * layout.columns;
    store.request(firstRow * layout.columns, (lastRow + 1) * layout.columns - 1, span);
  }, [store, firstRow, lastRow, layout.columns, rowCount, snapshot.total]);

  /** Scrolls so that `index` is wholly in view, if it is not already. */
  const reveal = useCallback((index: number) => {
    const element = scrollRef.current;
    const { layout, viewportHeight } = geometry.current;
    if (!element || layout.rows === 0) return;
    const row = Math.max(0, Math.min(layout.rows - 1, Math.floor(index / layout.columns)));
    const target = offsetToReveal(layout, row, contentOffset(layout, element.scrollTop, viewportHeight), viewportHeight);
    if (target !== null) element.scrollTop = scrollTopFor(layout, target, viewportHeight);
  }, []);

  /** Scrolls so that the row holding `index` is at the top (the date scrubber's jumps; scaled at 2M photos too). */
  const jumpTo = useCallback((index: number) => {
    const element = scrollRef.current;
    const { layout, viewportHeight } = geometry.current;
    if (!element || layout.rows === 0) return;
    const row = Math.max(0, Math.min(layout.rows - 1, Math.floor(index / layout.columns)));
    // Rounded up: a scaled scrollTop that fell short would leave the row above at the top.
    element.scrollTop = Math.ceil(scrollTopFor(layout, rowTop(layout, row), viewportHeight));
  }, []);

  // The library's months for the scrubber (fetched again when the total changes).
  const [timeline, setTimeline] = useState<{ store: ResultsStore; months: TimelineMonth[] } | null>(null);
  useEffect(() => {
    if (!browsing) return;
    let live = true;
    client.getTimeline(store.query.filters).then((months) => live && setTimeline({ store, months }), () => undefined);
    return () => {
      live = false;
    };
  }, [client, store, browsing, total]);

  // Keep the keyboard focus in view.
  const lastFocus = useRef(focusIndex);
  useEffect(() => {
    if (focusIndex === lastFocus.current) return;
    lastFocus.current = focusIndex;
    if (focusIndex >= 0 && rowCount > 0) reveal(focusIndex);
  }, [focusIndex, rowCount, reveal]);

  /** The first photo wholly on screen: where the keyboard starts when nothing has focus yet. */
  function firstShown(): number {
    const element = scrollRef.current;
    if (!element || layout.rows === 0) return 0;
    const offset = contentOffset(layout, element.scrollTop, viewportHeight);
    let row = Math.max(0, Math.floor((offset - PADDING) / layout.rowHeight));
    if (rowTop(layout, row) < offset - 0.5 && row < layout.rows - 1) row++;
    return Math.min(total - 1, row * layout.columns);
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (total === 0) return;
    const mod = event.ctrlKey || event.metaKey;
    const current = Math.max(0, Math.min(total - 1, focusIndex));
    const rowsPerPage = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 600) / layout.rowHeight));
    const moves: Record<string, number> = {
      ArrowLeft: current - 1,
      ArrowRight: current + 1,
      ArrowUp: current - layout.columns,
      ArrowDown: current + layout.columns,
      PageUp: current - layout.columns * rowsPerPage,
      PageDown: current + layout.columns * rowsPerPage,
      Home: 0,
      End: total - 1,
    };
    if (event.key in moves && !mod) {
      event.preventDefault();
      let target = moves[event.key];
      // Nothing focused yet: Home and End go where they say, the other keys start on the first photo in view.
      if (focusIndex < 0 && event.key !== 'Home' && event.key !== 'End') target = firstShown();
      else if (event.key === 'ArrowDown' && target > total - 1 && Math.floor(current / layout.columns) < Math.floor((total - 1) / layout.columns)) target = total - 1;
      if (target < 0 || target > total - 1) {
        target = event.key.startsWith('Page') ? Math.max(0, Math.min(total - 1, target)) : current;
      }
      props.onMove(target, event.shiftKey);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (focusIndex >= 0) props.onOpen(current);
    } else if (event.key === ' ') {
      event.preventDefault();
      if (focusIndex >= 0) props.onToggle(current);
    } else if (mod && event.key.toLowerCase() === 'a') {
      event.preventDefault();
      props.onSelectAll();
    } else if (event.key === 'Escape') {
      props.onClearSelection();
    } else if (/^[0-5]$/.test(event.key) && !mod && !event.altKey) {
      event.preventDefault();
      props.onRate(Number(event.key));
    }
  }

  // A first page that failed leaves total unknown: say why instead of showing nothing.
  const empty = snapshot.total === 0 || (snapshot.total === null && snapshot.error !== null);
  // Newest-first results (browsing, or sorted by date) mark where each month starts, and say which month is at the top.
  const dated = snapshot.mode === 'browse' || store.query.sort === 'date';
  const topRow = dated && layout.rows > 0 ? visibleRows(layout, contentOffset(layout, scrollRef.current?.scrollTop ?? 0, viewportHeight), viewportHeight).first : -1;
  const topItem = topRow >= 0 ? store.getItem(Math.min(total - 1, topRow * layout.columns)) : undefined;
  const topMonth = topItem?.date !== undefined ? MONTH_LONG.format(topItem.date) : null;
  return (
    <div
      className="grid-scroll"
      ref={scrollRef}
      tabIndex={0}
      role="grid"
      aria-label="Photos"
      aria-rowcount={rowCount}
      aria-colcount={layout.columns}
      aria-multiselectable="true"
      data-testid="photo-grid"
      data-total={total}
      data-columns={layout.columns}
      data-scroll-scale={Number(scale.toFixed(4))}
      data-scrubber={browsing ? 'true' : undefined}
      onKeyDown={onKeyDown}
    >
      {topMonth && !empty && (
        <div className="grid-date-anchor" aria-hidden="true">
          <span className="grid-date" data-testid="grid-date">{topMonth}</span>
        </div>
      )}
      {browsing && !empty && timeline?.store === store && timeline.months.length > 0 && viewportHeight > 0 && (
        <DateScrubber months={timeline.months} height={viewportHeight} topIndex={Math.max(0, topRow) * layout.columns} onJump={jumpTo} />
      )}
      {empty && (
        <div className="grid-empty" data-testid="grid-empty">
          <Icon name="photos" size={40} />
          {snapshot.error ? (
            <p className="error-text" role="alert">Could not load photos: {snapshot.error}</p>
          ) : (
            <p>{props.emptyMessage}</p>
          )}
          {!snapshot.error && props.emptyAction && (
            <button type="button" onClick={props.emptyAction.onClick} data-testid="grid-empty-action">{props.emptyAction.label}</button>
          )}
        </div>
      )}
      <div className="grid-inner" style={{ height: layout.scrollHeight }}>
        {/* Scaled, the layer moves on every scroll: its own compositing layer spares a repaint per frame. */}
        <div className="grid-layer" ref={layerRef} style={{ position: 'absolute', top: 0, left: 0, right: 0, willChange: scale > 1 ? 'transform' : undefined }}>
          {renderRows(layout, range, total)}
        </div>
      </div>
    </div>
  );

  function renderRows(layout: GridLayout, range: RowRange, total: number) {
    const rows = [];
    const base = rowTop(layout, range.first);
    for (let row = range.first; row <= range.last; row++) {
      const start = row * layout.columns;
      const cells = [];
      for (let column = 0; column < layout.columns; column++) {
        const index = start + column;
        if (index >= total) break;
        const item = store.getItem(index);
        const month = dated ? monthKey(item) : null;
        const startsMonth = month !== null && (index === 0 || (monthKey(store.getItem(index - 1)) ?? month) !== month);
        cells.push(
          <GridCell
            key={item ? `p${item.id}` : `i${index}`}
            index={index}
            item={item}
            size={layout.cellSize}
            selected={item ? isSelected(selection, item.id) : false}
            focused={index === focusIndex}
            src={item ? client.mediaUrl('thumb', item.id) : null}
            monthLabel={startsMonth ? MONTH.format(item!.date!) : null}
            onClick={props.onClick}
            onOpen={props.onOpen}
          />,
        );
      }
      rows.push(
        <div
          key={row}
          role="row"
          aria-rowindex={row + 1}
          className="grid-row"
          style={{ transform: `translateY(${rowTop(layout, row) - base}px)`, height: layout.cellSize, gap: GAP, left: PADDING, right: PADDING + reserve }}
        >
          {cells}
        </div>,
      );
    }
    return rows;
  }
}

/** Clearing src of an image that leaves the DOM cancels its download if it is still under way. */
function abortOnUnmount(image: HTMLImageElement | null): (() => void) | void {
  if (!image) return;
  return () => {
    if (!image.complete) image.src = '';
  };
}

interface CellProps {
  index: number;
  item: PhotoSummary | undefined;
  size: number;
  selected: boolean;
  focused: boolean;
  src: string | null;
  /** Where a month starts in newest-first results: its name. */
  monthLabel: string | null;
  onClick(click: GridClick): void;
  onOpen(index: number): void;
}

/**
 * A cell asks for its thumbnail only once it has stayed on screen briefly: a fast fling then starts no
 * requests for the thousands of cells it flies past (the browser's few connections per host would
 * otherwise queue them ahead of the ones the user stops on).
 */
const THUMB_DELAY_MS = 70;

const GridCell = memo(function GridCell({ index, item, size, selected, focused, src, monthLabel, onClick, onOpen }: CellProps) {
  const [failed, setFailed] = useState(false);
  const [settled, setSettled] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(true), THUMB_DELAY_MS);
    return () => clearTimeout(timer);
  }, []);
  const name = item ? fileName(item.path) : '';
  // A file that could not be decoded has no thumbnail: asking for one only yields a 404.
  const unreadable = item !== undefined && (item.status === 'error' || item.status === 'unsupported');
  const classes = ['cell'];
  if (selected) classes.push('selected');
  if (focused) classes.push('focused');
  if (!item) classes.push('loading');
  return (
    <div
      className={classes.join(' ')}
      role="gridcell"
      aria-selected={selected}
      aria-label={item ? name : 'Loading'}
      data-testid="photo-cell"
      data-index={index}
      data-photo-id={item?.id}
      data-rating={item?.rating}
      style={{ width: size, height: size }}
      title={item ? `${name}${item.score !== undefined ? ` · match ${(item.score * 100).toFixed(0)}%` : ''}${item.matched ? ` · words match its ${item.matched.join(', ')}` : ''}` : undefined}
      data-matched={item?.matched?.join(' ')}
      onMouseDown={(event: MouseEvent) => {
        if (event.shiftKey) event.preventDefault(); // no text selection on Shift-click
      }}
      onClick={(event: MouseEvent) => onClick({ index, item, toggle: event.ctrlKey || event.metaKey, range: event.shiftKey })}
      onDoubleClick={() => onOpen(index)}
    >
      {item && src && settled && !failed && !unreadable && (
        <img
          ref={abortOnUnmount}
          src={src}
          alt={name}
          draggable={false}
          decoding="async"
          onLoad={(event) => event.currentTarget.classList.add('loaded')}
          onError={() => setFailed(true)}
        />
      )}
      {item && (failed || unreadable) && (
        <div className="cell-broken" title={unreadable ? 'This file could not be read (see Indexing → Problems)' : 'No preview available'}>
          <Icon name="alert" size={22} />
          <span dir="auto">{name}</span>
        </div>
      )}
      {item && item.rating > 0 && (
        <span className="cell-rating" aria-label={`${item.rating} stars`}>
          {'★'.repeat(item.rating)}
        </span>
      )}
      {monthLabel && <span className="cell-month" data-testid="cell-month">{monthLabel}</span>}
      {item?.matched && (
        <span className="cell-matched" data-testid="cell-matched" aria-label={`Query words match its ${item.matched.join(', ')}`}>
          {item.matched.join(' · ')}
        </span>
      )}
      {selected && (
        <span className="cell-check" aria-hidden="true">
          <Icon name="check" size={14} />
        </span>
      )}
    </div>
  );
});
