// The thumbnail grid's geometry: the scrollable height stays under Chromium's layout limit at any
// number of photos, the thumbnails keep the size asked for, and the scroll position maps onto the
// whole list (the very bottom of the scroll shows the last row).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contentOffset, gridLayout, MAX_SCROLL_HEIGHT, offsetToReveal, PADDING, rowTop, scrollScale, scrollTopFor, visibleRows } from '../src/shared/grid-layout.js';

/** Chromium clamps layout at LayoutUnit's maximum, 2^31 / 64 px. */
const CHROMIUM_MAX_LAYOUT_PX = 33_554_431;
const WIDTHS = [320, 600, 1280, 1600, 3840];
const SIZES = [100, 180, 360];
const TOTALS = [1, 7, 624_017, 2_000_000, 10_000_000, 100_000_000];
const VIEWPORT = 900;

describe('gridLayout', () => {
  test('the scroll height stays under the browser limit at any count, width and thumbnail size', () => {
    for (const width of WIDTHS) {
      for (const size of SIZES) {
        for (const total of TOTALS) {
          const layout = gridLayout(width, size, total);
          const what = `${total} photos, ${width} px, ${size} px thumbnails`;
          assert.ok(layout.scrollHeight <= MAX_SCROLL_HEIGHT, what);
          assert.ok(layout.scrollHeight < CHROMIUM_MAX_LAYOUT_PX, what);
          assert.equal(layout.rows, Math.ceil(total / layout.columns), what);
          assert.equal(layout.contentHeight, 2 * PADDING + layout.rows * layout.rowHeight - 6, what);
        }
      }
    }
  });

  test('the number of photos does not change the columns or the thumbnail size', () => {
    for (const width of WIDTHS) {
      for (const size of SIZES) {
        const small = gridLayout(width, size, 100);
        for (const total of TOTALS) {
          const layout = gridLayout(width, size, total);
          assert.equal(layout.columns, small.columns, `${total} photos, ${width} px, ${size} px`);
          assert.equal(layout.cellSize, small.cellSize);
        }
        // Cells fill the row and are at least the size asked for when the window is wide enough.
        if (width - 2 * PADDING >= size) assert.ok(small.cellSize >= size, `${width} px, ${size} px: ${small.cellSize}`);
      }
    }
  });

  test('2,000,000 photos at 180 px in a 1600 px window: 8 columns, 49M px of rows on a 30M px scroll', () => {
    const layout = gridLayout(1600, 180, 2_000_000);
    assert.equal(layout.columns, 8);
    assert.equal(layout.rows, 250_000);
    assert.ok(layout.contentHeight > 49_000_000);
    assert.equal(layout.scrollHeight, MAX_SCROLL_HEIGHT);
    assert.ok(Math.abs(scrollScale(layout, VIEWPORT) - layout.contentHeight / MAX_SCROLL_HEIGHT) < 0.01);
  });

  test('lists that fit scroll 1:1', () => {
    const layout = gridLayout(1600, 180, 624_017);
    assert.equal(layout.scrollHeight, layout.contentHeight);
    assert.equal(scrollScale(layout, VIEWPORT), 1);
    for (const top of [0, 1, 12_345.5, layout.scrollHeight - VIEWPORT]) {
      assert.equal(contentOffset(layout, top, VIEWPORT), top);
      assert.equal(scrollTopFor(layout, top, VIEWPORT), top);
    }
  });
});

describe('scroll mapping', () => {
  for (const [width, size, total] of [[1600, 180, 2_000_000], [600, 360, 10_000_000], [3840, 100, 100_000_000], [1280, 180, 624_017]] as const) {
    const layout = gridLayout(width, size, total);
    const maxTop = layout.scrollHeight - VIEWPORT;
    const maxOffset = layout.contentHeight - VIEWPORT;

    test(`${total.toLocaleString('en-US')} photos, ${width} px, ${size} px: the bottom of the scroll shows the last row`, () => {
      assert.equal(contentOffset(layout, 0, VIEWPORT), 0);
      assert.equal(contentOffset(layout, maxTop, VIEWPORT), maxOffset);
      // Past the end (an overscroll, a stale scrollTop) still ends at the last row.
      assert.equal(contentOffset(layout, maxTop + 500, VIEWPORT), maxOffset);
      assert.equal(scrollTopFor(layout, maxOffset, VIEWPORT), maxTop);
      const rows = visibleRows(layout, contentOffset(layout, maxTop, VIEWPORT), VIEWPORT);
      assert.equal(rows.last, layout.rows - 1);
      // The last row is wholly in view with the padding under it.
      assert.ok(Math.abs(rowTop(layout, layout.rows - 1) + layout.cellSize + PADDING - (maxOffset + VIEWPORT)) < 1e-3);
    });

    test(`${total.toLocaleString('en-US')} photos, ${width} px, ${size} px: scrollTop and offset map both ways, in order`, () => {
      let previous = -1;
      for (let i = 0; i <= 1000; i++) {
        const top = (maxTop * i) / 1000;
        const offset = contentOffset(layout, top, VIEWPORT);
        assert.ok(offset > previous, `offset at ${top} is ${offset}, not past ${previous}`);
        previous = offset;
        assert.ok(Math.abs(scrollTopFor(layout, offset, VIEWPORT) - top) < 1e-6 * Math.max(1, top));
      }
      // The middle of the scroll shows the middle of the list.
      const middle = visibleRows(layout, contentOffset(layout, maxTop / 2, VIEWPORT), VIEWPORT);
      const centre = ((middle.first + middle.last + 1) / 2) * layout.columns;
      assert.ok(Math.abs(centre - total / 2) <= (middle.last - middle.first + 1) * layout.columns, `centre ${centre}`);
    });

    test(`${total.toLocaleString('en-US')} photos, ${width} px, ${size} px: revealing a row brings it wholly into view, even rounded to whole px`, () => {
      for (const [from, row] of [[0, layout.rows - 1], [maxOffset, 0], [maxOffset, layout.rows - 1], [0, Math.floor(layout.rows / 2)], [maxOffset / 3, Math.floor(layout.rows / 3) + 7]]) {
        const target = offsetToReveal(layout, row, from, VIEWPORT);
        const offset = target === null ? from : contentOffset(layout, Math.round(scrollTopFor(layout, target, VIEWPORT)), VIEWPORT);
        assert.ok(rowTop(layout, row) >= offset && rowTop(layout, row) + layout.cellSize <= offset + VIEWPORT, `row ${row} from ${from}: shown from ${offset}`);
        assert.equal(offsetToReveal(layout, row, offset, VIEWPORT), null, 'a revealed row needs no more scrolling');
      }
    });
  }
});
