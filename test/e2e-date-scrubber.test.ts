// The date scrubber in Chromium, over the grid benchmark's fake library of 2,000,000 photos an hour apart
// (December 2024 back to 1796; the scroll is scaled): year labels sit where their photos start, clicking a
// year scrolls the grid so that the year's first photo is in the top row, hovering names the month,
// dragging moves the grid; a small library has no scrubber.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { startWebServer, type RunningWebServer } from '../src/main/core/server/web-server.js';
import { fakeLibrary, gridScreen, syntheticDate, syntheticTimeline, waitUntilShown, wrongCells } from '../bench/grid.js';
import { CHROMIUM, chromiumSkipReason, CHROMIUM_ARGS } from './helpers/chromium.js';
import { assertRendererBuilt, openWebUi, RENDERER_DIR } from './helpers/web-ui.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const ARTIFACTS = path.join(packageRoot, 'test-artifacts');
const COUNT = 2_000_000;

const skipReason = chromiumSkipReason;

/** The index of the newest photo of `year` (the photos newer than it: the sum of the newer months' counts). */
function yearStart(year: number): number {
  return syntheticTimeline(COUNT).filter((m) => m.year > year).reduce((sum, m) => sum + m.count, 0);
}

async function topRow(page: Page) {
  assert.ok((await waitUntilShown(page, null, 8_000)) >= 0, 'the screen shows its thumbnails');
  const screen = await gridScreen(page);
  assert.deepEqual(wrongCells(screen), [], 'tiles with the wrong photo');
  const top = Math.min(...screen.cells.map((c) => c.top));
  return { screen, row: screen.cells.filter((c) => c.top === top), top };
}

describe('date scrubber', { skip: skipReason ?? false }, () => {
  let server: RunningWebServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assertRendererBuilt();
    const { backend } = await fakeLibrary(COUNT);
    ({ server, browser, page } = await openWebUi(backend, { viewport: { width: 1280, height: 820 } }, 10_000, pageErrors));
    await page.getByTestId('date-scrubber').waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('year labels run newest first down the bar, placed by their photos', async () => {
    const labels = await page.getByTestId('scrubber-year').evaluateAll((els: any[]) => els.map((el) => ({ year: Number(el.textContent), top: el.getBoundingClientRect().top })));
    assert.ok(labels.length >= 10, `${labels.length} year labels`);
    assert.equal(labels[0].year, 2024);
    for (let i = 1; i < labels.length; i++) {
      assert.ok(labels[i].year < labels[i - 1].year && labels[i].top >= labels[i - 1].top + 15, `labels ${JSON.stringify(labels.slice(i - 1, i + 1))} overlap or are out of order`);
    }
    // Each year holds ~8,760 photos of 2M, so the bar's middle is ~114 years back: around 1910.
    const bar = await page.getByTestId('date-scrubber').boundingBox();
    const middle = labels.reduce((best, l) => (Math.abs(l.top - (bar!.y + bar!.height / 2)) < Math.abs(best.top - (bar!.y + bar!.height / 2)) ? l : best));
    assert.ok(Math.abs(middle.year - 1910) <= 8, `the label at the bar's middle is ${middle.year}`);
  });

  test('clicking a year scrolls the grid so that its first photo is in the top row', async () => {
    const years = (await page.getByTestId('scrubber-year').allTextContents()).map(Number);
    // The second label, one in the middle, the last (the oldest photos, at the end of the list) and back to the first.
    const clicked = [years[1], years[Math.floor(years.length / 2)], years[years.length - 1], years[0]];
    for (const [i, year] of clicked.entries()) {
      await page.getByTestId('scrubber-year').filter({ hasText: new RegExp(`^${year}$`) }).click();
      const start = yearStart(year);
      const { row, screen } = await topRow(page);
      assert.ok(row.some((c) => c.index === start), `after clicking ${year}, the top row is #${row[0]?.index}…#${row[row.length - 1]?.index}, not the row of #${start} (scrollTop ${screen.scrollTop})`);
      assert.equal(new Date(syntheticDate(row[row.length - 1].index)).getUTCFullYear(), year);
      // The floating date names the year's newest month; the first photo of the year carries the month mark.
      assert.equal(await page.getByTestId('grid-date').textContent(), new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(syntheticDate(row[0].index)));
      if (i === 0) {
        await mkdir(ARTIFACTS, { recursive: true });
        await page.mouse.move(0, 0);
        await page.screenshot({ path: path.join(ARTIFACTS, 'date-scrubber-year.png') });
      }
    }
  });

  test('hovering names the month at that point; dragging down moves the grid back in time', async () => {
    const bar = (await page.getByTestId('date-scrubber').boundingBox())!;
    const x = bar.x + bar.width - 4;
    await page.mouse.move(x, bar.y + bar.height * 0.25);
    const hover = await page.getByTestId('scrubber-hover').textContent();
    assert.match(hover ?? '', /\b19[5-7]\d\b/, `a quarter down the bar (~57 years back) reads ${hover}`);
    await page.mouse.down();
    const before = (await topRow(page)).row[0].index;
    await page.mouse.move(x, bar.y + bar.height * 0.75, { steps: 5 });
    await page.mouse.up();
    const after = (await topRow(page)).row[0].index;
    assert.ok(after > before + COUNT / 3, `dragging from a quarter to three quarters moved the top from #${before} to #${after}`);
    assert.ok(Math.abs(after - COUNT * 0.75) < COUNT * 0.02, `three quarters down the bar shows #${after}`);
  });

  test('no script errors on the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('date scrubber in a small library', { skip: skipReason ?? false }, () => {
  test('150 photos: no scrubber, the scrollbar stays', async () => {
    const { backend } = await fakeLibrary(150);
    const server = await startWebServer({ api: backend, rendererDir: RENDERER_DIR });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
      await page.goto(server.url);
      assert.ok((await waitUntilShown(page, 0, 8_000)) >= 0);
      assert.equal(await page.getByTestId('date-scrubber').count(), 0);
      assert.equal(await page.evaluate(() => document.querySelector('[data-testid="photo-grid"]').dataset.scrubber ?? null), null);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
