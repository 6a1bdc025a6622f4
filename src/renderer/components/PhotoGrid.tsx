// The virtualised thumbnail grid: only the rows in view (plus a few) exist in the DOM, whatever the
// number of results, and the pages under them are fetched as they come into view.
import { memo, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { PhotoSummary } from '../../shared/types.js';
import type { ResultsSnapshot, ResultsStore } from '../state/results.js';
import { isSelected, type Selection } from '../state/selection.js';
import { fileName } from '../format.js';
import { Icon } from './icons.js';

const GAP = 6;
const PADDING = 14;
/** Chromium stops laying out near 33.5M px; stay well under it by adding columns for huge lists. */
const MAX_SCROLL_HEIGHT = 30_000_000;

export interface GridLayout {
  columns: number;
  cellSize: number;
  rowHeight: number;
}

export function gridLayout(width: number, targetSize: number, total: number): GridLayout {
  const usable = Math.max(1, width - 2 * PADDING);
  let columns = Math.max(1, Math.floor((usable + GAP) / (targetSize + GAP)));
  // height ≈ total/columns × usable/columns, so columns ≥ √(total × usable / max).
  columns = Math.max(columns, Math.ceil(Math.sqrt((total * usable) / MAX_SCROLL_HEIGHT)));
  const cellSize = Math.max(1, (usable - GAP * (columns - 1)) / columns);
  return { columns, cellSize, rowHeight: cellSize + GAP };
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

export function PhotoGrid(props: Props) {
  const { client, store, snapshot, selection, focusIndex, thumbSize } = props;
  const total = snapshot.total ?? 0;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    setWidth(element.clientWidth);
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // A new result list (a search, "find similar" from the viewer) takes the keyboard if nothing else has it.
  useEffect(() => {
    if (document.activeElement === document.body || document.activeElement === null) scrollRef.current?.focus({ preventScroll: true });
  }, []);

  const layout = gridLayout(width, thumbSize, total);
  const rowCount = width > 0 ? Math.ceil(total / layout.columns) : 0;
  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => layout.rowHeight,
    overscan: 3,
    paddingStart: PADDING,
    paddingEnd: PADDING,
  });

  useEffect(() => {
    virtualizer.measure();
  }, [virtualizer, layout.rowHeight, layout.columns]);

  const rows = virtualizer.getVirtualItems();
  const firstRow = rows[0]?.index ?? 0;
  const lastRow = rows[rows.length - 1]?.index ?? 0;
  useEffect(() => {
    if (rowCount === 0) return;
    // The rows on screen first, then about a screen more either way, so paging rarely shows blanks.
    const span = (lastRow - firstRow + 1) * layout.columns;
    store.request(firstRow * layout.columns, (lastRow + 1) * layout.columns - 1, span);
  }, [store, firstRow, lastRow, layout.columns, rowCount, snapshot.total]);

  // Keep the keyboard focus in view.
  const lastFocus = useRef(focusIndex);
  useEffect(() => {
    if (focusIndex === lastFocus.current) return;
    lastFocus.current = focusIndex;
    if (focusIndex >= 0 && rowCount > 0) virtualizer.scrollToIndex(Math.floor(focusIndex / layout.columns), { align: 'auto' });
  }, [focusIndex, layout.columns, rowCount, virtualizer]);

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
      if (focusIndex < 0) target = 0;
      if (event.key === 'ArrowDown' && target > total - 1 && Math.floor(current / layout.columns) < Math.floor((total - 1) / layout.columns)) target = total - 1;
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
      onKeyDown={onKeyDown}
    >
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
      <div className="grid-inner" style={{ height: virtualizer.getTotalSize() }}>
        {rows.map((row) => {
          const start = row.index * layout.columns;
          const cells = [];
          for (let column = 0; column < layout.columns; column++) {
            const index = start + column;
            if (index >= total) break;
            const item = store.getItem(index);
            cells.push(
              <GridCell
                key={item ? `p${item.id}` : `i${index}`}
                index={index}
                item={item}
                size={layout.cellSize}
                selected={item ? isSelected(selection, item.id) : false}
                focused={index === focusIndex}
                src={item ? client.mediaUrl('thumb', item.id) : null}
                onClick={props.onClick}
                onOpen={props.onOpen}
              />,
            );
          }
          return (
            <div
              key={row.index}
              role="row"
              aria-rowindex={row.index + 1}
              className="grid-row"
              style={{ transform: `translateY(${row.start}px)`, height: layout.cellSize, gap: GAP, left: PADDING, right: PADDING }}
            >
              {cells}
            </div>
          );
        })}
      </div>
    </div>
  );
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
  onClick(click: GridClick): void;
  onOpen(index: number): void;
}

/**
 * A cell asks for its thumbnail only once it has stayed on screen briefly: a fast fling then starts no
 * requests for the thousands of cells it flies past (the browser's few connections per host would
 * otherwise queue them ahead of the ones the user stops on).
 */
const THUMB_DELAY_MS = 70;

const GridCell = memo(function GridCell({ index, item, size, selected, focused, src, onClick, onOpen }: CellProps) {
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
      title={item ? `${name}${item.score !== undefined ? ` · match ${(item.score * 100).toFixed(0)}%` : ''}` : undefined}
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
      {selected && (
        <span className="cell-check" aria-hidden="true">
          <Icon name="check" size={14} />
        </span>
      )}
    </div>
  );
});
