// Results a person can read, in Chromium (issue 11): the real LibraryService and web server over solid-colour
// photos and the tiny test model. A text query shows its best matches with an honest count, "More results"
// pages through every ranked photo, the sort control orders them newest first, and a tag word lifts its photo
// with a badge naming the field. Screenshots go to test-artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import type { RunningWebServer } from '../src/main/core/server/web-server.js';
import { chromiumSkipReason } from './helpers/chromium.js';
import { assertRendererBuilt, gridNames, openWebUi, waitForGrid, waitForThumbnails } from './helpers/web-ui.js';
import { indexToTheEnd } from './helpers/service.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const ARTIFACTS = path.join(packageRoot, 'test-artifacts');
const COLOUR_NAMES = ['red', 'orange', 'green', 'blue', 'yellow', 'purple', 'grey', 'cyan', 'magenta', 'white'] as const;

const skipReason = chromiumSkipReason;

describe('web UI: best matches, more results, sort by date', { skip: skipReason ?? false }, () => {
  let dir: string;
  let service: LibraryService;
  let server: RunningWebServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assertRendererBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'e2e-ui-results-'));
    const photos = path.join(dir, 'Photos');
    await mkdir(photos);
    await mkdir(ARTIFACTS, { recursive: true });
    for (const [i, colour] of COLOUR_NAMES.entries()) {
      const file = path.join(photos, `DSC_${1000 + i}.jpg`);
      await writeSolidPhoto(file, COLOURS[colour], 64);
      const when = new Date(Date.UTC(2015 + i, 3, 1)); // DSC_1000 oldest (2015) … DSC_1009 newest (2024)
      utimesSync(file, when, when);
    }
    service = await LibraryService.open({ libraryDir: path.join(dir, 'library'), modelsDir: path.join(dir, 'models') });
    await service.useModelFolder(await buildTestModel(path.join(dir, 'model')));
    await service.addFolder(photos);
    await indexToTheEnd(service);
    ({ server, browser, page } = await openWebUi(service, { viewport: { width: 1280, height: 720 }, colorScheme: 'light' }, 20_000, pageErrors));
    await waitForGrid(page, (names) => names.length === COLOUR_NAMES.length, 'browsing');
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a text query shows its best matches with an honest count, then every ranked photo on request', async () => {
    await page.getByTestId('search-input').fill('red');
    await page.getByTestId('search-input').press('Enter');
    const best = await waitForGrid(page, (names) => names.length < COLOUR_NAMES.length, 'best matches of "red"');
    assert.equal(best[0], 'DSC_1000.jpg');
    const count = page.getByTestId('result-count');
    await count.filter({ hasText: /best match/ }).waitFor();
    assert.equal(await count.getAttribute('data-total'), String(best.length));
    assert.equal(await count.getAttribute('data-ranked'), String(COLOUR_NAMES.length));
    assert.match(await count.innerText(), new RegExp(`^${best.length} best match(es)?`));
    const more = page.getByTestId('show-more');
    assert.equal(await more.innerText(), `More results (${COLOUR_NAMES.length - best.length})`);
    await waitForThumbnails(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'results-best-matches.png') });

    await more.click();
    const all = await waitForGrid(page, (names) => names.length === COLOUR_NAMES.length, 'every ranked photo');
    assert.deepEqual(all.slice(0, best.length), best, 'the best matches come first');
    assert.match(await count.innerText(), new RegExp(`^${COLOUR_NAMES.length} matches`));
    await page.getByTestId('show-best').waitFor();
  });

  test('the sort control orders the results newest first with month marks, and back', async () => {
    const sort = page.getByTestId('sort-select');
    assert.equal(await sort.inputValue(), 'relevance');
    const byRelevance = await gridNames(page);
    await sort.selectOption('date');
    const newest = Array.from({ length: COLOUR_NAMES.length }, (_, i) => `DSC_${1009 - i}.jpg`);
    await waitForGrid(page, (names) => JSON.stringify(names) === JSON.stringify(newest), 'newest first');
    // Newest first, each month's first photo names its month, and the month at the top is shown over the grid.
    const months = await page.$$eval('[data-testid="cell-month"]', (labels: any[]) => labels.map((label) => label.textContent));
    assert.deepEqual(months, Array.from({ length: COLOUR_NAMES.length }, (_, i) => `Apr ${2024 - i}`));
    assert.equal(await page.getByTestId('grid-date').innerText(), 'April 2024');
    await waitForThumbnails(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'results-sorted-by-date.png') });
    await sort.selectOption('relevance');
    await waitForGrid(page, (names) => JSON.stringify(names) === JSON.stringify(byRelevance), 'best first again');
    assert.equal(await page.locator('[data-testid="cell-month"]').count(), 0, 'no month marks in relevance order');
    assert.equal(await page.getByTestId('grid-date').count(), 0);
  });

  test('a tag word lifts its photo to the top, with a badge naming the field', async () => {
    const purple = (await service.search({ query: 'purple', limit: 1 })).items[0];
    await service.addTags([purple.id], ['wedding']);
    await page.getByTestId('search-input').fill('red wedding');
    await page.getByTestId('search-input').press('Enter');
    const names = await waitForGrid(page, (shown) => shown[0] === path.basename(purple.path), 'the tagged photo first');
    assert.ok(names.includes('DSC_1000.jpg'));
    const badge = page.locator('[data-testid="photo-cell"]').first().getByTestId('cell-matched');
    assert.equal(await badge.innerText(), 'tag');
    await waitForThumbnails(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'results-tag-match.png') });
    assert.deepEqual(pageErrors, []);
  });
});
