// End to end, in Chromium: `photo-search serve` (the real LibraryService, indexer process and web
// server) over a library of generated solid-colour photos and the project's tiny test model. Walks
// the first-run setup, indexing, text search, ratings, tags and tag filters, the viewer and the
// duplicates view, saving screenshots to test-artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

// Browser globals inside page callbacks (this project compiles tests without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
const ARTIFACTS = path.join(packageRoot, 'test-artifacts');
const RENDERER = path.join(packageRoot, 'dist', 'renderer', 'index.html');
const CLI = path.join(packageRoot, 'bin', 'photo-search.js');

/** Photo files named without their colour, so only the model can tell which is red. */
const PHOTOS: { file: string; colour: keyof typeof COLOURS }[] = [
  { file: 'IMG_0001.jpg', colour: 'green' },
  { file: 'IMG_0002.jpg', colour: 'blue' },
  { file: 'IMG_0003.png', colour: 'red' },
  { file: 'IMG_0004.jpg', colour: 'yellow' },
  { file: 'IMG_0005.jpg', colour: 'purple' },
  { file: 'IMG_0006.webp', colour: 'cyan' },
  { file: 'IMG_0007.jpg', colour: 'orange' },
  { file: 'IMG_0008.jpg', colour: 'grey' },
];
const DUPLICATE_OF = 'IMG_0002.jpg';
const DUPLICATE = 'copy of IMG_0002.jpg';
const RED = 'IMG_0003.png';
const PHOTO_COUNT = PHOTOS.length + 1;
const HEBREW_TAG = 'משפחה';

const skipReason = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : null;

