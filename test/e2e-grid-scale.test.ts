// The thumbnail grid at 2,000,000 results, in Chromium: the real renderer and web server over the grid
// benchmark's fake library. Chromium cannot lay out an element taller than ~33.5M px, and 2M photos at
// the default size are ~49M px of rows: the last photo must still be reachable (End key, scrollbar at
// the bottom) and shown with its thumbnail, the middle of the scroll must show the middle of the list,
// and the keyboard must keep its focus in view.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { GAP } from '../src/shared/grid-layout.js';
import type { RunningWebServer } from '../src/main/core/server/web-server.js';
import { CHROMIUM_MAX_LAYOUT_PX, fakeLibrary, gridScreen, syntheticName, waitUntilShown, wrongCells, type GridScreen } from '../bench/grid.js';
import { chromiumSkipReason } from './helpers/chromium.js';
import { assertRendererBuilt, openWebUi } from './helpers/web-ui.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const localStorage: any;

const ARTIFACTS = path.join(packageRoot, 'test-artifacts');
const COUNT = 2_000_000;
const LAST = COUNT - 1;

const skipReason = chromiumSkipReason;

function span(screen: GridScreen): string {
  return screen.cells.length ? `#${screen.cells[0].index + 1}…#${screen.cells[screen.cells.length - 1].index + 1} (scrollTop ${screen.scrollTop} of ${screen.scrollHeight})` : 'no cells';
}

/** Waits for the cell at `index` to be wholly in view with every cell on screen showing its thumbnail; fails with what is shown otherwise. */
async function assertShown(page: Page, index: number, what: string): Promise<GridScreen> {
  const ms = await waitUntilShown(page, index, 8_000);
  const screen = await gridScreen(page);
  assert.ok(ms >= 0, `${what}: #${index + 1} is not wholly shown with its thumbnail; the grid shows ${span(screen)}`);
  const cell = screen.cells.find((c) => c.index === index)!;
  assert.equal(cell.id, index + 1, `${what}: the tile of #${index + 1} shows photo id ${cell.id}`);
  assert.equal(cell.label, syntheticName(index), what);
  assert.deepEqual(wrongCells(screen), [], `${what}: tiles with the wrong photo`);
  return screen;
}

describe('grid at 2,000,000 results', { skip: skipReason ?? false }, () => {
  let server: RunningWebServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assertRendererBuilt();
    const { backend } = await fakeLibrary(COUNT);
    ({ server, browser, page } = await openWebUi(backend, { viewport: { width: 1280, height: 820 } }, 10_000, pageErrors));
    await assertShown(page, 0, 'first screen');
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the scroll height stays under Chromium\'s layout limit; thumbnails keep the size asked for', async () => {
    const grid = await page.evaluate(() => {
      const el = document.querySelector('[data-testid="photo-grid"]');
      return { total: Number(el.dataset.total), scrollHeight: el.scrollHeight, cellWidth: document.querySelector('[data-testid="photo-cell"]').getBoundingClientRect().width, cells: document.querySelectorAll('[data-testid="photo-cell"]').length };
    });
    assert.equal(grid.total, COUNT);
    assert.ok(grid.scrollHeight < CHROMIUM_MAX_LAYOUT_PX, `scroll height ${grid.scrollHeight}`);
    assert.ok(grid.cellWidth >= 180, `the default 180 px thumbnails are ${grid.cellWidth} px`);
    assert.ok(grid.cells <= 200, `${grid.cells} cells in the DOM`);
  });

  test('the End key shows the last photo, focused; Home the first', async () => {
    await page.getByTestId('photo-grid').focus();
    await page.keyboard.press('End');
    await assertShown(page, LAST, 'End');
    assert.equal(await page.locator(`[data-testid="photo-cell"][data-index="${LAST}"]`).getAttribute('class'), 'cell selected focused');
    await page.keyboard.press('Home');
    await assertShown(page, 0, 'Home');
  });

  test('the scrollbar at the very bottom shows the last photo, the last row ending at the bottom padding', async () => {
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid="photo-grid"]');
      el.scrollTop = el.scrollHeight;
    });
    const screen = await assertShown(page, LAST, 'scrollTop = max');
    const bottom = Math.max(...screen.cells.map((c) => c.bottom));
    assert.ok(screen.gridBottom - bottom >= 0 && screen.gridBottom - bottom <= 15, `the last row ends ${screen.gridBottom - bottom} px above the bottom`);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'grid-2m-end.png') });
  });

  test('the middle of the scroll shows the middle of the list', async () => {
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid="photo-grid"]');
      el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
    });
    assert.ok((await waitUntilShown(page, null, 8_000)) >= 0, 'the middle screen shows its thumbnails');
    const screen = await gridScreen(page);
    const centre = (screen.cells[0].index + screen.cells[screen.cells.length - 1].index) / 2;
    assert.ok(Math.abs(centre - COUNT / 2) <= screen.cells.length, `the middle shows ${span(screen)}`);
    assert.deepEqual(wrongCells(screen), []);
  });

  test('near the end, PageUp and ArrowUp keep the focused photo in view', async () => {
    await page.getByTestId('photo-grid').focus();
    await page.keyboard.press('End');
    await assertShown(page, LAST, 'End');
    const columns = Number(await page.getByTestId('photo-grid').getAttribute('data-columns'));
    const rowsPerPage = Math.floor((await page.evaluate(() => document.querySelector('[data-testid="photo-grid"]').clientHeight)) / ((await gridScreen(page)).cells[0].width + GAP));
    let focus = LAST;
    for (const key of ['PageUp', 'PageUp', 'ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowUp', 'PageDown', 'PageDown', 'ArrowDown']) {
      await page.keyboard.press(key);
      const rows = key.startsWith('Page') ? Math.max(1, rowsPerPage) : 1;
      focus = Math.min(LAST, Math.max(0, focus + (key.endsWith('Up') ? -1 : 1) * columns * rows));
      await assertShown(page, focus, `${key} to #${focus + 1}`);
    }
  });

  test('at the largest thumbnails (360 px: rows 6× the scroll) the End key still reaches the last photo', async () => {
    await page.evaluate(() => localStorage.setItem('photo-search.thumb-size', '360'));
    await page.reload();
    await assertShown(page, 0, 'first screen at 360 px');
    const cellWidth = (await gridScreen(page)).cells[0].width;
    assert.ok(cellWidth >= 360, `360 px thumbnails are ${cellWidth} px`);
    await page.getByTestId('photo-grid').focus();
    await page.keyboard.press('End');
    await assertShown(page, LAST, 'End at 360 px');
    await page.keyboard.press('ArrowUp');
    await assertShown(page, LAST - Number(await page.getByTestId('photo-grid').getAttribute('data-columns')), 'ArrowUp at 360 px');
  });

  test('no script errors on the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
