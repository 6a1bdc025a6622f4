// The desktop app end to end, in a real Electron (ELECTRON_PATH; CI runs Electron 25.1.1) under Xvfb: first
// run with the native folder dialog stubbed, model folder, indexing, search, viewer, a rating with the
// keyboard (checked in the catalogue), a bulk tag, duplicates, the library host killed during indexing,
// quit and relaunch. Screenshots go to test-artifacts/electron-*.png. Skips with a message without ELECTRON_PATH.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ElectronApplication, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { binaryForCheckout, childProcesses, electronSkipReason, ELECTRON_PATH, ensureDisplay, isAlive, launchApp, stopDisplay } from './helpers/electron-app.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const ARTIFACTS = path.join(packageRoot, 'test-artifacts');
const COLOUR_NAMES = ['green', 'blue', 'red', 'yellow', 'purple', 'cyan', 'orange', 'grey'] as const;
const RED = 'IMG_0003.png';
const PHOTO_COUNT = COLOUR_NAMES.length + 1; // and one exact copy
const MORE_PHOTOS = 1200; // enough that indexing them lasts a few seconds: the host is killed meanwhile

const skipReason = electronSkipReason();
if (skipReason) console.log(`# desktop-app suite skipped: ${skipReason}`);

async function gridNames(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="photo-cell"]', (cells: any[]) => cells.map((cell) => cell.getAttribute('aria-label')));
}

async function waitForGrid(page: Page, predicate: (names: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  let names: string[] = [];
  while (Date.now() < deadline) {
    names = await gridNames(page);
    if (names.length > 0 && predicate(names)) return names;
    await page.waitForTimeout(100);
  }
  assert.fail(`${what}: grid shows ${JSON.stringify(names)}`);
}

function hostOf(app: ElectronApplication): { pid: number; command: string } {
  const hosts = childProcesses(app.process().pid!).filter((child) => child.command.includes('library-host.js'));
  assert.equal(hosts.length, 1, `one library host: ${JSON.stringify(hosts)}`);
  return hosts[0];
}

/** The answer the native folder dialog gives next (the only part of the app that is stubbed). */
async function stubFolderDialog(app: ElectronApplication, folder: string): Promise<void> {
  await app.evaluate(({ dialog }, chosen) => {
    dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [chosen] })) as typeof dialog.showOpenDialog;
  }, folder);
}

