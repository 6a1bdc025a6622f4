// End to end, in Chromium: `photo-search serve` (the real LibraryService, indexer process and web
// server) over a library of generated solid-colour photos and the project's tiny test model. Walks
// the first-run setup, indexing, text search, ratings, tags and tag filters, the viewer, the
// duplicates view (and the viewer over a group's copies), and bulk edits with their confirmation and
// undo, saving screenshots to test-artifacts/.
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
import { chromiumSkipReason, launchChromium } from './helpers/chromium.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';
import { waitForGrid, waitForThumbnails } from './helpers/web-ui.js';

// Browser globals inside page callbacks (this project compiles tests without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

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
/** Photos added for the bulk edits, so that a select-all edit changes more than 50. */
const BULK_EXTRA = 56;
const BULK_TOTAL = PHOTO_COUNT + BULK_EXTRA;

const skipReason = chromiumSkipReason;

/** Starts `photo-search serve` and resolves with the URL it prints on its first line. */
function startServe(libraryDir: string, modelsDir: string, home: string): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--library', libraryDir, '--models', modelsDir, '--port', '0'], {
    // The trash package moves files to the freedesktop trash under XDG_DATA_HOME: a temp one, not the user's.
    env: { ...process.env, PHOTO_SEARCH_HOME: home, XDG_DATA_HOME: path.join(home, 'data') },
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
    ({ browser, page } = await launchChromium({ viewport: { width: 1280, height: 820 }, colorScheme: 'light' }, 20_000, pageErrors));
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
    // Which provider embedded, and why any other was passed over (auto on Linux tries CUDA first).
    const runtime = await page.getByTestId('indexing-runtime').textContent();
    assert.match(runtime ?? '', /embedding on the CPU, \d+ threads?, batches of \d+ \(measured on this computer\)\.$/i);
    if (process.platform === 'linux') assert.match(runtime ?? '', /^(CUDA unavailable \(.+\); embedding|Embedding) on /);
    await shot(page, '03-indexing-done');
    await page.getByTestId('drawer-close').click();
    await waitForGrid(page, (names) => names.length === PHOTO_COUNT, 'all photos browse after indexing');
  });

  test('settings: the indexing hardware choice is kept by the library', async () => {
    await page.getByTestId('open-settings').click();
    const select = page.getByTestId('provider-select');
    assert.equal(await select.inputValue(), 'auto');
    const offered = await select.locator('option').evaluateAll((options: any[]) => options.map((o) => o.value));
    assert.deepEqual(offered, process.platform === 'linux' ? ['auto', 'cpu', 'cuda'] : offered, 'Linux offers auto, the CPU and CUDA');
    await select.selectOption('cpu');
    await page.getByText('Indexing will use CPU from its next run').waitFor();
    await page.reload();
    await page.getByTestId('open-settings').click();
    assert.equal(await page.getByTestId('provider-select').inputValue(), 'cpu');
    await page.getByTestId('provider-select').selectOption('auto');
    await page.getByText('Indexing will use Automatic from its next run').waitFor();
    await page.getByTestId('open-settings').click();
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
    // The kept copy cannot be ticked; choosing the other copy to keep moves the mark.
    assert.equal(await group.locator('[data-testid="duplicate-photo"][data-keep="true"] input[type="checkbox"]').count(), 0);
    const other = group.locator('[data-testid="duplicate-photo"][data-keep="false"]');
    const otherId = await other.getAttribute('data-photo-id');
    await other.getByTestId('keep-instead').click();
    assert.equal(await group.locator('[data-testid="duplicate-photo"][data-keep="true"]').getAttribute('data-photo-id'), otherId);
    assert.equal(await page.getByTestId('trash-duplicates').isDisabled(), true, 'nothing ticked after choosing the other copy');
    await group.locator('[data-testid="duplicate-photo"][data-keep="false"] input[type="checkbox"]').check();
    await page.getByTestId('trash-duplicates').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await shot(page, '08-duplicates-confirm');
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    await page.getByTestId('tab-library').click();
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'back to the library');
  });

  test('duplicates: a card opens its copy in the viewer, which steps through that group only; a rating and tag set there show on the card', async () => {
    await page.getByTestId('tab-duplicates').click();
    const group = page.locator('[data-testid="duplicate-group"][data-kind="exact"]');
    await group.waitFor();
    const cards = group.getByTestId('duplicate-photo');
    const ids = await cards.evaluateAll((all: any[]) => all.map((card) => card.getAttribute('data-photo-id')));
    const names = await cards.evaluateAll((all: any[]) => all.map((card) => card.querySelector('figcaption .path').textContent));
    assert.deepEqual([...names].sort(), [DUPLICATE, DUPLICATE_OF].sort());

    // The thumbnail is a button named after its copy: Enter opens the viewer on that copy, 1 of the group's 2.
    await page.getByRole('button', { name: `Open ${names[0]} in the viewer` }).focus();
    await page.keyboard.press('Enter');
    const viewer = page.getByTestId('viewer');
    await viewer.waitFor();
    assert.equal(await page.getByTestId('viewer-counter').textContent(), '1 / 2');
    assert.equal(await viewer.locator('h2').textContent(), names[0]);
    assert.equal(await page.getByTestId('viewer-image').getAttribute('data-photo-id'), ids[0]);
    assert.equal(await page.getByTestId('find-similar').count(), 0, 'no "find similar" inside the duplicates view');

    // Next: the other copy, and no further (the group, not the library, is what the viewer steps through).
    await page.keyboard.press('ArrowRight');
    await page.getByTestId('viewer-counter').filter({ hasText: '2 / 2' }).waitFor();
    assert.equal(await viewer.locator('h2').textContent(), names[1]);
    assert.equal(await page.getByTestId('viewer-next').isDisabled(), true);

    // Tagged and rated in the viewer: through the client, each with an undoable notice. A tag is no filter link here.
    await page.getByTestId('viewer-tag-input').fill('keeper');
    await page.getByTestId('viewer-tag-input').press('Enter');
    await page.getByTestId('toast').filter({ hasText: 'Tagged' }).filter({ hasText: 'keeper' }).waitFor();
    await page.locator('[data-testid="viewer-tag"][data-tag="keeper"]').waitFor();
    assert.equal(await page.locator('[data-testid="viewer-tag"] button.chip-label').count(), 0);
    await page.getByTestId('viewer-rating').getByRole('button', { name: '3 stars' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Rated 3★' }).waitFor();
    await page.locator('[data-testid="viewer-rating"][data-rating="3"]').waitFor();
    await page.waitForFunction(() => {
      const image = document.querySelector('[data-testid="viewer-image"]');
      return image?.naturalWidth > 0 && (globalThis as any).getComputedStyle(image).opacity === '1';
    });
    await page.getByTestId('viewer-tag-input-suggestions').waitFor({ state: 'detached' }); // closes once the field is left
    await page.waitForTimeout(300); // the toast's entrance animation
    await shot(page, '08a-duplicates-viewer');

    // Closed: focus is back on the card of the copy last shown, and that card shows the rating and the tag.
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-photo-id')), ids[1]);
    const rated = group.locator(`[data-testid="duplicate-photo"][data-photo-id="${ids[1]}"] [aria-label="3 stars"]`);
    await rated.waitFor();
    const tagged = group.locator(`[data-testid="duplicate-photo"][data-photo-id="${ids[1]}"] .tag-chip`).filter({ hasText: 'keeper' });
    await tagged.waitFor();
    assert.equal(await group.locator(`[data-testid="duplicate-photo"][data-photo-id="${ids[0]}"] [data-testid="duplicate-curation"]`).count(), 0);
    await page.waitForTimeout(300); // the toast's entrance animation
    await shot(page, '08a-duplicates-card-rated');

    // They are the library's: there after the view reloads, and Ctrl+Z takes them off the card, newest first.
    await page.getByTestId('tab-library').click();
    await page.getByTestId('tab-duplicates').click();
    await rated.waitFor();
    await tagged.waitFor();
    await page.keyboard.press('Control+z');
    await page.getByTestId('toast').filter({ hasText: 'Undid rating 3★: 1 photo restored' }).waitFor();
    await rated.waitFor({ state: 'detached' });
    assert.equal(await tagged.count(), 1, 'the tag stays until its own undo');
    await page.keyboard.press('Control+z');
    await page.getByTestId('toast').filter({ hasText: 'Undid tagging' }).filter({ hasText: 'keeper' }).waitFor();
    await tagged.waitFor({ state: 'detached' });
    await page.getByTestId('tab-library').click();
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'back to the library');
  });

  test('duplicates: moving the copy to the trash is undone from its notice, and with Ctrl+Z', async () => {
    await page.getByTestId('tab-duplicates').click();
    const group = page.locator('[data-testid="duplicate-group"][data-kind="exact"]');
    const trashCopy = async () => {
      await group.waitFor();
      await group.locator('[data-testid="duplicate-photo"][data-keep="false"] input[type="checkbox"]').check();
      await page.getByTestId('trash-duplicates').click();
      await page.getByTestId('confirm-ok').click();
      await page.getByTestId('no-duplicates').waitFor();
      return page.getByTestId('toast').filter({ hasText: 'Moved 1 photo to the trash' });
    };
    const undone = page.getByTestId('toast').filter({ hasText: 'Undid moving to the trash: 1 photo back in the library' });
    await (await trashCopy()).getByTestId('toast-action').click();
    await undone.waitFor();
    await group.waitFor(); // the pair is a group again
    assert.equal(await group.getByTestId('duplicate-photo').count(), 2);
    await shot(page, '08b-duplicates-undone');
    await undone.waitFor({ state: 'detached' });

    const moved = await trashCopy();
    await moved.waitFor();
    await page.keyboard.press('Control+z');
    await undone.waitFor();
    await moved.waitFor({ state: 'detached' }); // its Undo no longer applies
    await group.waitFor();
    await page.getByTestId('tab-library').click();
    await waitForGrid(page, (n) => n.length === PHOTO_COUNT, 'every photo back in the library');
  });

  test('dark theme follows the system', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    const background = await page.evaluate(() => (globalThis as any).getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(17, 19, 23)');
    await waitForThumbnails(page);
    await shot(page, '09-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('bulk edits ask first, naming the count; Ctrl+Z and the toast\'s Undo put back every previous rating and tag', async () => {
    const token = new URL(server.url).searchParams.get('token')!;
    const api = async (method: string, ...args: unknown[]): Promise<any> => {
      const response = await fetch(new URL(`/api/${method}`, server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-photo-search-token': token },
        body: JSON.stringify(args),
      });
      const body = (await response.json()) as { ok: boolean; result?: unknown; error?: string };
      assert.ok(body.ok, `${method}: ${body.error}`);
      return body.result;
    };
    // More photos than the 50 an edit may change without asking.
    const colours = Object.keys(COLOURS);
    for (let i = 0; i < BULK_EXTRA; i++) await writeSolidPhoto(path.join(photosDir, `bulk_${String(i).padStart(2, '0')}.jpg`), COLOURS[colours[i % colours.length]], 40 + i);
    await api('startIndexing');
    const deadline = Date.now() + 60_000;
    while ((await api('getStatus')).embedded < BULK_TOTAL || (await api('getIndexingProgress')).state !== 'done') {
      assert.ok(Date.now() < deadline, 'the new photos are indexed');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // Mixed curation to start from: every rating 0–5, and the tag "bulk" on every fourth photo.
    const all = async (): Promise<{ id: number; rating: number; tags: string[] }[]> =>
      ((await api('search', { query: '', limit: 1000 })).items as { id: number; rating: number; tags: string[] }[])
        .map(({ id, rating, tags }) => ({ id, rating, tags })).sort((a, b) => a.id - b.id);
    const ids = (await all()).map((p) => p.id);
    assert.equal(ids.length, BULK_TOTAL);
    await api('setRating', ids, 0);
    for (let rating = 1; rating <= 5; rating++) await api('setRating', ids.filter((_, i) => i % 6 === rating), rating);
    await api('removeTags', ids, ['bulk']);
    await api('addTags', ids.filter((_, i) => i % 4 === 0), ['bulk']);
    const before = await all();
    assert.equal(new Set(before.map((p) => p.rating)).size, 6);
    const ratingsNow = async () => (await all()).map((p) => p.rating);
    const bulkTagged = async () => (await all()).filter((p) => p.tags.includes('bulk')).map((p) => p.id);
    const taggedBefore = before.filter((p) => p.tags.includes('bulk')).map((p) => p.id);

    await page.reload();
    await page.locator(`[data-testid="result-count"][data-total="${BULK_TOTAL}"]`).waitFor();
    await page.locator('[data-testid="photo-cell"][data-index="0"]').click();
    await page.keyboard.press('Control+a');
    await page.getByTestId('selection-count').filter({ hasText: `${BULK_TOTAL} selected` }).waitFor();

    // "2" asks first, naming the count; Cancel changes nothing.
    const dialog = page.getByTestId('confirm-dialog');
    await page.keyboard.press('2');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', new RegExp(`Rate ${BULK_TOTAL} photos 2★\\?.*Each of the ${BULK_TOTAL} selected photos gets 2★`));
    await shot(page, '10-bulk-rating-confirm');
    await page.getByTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(await ratingsNow(), before.map((p) => p.rating), 'nothing changed while asking, nor after Cancel');

    // Confirmed: every photo is rated 2, and the toast offers Undo.
    await page.keyboard.press('2');
    await dialog.waitFor();
    await page.getByTestId('confirm-ok').click();
    const rated = page.getByTestId('toast').filter({ hasText: `Rated 2★: ${BULK_TOTAL} photos` });
    await rated.waitFor();
    assert.deepEqual(await ratingsNow(), ids.map(() => 2));
    await page.locator('[data-testid="photo-cell"][data-index="0"][data-rating="2"]').waitFor();
    await page.waitForTimeout(300); // the toast's entrance animation
    await shot(page, '11-bulk-rating-toast');

    // Ctrl+Z: every photo has its own previous rating back, and the edit's toast is gone.
    await page.keyboard.press('Control+z');
    await page.getByTestId('toast').filter({ hasText: `Undid rating 2★: ${BULK_TOTAL - before.filter((p) => p.rating === 2).length} photos restored` }).waitFor();
    assert.deepEqual(await ratingsNow(), before.map((p) => p.rating));
    await rated.waitFor({ state: 'detached' });
    // The grid shows the restored ratings too.
    const firstId = Number(await page.locator('[data-testid="photo-cell"][data-index="0"]').getAttribute('data-photo-id'));
    await page.locator(`[data-testid="photo-cell"][data-index="0"][data-rating="${before.find((p) => p.id === firstId)!.rating}"]`).waitFor();

    // "0" asks too (it wipes ratings); the toast's Undo button puts them back.
    await page.keyboard.press('0');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', new RegExp(`Clear the rating of ${BULK_TOTAL} photos\\?`));
    await page.getByTestId('confirm-ok').click();
    const cleared = page.getByTestId('toast').filter({ hasText: `Rating cleared: ${BULK_TOTAL} photos` });
    await cleared.waitFor();
    assert.deepEqual(await ratingsNow(), ids.map(() => 0));
    await cleared.getByTestId('toast-action').click();
    await page.getByTestId('toast').filter({ hasText: 'Undid clearing ratings' }).waitFor();
    assert.deepEqual(await ratingsNow(), before.map((p) => p.rating));

    // Tagging the selection asks, adds the tag where it was missing; Undo removes it only from those photos.
    const tagInput = page.getByTestId('selection-tag-input');
    await tagInput.fill('bulk');
    await tagInput.press('Enter');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', new RegExp(`Tag ${BULK_TOTAL} photos “.bulk.”\\?`));
    await page.getByTestId('confirm-ok').click();
    const tagged = page.getByTestId('toast').filter({ hasText: `${BULK_TOTAL} photos` }).filter({ hasText: 'Tagged' });
    await tagged.waitFor();
    assert.deepEqual(await bulkTagged(), ids);
    await page.waitForTimeout(300); // the toast's entrance animation
    await shot(page, '12-bulk-tag-toast');
    await tagged.getByTestId('toast-action').click();
    await page.getByTestId('toast').filter({ hasText: 'Undid tagging' }).waitFor();
    assert.deepEqual(await bulkTagged(), taggedBefore);

    // Untagging asks too; Ctrl+Z (from the grid: a text field keeps its own undo) puts the tag back where it was.
    const untagInput = page.getByTestId('selection-untag-input');
    await untagInput.fill('bulk');
    await untagInput.press('Enter');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', new RegExp(`Remove “.bulk.” from ${BULK_TOTAL} photos\\?`));
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('toast').filter({ hasText: 'Removed' }).filter({ hasText: `${BULK_TOTAL} photos` }).waitFor();
    assert.deepEqual(await bulkTagged(), []);
    await page.getByTestId('photo-grid').focus();
    await page.keyboard.press('Control+z');
    await page.getByTestId('toast').filter({ hasText: 'Undid removing' }).waitFor();
    assert.deepEqual(await bulkTagged(), taggedBefore);
    assert.deepEqual(await all(), before, 'ratings and tags are exactly as they started');

    // The history lives in the library: what is left in it are the edits made through the API before.
    const history = (await api('listEdits')) as { kind: string; tags: string[] }[];
    assert.deepEqual(history.slice(0, 2).map((e) => e.kind), ['tag', 'rating']);
    assert.deepEqual(history[0].tags, ['bulk']);
    await page.getByTestId('clear-selection').click();
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