/** Starts `photo-search serve` and resolves with the URL it prints on its first line. */
function startServe(libraryDir: string, modelsDir: string, home: string): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--library', libraryDir, '--models', modelsDir, '--port', '0'], {
    env: { ...process.env, PHOTO_SEARCH_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ child, url: line.trim(), log }));
    lines.on('line', (line) => log.push(line));
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing its URL:\n${log.join('')}`)));
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** File names of the grid cells in order. */
async function gridNames(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="photo-cell"]', (cells: any[]) => cells.map((cell) => cell.getAttribute('aria-label')));
}

/** Waits until every cell on screen shows its thumbnail (so screenshots show photos, not placeholders). */
async function waitForThumbnails(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('[data-testid="photo-cell"]')];
    return cells.length > 0 && cells.every((cell: any) => {
      const image = cell.querySelector('img');
      return image && image.complete && image.naturalWidth > 0 && (globalThis as any).getComputedStyle(image).opacity === '1';
    });
  });
}

async function waitForGrid(page: Page, predicate: (names: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  let names: string[] = [];
  while (Date.now() < deadline) {
    names = await gridNames(page);
    if (names.length > 0 && !names.includes('Loading') && predicate(names)) return names;
    await page.waitForTimeout(100);
  }
  assert.fail(`${what}: grid shows ${JSON.stringify(names)}`);
}

describe('web UI end to end', { skip: skipReason ?? false }, () => {
  let dir: string;
  let photosDir: string;
  let modelDir: string;
  let server: Awaited<ReturnType<typeof startServe>>;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(RENDERER), 'the renderer is not built: run npm run build:renderer');
    dir = await mkdtemp(path.join(os.tmpdir(), 'e2e-ui-'));
    photosDir = path.join(dir, 'Photos');
    modelDir = await buildTestModel(path.join(dir, 'test-model'));
    await mkdir(photosDir);
    await mkdir(ARTIFACTS, { recursive: true });
    for (const [i, photo] of PHOTOS.entries()) {
      await writeSolidPhoto(path.join(photosDir, photo.file), COLOURS[photo.colour], i % 2 ? { width: 96, height: 64 } : 80);
    }
    await copyFile(path.join(photosDir, DUPLICATE_OF), path.join(photosDir, DUPLICATE));
    server = await startServe(path.join(dir, 'library'), path.join(dir, 'models'), path.join(dir, 'home'));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 820 }, colorScheme: 'light' });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    if (server?.child.exitCode === null) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('serve prints a tokenised 127.0.0.1 URL; the page without the token cannot use the API', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{40,}$/);
    const bare = await fetch(new URL('/api/getStatus', server.url), { method: 'POST', body: '[]' });
    assert.equal(bare.status, 401);
  });

  test('first run: add a folder, choose the model folder, start indexing; progress is shown', async () => {
    await page.goto(server.url);
    await page.getByTestId('setup').waitFor();
    await shot(page, '01-setup');
    await page.getByTestId('add-folder-input').fill(photosDir);
    await page.getByTestId('add-folder-submit').click();
    await page.getByTestId('folder-list').getByText(photosDir).waitFor();
    await page.getByTestId('model-folder-input').fill(modelDir);
    await page.getByTestId('model-folder-submit').click();
    await page.locator('[data-testid="model-status"][data-state="ready"]').waitFor();
    await shot(page, '02-setup-ready');

    // Record every indexing state the UI shows from the moment indexing starts.
    await page.evaluate(() => {
      (globalThis as any).seenStates = [];
      const record = () => {
        const pill = document.querySelector('[data-testid="indexing-pill"]');
        const state = pill?.getAttribute('data-state');
        const seen = (globalThis as any).seenStates as string[];
        if (state && seen[seen.length - 1] !== state) seen.push(state);
      };
      new (globalThis as any).MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByTestId('setup-start-indexing').click();
    await page.getByTestId('photo-grid').waitFor();
    await page.getByTestId('indexing-pill').click();
    await page.getByTestId('indexing-panel').waitFor();
    await page.getByTestId('indexing-progress').waitFor();
    await page.locator('[data-testid="indexing-state"][data-state="done"]').waitFor({ timeout: 60_000 });
    const counts = await page.getByTestId('indexing-counts').textContent();
    assert.match(counts ?? '', new RegExp(`^${PHOTO_COUNT} / ${PHOTO_COUNT}`));
    assert.equal(await page.getByTestId('indexing-progress').getAttribute('aria-valuenow'), '100');
    const seen = (await page.evaluate(() => (globalThis as any).seenStates)) as string[];
    assert.ok(seen.some((state) => state === 'scanning' || state === 'embedding'), `live progress was shown: ${seen.join(' → ')}`);
    await shot(page, '03-indexing-done');
    await page.getByTestId('drawer-close').click();
    await waitForGrid(page, (names) => names.length === PHOTO_COUNT, 'all photos browse after indexing');
  });

  test('the query "red" puts the red photo first, with count and time shown', async () => {
    await page.getByTestId('search-input').fill('red');
    await page.getByTestId('search-input').press('Enter');
    const names = await waitForGrid(page, (n) => n[0] === RED, 'red first');
    assert.equal(names[0], RED);
    await waitForThumbnails(page);
    const meta = await page.getByTestId('result-count').textContent();
    assert.match(meta ?? '', /\d+ (best )?match(es)? · [\d.]+ ms/);
    await shot(page, '04-search-red');
    // Typing alone searches too (debounced).
    await page.getByTestId('search-input').fill('green');
    await waitForGrid(page, (n) => n[0] === 'IMG_0001.jpg', 'green first while typing');
    await page.getByTestId('search-input').fill('');
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'browse again');
  });

  test('a rating set with the keyboard survives a reload', async () => {
    await page.locator(`[data-testid="photo-cell"][aria-label="${RED}"]`).click();
    await page.keyboard.press('4');
    await page.locator(`[data-testid="photo-cell"][aria-label="${RED}"][data-rating="4"]`).waitFor();
    await page.reload();
    const red = page.locator(`[data-testid="photo-cell"][aria-label="${RED}"]`);
    await red.waitFor();
    assert.equal(await red.getAttribute('data-rating'), '4');
    // The minimum-rating filter keeps only it.
    await page.getByTestId('filter-rating').selectOption('4');
    assert.deepEqual(await waitForGrid(page, (n) => n.length === 1, 'rating filter'), [RED]);
    await page.getByTestId('filter-rating').selectOption('0');
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'rating filter cleared');
  });

  test('tagging a selection (Hebrew tag), then filtering by the tag shows only the tagged photos', async () => {
    await page.locator('[data-testid="photo-cell"][aria-label="IMG_0004.jpg"]').click();
    await page.locator('[data-testid="photo-cell"][aria-label="IMG_0007.jpg"]').click({ modifiers: ['Control'] });
    assert.equal(await page.getByTestId('selection-count').textContent(), '2 selected');
    const tagInput = page.getByTestId('selection-tag-input');
    assert.equal(await tagInput.getAttribute('dir'), 'auto');
    await tagInput.fill(HEBREW_TAG);
    await tagInput.press('Enter');
    await page.getByTestId('toast').filter({ hasText: HEBREW_TAG }).waitFor();
    await page.getByTestId('clear-selection').click();

    // Filter through the autocomplete: type a prefix, pick the suggestion.
    const filterInput = page.getByTestId('filter-tag-input');
    await filterInput.fill(HEBREW_TAG.slice(0, 2));
    const suggestion = page.getByTestId('filter-tag-input-suggestions').getByRole('option', { name: new RegExp(HEBREW_TAG) });
    await suggestion.click();
    await page.getByTestId('filter-tag').filter({ hasText: HEBREW_TAG }).waitFor();
    const names = await waitForGrid(page, (n) => n.length === 2, 'tag filter');
    assert.deepEqual([...names].sort(), ['IMG_0004.jpg', 'IMG_0007.jpg']);
    const chipDir = await page.getByTestId('filter-tag').locator('.chip-label').getAttribute('dir');
    assert.equal(chipDir, 'auto');
    await waitForThumbnails(page);
    await shot(page, '05-tag-filter');
    await page.getByTestId('clear-filters').click();
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'filters cleared');
  });

  test('the viewer opens on Enter, steps to the next photo and shows metadata', async () => {
    await page.locator('[data-testid="photo-cell"][data-index="0"]').click();
    const first = await page.locator('[data-testid="photo-cell"][data-index="0"]').getAttribute('aria-label');
    const second = await page.locator('[data-testid="photo-cell"][data-index="1"]').getAttribute('aria-label');
    await page.getByTestId('photo-grid').press('Enter');
    const viewer = page.getByTestId('viewer');
    await viewer.waitFor();
    assert.match((await page.getByTestId('viewer-counter').textContent()) ?? '', new RegExp(`^1 / ${PHOTO_COUNT}$`));
    assert.equal(await viewer.locator('h2').textContent(), first);
    await page.waitForFunction(() => {
      const image = document.querySelector('[data-testid="viewer-image"]');
      return image?.complete && image.naturalWidth > 0;
    });
    await page.keyboard.press('ArrowRight');
    await page.getByTestId('viewer-counter').filter({ hasText: `2 / ${PHOTO_COUNT}` }).waitFor();
    assert.equal(await viewer.locator('h2').textContent(), second);
    await page.getByTestId('viewer-next').click();
    await page.getByTestId('viewer-counter').filter({ hasText: `3 / ${PHOTO_COUNT}` }).waitFor();
    await page.getByTestId('viewer-previous').click();
    await page.getByTestId('viewer-counter').filter({ hasText: `2 / ${PHOTO_COUNT}` }).waitFor();
    const metadata = (await page.getByTestId('viewer-metadata').textContent()) ?? '';
    assert.match(metadata, /Dimensions\d+ × \d+/);
    assert.ok(metadata.includes(photosDir), 'the path is shown');
    await page.waitForFunction(() => {
      const image = document.querySelector('[data-testid="viewer-image"]');
      return image?.naturalWidth > 0 && (globalThis as any).getComputedStyle(image).opacity === '1';
    });
    await shot(page, '06-viewer');
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
  });

  test('find similar from the viewer ranks the nearest colour first', async () => {
    await page.locator(`[data-testid="photo-cell"][aria-label="${RED}"]`).dblclick();
    await page.getByTestId('find-similar').click();
    await page.getByTestId('similar-chip').waitFor();
    // Orange is the test model's nearest colour to red; the red photo itself is not listed.
    const names = await waitForGrid(page, (n) => n[0] === 'IMG_0007.jpg', 'similar to red');
    assert.ok(!names.includes(RED));
    await waitForThumbnails(page);
    await shot(page, '07-similar');
    await page.getByTestId('similar-chip').getByRole('button').click();
    await page.getByTestId('similar-chip').waitFor({ state: 'detached' });
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'similar cleared');
  });

  test('duplicates: the exact copy is grouped, one copy suggested to keep, trashing asks first', async () => {
    await page.getByTestId('tab-duplicates').click();
    await page.getByTestId('find-duplicates').click();
    const group = page.locator('[data-testid="duplicate-group"][data-kind="exact"]');
    await group.waitFor();
    assert.equal(await group.getByTestId('duplicate-photo').count(), 2);
    assert.equal(await group.locator('[data-testid="duplicate-photo"][data-keep="true"]').count(), 1);
    await page.getByTestId('trash-duplicates').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await shot(page, '08-duplicates-confirm');
    // The kept copy cannot be ticked; choosing the other copy to keep moves the mark.
    assert.equal(await group.locator('[data-testid="duplicate-photo"][data-keep="true"] input[type="checkbox"]').count(), 0);
    const other = group.locator('[data-testid="duplicate-photo"][data-keep="false"]');
    const otherId = await other.getAttribute('data-photo-id');
    await other.getByTestId('keep-instead').click();
    assert.equal(await group.locator('[data-testid="duplicate-photo"][data-keep="true"]').getAttribute('data-photo-id'), otherId);
    assert.equal(await page.getByTestId('trash-duplicates').isDisabled(), true, 'nothing ticked after choosing the other copy');
    await group.locator('[data-testid="duplicate-photo"][data-keep="false"] input[type="checkbox"]').check();
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    await page.getByTestId('tab-library').click();
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'back to the library');
  });

  test('dark theme follows the system', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    const background = await page.evaluate(() => (globalThis as any).getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(17, 19, 23)');
    await waitForThumbnails(page);
    await shot(page, '09-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('no script errors on the page', () => {
    assert.deepEqual(pageErrors, []);
  });

  test('serve stops cleanly on SIGTERM, even with the page (and its event stream) still open', async () => {
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    assert.equal(await exited, 0, server.log.join(''));
  });
});