describe('desktop app in a real Electron', { skip: skipReason ?? false, timeout: 300_000 }, () => {
  let dir: string;
  let executable: string;
  let display: string;
  let env: Record<string, string>;
  let app: ElectronApplication;
  let page: Page;
  let log: string[] = [];
  const pageErrors: string[] = [];
  let photosDir: string;
  let modelDir: string;

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `electron-${name}.png`) });
  const open = async () => {
    ({ app, log } = await launchApp({ executablePath: executable, display, env }));
    page = await app.firstWindow();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'e2e-electron-'));
    photosDir = path.join(dir, 'Photos');
    modelDir = await buildTestModel(path.join(dir, 'test-model'));
    for (const [i, colour] of COLOUR_NAMES.entries()) {
      await writeSolidPhoto(path.join(photosDir, `IMG_000${i + 1}.${i === 2 ? 'png' : 'jpg'}`), COLOURS[colour], i % 2 ? { width: 96, height: 64 } : 80);
    }
    await copyFile(path.join(photosDir, 'IMG_0002.jpg'), path.join(photosDir, 'copy of IMG_0002.jpg'));
    await mkdir(ARTIFACTS, { recursive: true });
    executable = binaryForCheckout(ELECTRON_PATH);
    display = await ensureDisplay();
    env = { PHOTO_SEARCH_LIBRARY: path.join(dir, 'library'), PHOTO_SEARCH_HOME: path.join(dir, 'home'), XDG_CONFIG_HOME: path.join(dir, 'config') };
    await open();
  });

  after(async () => {
    await app?.close().catch(() => undefined);
    stopDisplay();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('it is a real Electron, its main process loads no native addon, and the library lives in a plain Node host', async () => {
    const electron = await app.evaluate(() => process.versions.electron);
    assert.match(electron, /^\d+\.\d+\.\d+$/);
    // What is mapped into each process's memory, from the kernel: no addon and no libvips in Electron's.
    const mapped = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8');
    const main = mapped(app.process().pid!);
    assert.ok(!/\.node$|libvips|onnxruntime|faiss/m.test(main), 'no native addon in the main process');
    const host = hostOf(app);
    assert.ok(host.command.startsWith(`${process.execPath} `), host.command);
    // The host opens the catalogue as it starts.
    const deadline = Date.now() + 10_000;
    while (!/better_sqlite3\.node$/m.test(mapped(host.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(mapped(host.pid), /better_sqlite3\.node$/m, 'the catalogue lives in the host');
  });

  test('first run: a folder from the native dialog, a model folder, indexing to the end', async () => {
    await page.getByTestId('setup').waitFor();
    await shot('01-setup');
    await stubFolderDialog(app, photosDir);
    await page.getByTestId('add-folder-browse').click();
    await page.getByTestId('folder-list').getByText(photosDir).waitFor();
    await page.getByTestId('model-folder-input').fill(modelDir);
    await page.getByTestId('model-folder-submit').click();
    await page.locator('[data-testid="model-status"][data-state="ready"]').waitFor();
    await page.getByTestId('setup-start-indexing').click();
    await page.getByTestId('photo-grid').waitFor();
    await page.getByTestId('indexing-pill').click();
    await page.locator('[data-testid="indexing-state"][data-state="done"]').waitFor({ timeout: 60_000 });
    assert.match((await page.getByTestId('indexing-counts').textContent()) ?? '', new RegExp(`^${PHOTO_COUNT} / ${PHOTO_COUNT}`));
    await page.getByTestId('drawer-close').click();
    await waitForGrid(page, (names) => names.length === PHOTO_COUNT, 'all photos after indexing');
  });

  test('a text query puts the red photo first; thumbnails arrive through the media protocol', async () => {
    await page.getByTestId('search-input').fill('red');
    await page.getByTestId('search-input').press('Enter');
    await waitForGrid(page, (names) => names[0] === RED, 'red first');
    await page.waitForFunction(() => {
      const image = document.querySelector('[data-testid="photo-cell"] img');
      return image?.complete && image.naturalWidth > 0;
    });
    await shot('02-search');
  });

  test('the viewer shows the full photo; the rating key 3 is stored in the catalogue', async () => {
    await page.locator(`[data-testid="photo-cell"][aria-label="${RED}"]`).click();
    await page.getByTestId('photo-grid').press('Enter');
    await page.getByTestId('viewer').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="viewer-image"]')?.naturalWidth > 0);
    await page.keyboard.press('3');
    await shot('03-viewer');
    await page.keyboard.press('Escape');
    await page.locator(`[data-testid="photo-cell"][aria-label="${RED}"][data-rating="3"]`).waitFor();
    const db = new Database(path.join(dir, 'library', 'catalogue.sqlite'), { readonly: true });
    try {
      const row = db.prepare('SELECT coalesce((SELECT rating FROM ratings r WHERE r.photo_id = p.id), 0) AS rating FROM photos p WHERE path = ?').get(path.join(photosDir, RED)) as { rating: number } | undefined;
      assert.equal(row?.rating, 3);
    } finally {
      db.close();
    }
    await page.getByTestId('search-input').fill('');
    await waitForGrid(page, (names) => names.length === PHOTO_COUNT, 'browse again');
  });

  test('a bulk tag on a selection', async () => {
    await page.locator('[data-testid="photo-cell"][aria-label="IMG_0004.jpg"]').click();
    await page.locator('[data-testid="photo-cell"][aria-label="IMG_0007.jpg"]').click({ modifiers: ['Control'] });
    await page.getByTestId('selection-tag-input').fill('holiday');
    await page.getByTestId('selection-tag-input').press('Enter');
    await page.getByTestId('toast').filter({ hasText: 'holiday' }).waitFor();
    await page.getByTestId('clear-selection').click();
    const db = new Database(path.join(dir, 'library', 'catalogue.sqlite'), { readonly: true });
    try {
      const tagged = db.prepare(`SELECT p.path FROM photos p JOIN photo_tags pt ON pt.photo_id = p.id JOIN tags t ON t.id = pt.tag_id WHERE t.name = 'holiday' ORDER BY p.path`).all() as { path: string }[];
      assert.deepEqual(tagged.map((r) => path.basename(r.path)), ['IMG_0004.jpg', 'IMG_0007.jpg']);
    } finally {
      db.close();
    }
  });

  test('"Find duplicates" completes and no process dies', async () => {
    const main = app.process().pid!;
    const host = hostOf(app).pid;
    await page.getByTestId('tab-duplicates').click();
    await page.getByTestId('find-duplicates').click();
    const group = page.locator('[data-testid="duplicate-group"][data-kind="exact"]');
    await group.waitFor();
    assert.equal(await group.getByTestId('duplicate-photo').count(), 2);
    await shot('04-duplicates');
    assert.ok(isAlive(main) && isAlive(host), 'the main process and the library host are alive');
    assert.equal(hostOf(app).pid, host, 'the same library host');
    await page.getByTestId('tab-library').click();
  });

  test('the library host killed during indexing: the window says so, and the app recovers', async () => {
    const more = path.join(dir, 'More');
    for (let i = 0; i < MORE_PHOTOS; i++) {
      await writeSolidPhoto(path.join(more, `more_${String(i).padStart(4, '0')}.jpg`), [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], 48);
    }
    await stubFolderDialog(app, more);
    await app.evaluate(({ Menu }) => {
      // The menu's "Add Folder…" (the same path a user takes); the dialog answer is stubbed above.
      const item = Menu.getApplicationMenu()?.items.flatMap((top) => top.submenu?.items ?? []).find((i) => i.label.startsWith('Add Folder'));
      item?.click();
    });
    await page.getByTestId('indexing-pill').click();
    // The app watches its library: adding a folder starts indexing it. Start by hand only if nothing runs.
    const embedding = page.locator('[data-testid="indexing-state"][data-state="embedding"]');
    const start = page.getByTestId('indexing-start');
    if (!(await embedding.isVisible()) && (await start.isVisible()) && (await start.isEnabled())) await start.click();
    await embedding.waitFor({ timeout: 60_000 });
    const host = hostOf(app).pid;
    process.kill(host, 'SIGKILL');
    await page.getByTestId('host-problem').waitFor();
    assert.match((await page.getByTestId('host-problem').textContent()) ?? '', /library process stopped/);
    await shot('05-host-killed');
    await page.getByTestId('host-problem').waitFor({ state: 'detached' });
    await page.getByTestId('toast').filter({ hasText: 'The library process was restarted' }).waitFor();
    assert.notEqual(hostOf(app).pid, host, 'a new library host');
    // Indexing resumes where it stopped: the new host rescans its watched folders and goes on by itself; a
    // host that has not started is started by hand.
    const state = page.locator('[data-testid="indexing-state"]');
    for (const deadline = Date.now() + 120_000; ;) {
      const now = await state.getAttribute('data-state').catch(() => null);
      const status = await page.evaluate(() => (globalThis as any).photoSearch.getStatus());
      if (now === 'done' && status.embedded === PHOTO_COUNT + MORE_PHOTOS) break;
      assert.ok(Date.now() < deadline, `indexing finishes after the restart (state ${now}, ${status.embedded} embedded)`);
      if (now !== 'scanning' && now !== 'embedding' && (await start.isVisible()) && (await start.isEnabled())) await start.click();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await page.getByTestId('drawer-close').click();
    const status = await page.evaluate(() => (globalThis as any).photoSearch.getStatus());
    assert.equal(status.photos, PHOTO_COUNT + MORE_PHOTOS);
    assert.equal(status.embedded, PHOTO_COUNT + MORE_PHOTOS);
  });

  test('quit ends every process; a second launch shows a window within 10 s with the library as it was', async () => {
    const main = app.process().pid!;
    const host = hostOf(app).pid;
    // As a user quits on Linux: close the last window (window-all-closed → quit → will-quit).
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().forEach((w) => w.close()));
    const deadline = Date.now() + 15_000;
    while ((isAlive(main) || isAlive(host)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!isAlive(main), 'the Electron main process has exited (a lingering one keeps the single-instance lock)');
    assert.ok(!isAlive(host), 'the library host has exited');
    await app.close().catch(() => undefined);

    const started = Date.now();
    await open();
    await page.waitForSelector('[data-testid="photo-grid"]', { timeout: 10_000 });
    assert.ok(Date.now() - started < 10_000, `window in ${Date.now() - started} ms`);
    await waitForGrid(page, (names) => names.length > 0, 'photos after relaunch');
    await page.getByTestId('filter-rating').selectOption('3');
    assert.deepEqual(await waitForGrid(page, (names) => names.length === 1, 'rating filter after relaunch'), [RED]);
    assert.equal(await page.getByTestId('toast').filter({ hasText: 'restarted' }).count(), 0, 'a normal start announces no restart');
    // The thumbnail arrives through the new library host's media answers.
    await page.waitForFunction(() => document.querySelector('[data-testid="photo-cell"] img')?.naturalWidth > 0);
    await shot('06-relaunched');
  });

  test('no script errors, and no GLib warnings from any process', () => {
    assert.deepEqual(pageErrors, []);
    assert.ok(!log.join('').includes('GLib-GObject-CRITICAL'), log.join('').slice(0, 2000));
  });
});
