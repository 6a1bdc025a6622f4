// Switching models in the web UI (issue 10), in Chromium: the real LibraryService and web server. Choosing a folder
// with other weights asks first, naming the photos to embed again, the time at the speed measured here and the
// model search keeps using; confirming re-embeds in the background. The same weights through another folder, or
// the model used before, switch at once with nothing to embed. Test models: wiring, not search quality.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import type { RunningWebServer } from '../src/main/core/server/web-server.js';
import { chromiumSkipReason } from './helpers/chromium.js';
import { assertRendererBuilt, openWebUi } from './helpers/web-ui.js';
import { indexToTheEnd, waitForIndexing } from './helpers/service.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const ARTIFACTS = path.join(packageRoot, 'test-artifacts');
const PHOTOS = 40;
const COLOUR_NAMES = ['red', 'green', 'blue', 'yellow'] as const;

describe('web UI: switching models', { skip: chromiumSkipReason ?? false }, () => {
  let dir: string;
  let service: LibraryService;
  let server: RunningWebServer;
  let browser: Browser;
  let page: Page;
  let modelA: string;
  let modelB: string;
  const pageErrors: string[] = [];

  before(async () => {
    assertRendererBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'e2e-ui-model-switch-'));
    const photos = path.join(dir, 'Photos');
    await mkdir(photos);
    await mkdir(ARTIFACTS, { recursive: true });
    for (let i = 0; i < PHOTOS; i++) {
      const colour = COLOUR_NAMES[i % COLOUR_NAMES.length];
      await writeSolidPhoto(path.join(photos, `${colour}-${i}.jpg`), COLOURS[colour], 40 + (i % 5) * 6);
    }
    modelA = await buildTestModel(path.join(dir, 'models', 'model-a'));
    modelB = await buildTestModel(path.join(dir, 'models', 'model-b'), { imageSize: 24 });
    service = await LibraryService.open({ libraryDir: path.join(dir, 'library'), modelsDir: path.join(dir, 'models') });
    await service.useModelFolder(modelA);
    await service.addFolder(photos);
    await indexToTheEnd(service);
    ({ server, browser, page } = await openWebUi(service, { viewport: { width: 1280, height: 800 }, colorScheme: 'light' }, 20_000, pageErrors));
    await page.getByTestId('search-input').waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function chooseModelFolder(folder: string): Promise<void> {
    if (!(await page.getByTestId('model-folder-input').isVisible())) await page.getByTestId('open-settings').click();
    await page.getByTestId('model-folder-input').fill(folder);
    await page.getByTestId('model-folder-submit').click();
  }

  test('the same weights in another folder switch at once, with nothing to embed', async () => {
    const copy = path.join(dir, 'elsewhere', 'copy-of-a');
    cpSync(modelA, copy, { recursive: true });
    await chooseModelFolder(copy);
    await page.getByTestId('toast').filter({ hasText: 'Using model-a' }).waitFor();
    assert.equal(await page.getByTestId('confirm-dialog').count(), 0, 'nothing to ask');
    const status = await service.getStatus();
    assert.deepEqual([status.modelId, status.pending, status.embedded], ['model-a', 0, PHOTOS]);
  });

  test('other weights ask first with the cost; confirmed, they embed in the background; going back costs nothing', async () => {
    await chooseModelFolder(modelB);
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    const text = await dialog.innerText();
    assert.match(text, /Switch to model-b\?/);
    assert.match(text, new RegExp(`${PHOTOS} photos will be embedded again in the background, under a minute at the [\\d.]+ photos/s indexing last ran at on this computer`));
    assert.match(text, /Search keeps using model-a until every photo is done/);
    assert.match(text, /switching back later costs nothing/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'model-switch-confirm.png') });
    assert.equal(service.library.currentModel?.id, 'model-a', 'nothing changes before the answer');

    const finished = waitForIndexing(service);
    await page.getByTestId('confirm-ok').click();
    const run = await finished;
    assert.deepEqual([run.state, run.total], ['done', PHOTOS]);
    const status = await service.getStatus();
    assert.deepEqual([status.modelId, status.embedded, status.searchModelId], ['model-b', PHOTOS, undefined]);

    // Back to the first model: its vectors are all there, so no question and nothing to embed.
    await chooseModelFolder(modelA);
    const deadline = Date.now() + 10_000;
    while (service.library.currentModel?.id !== 'model-a' && Date.now() < deadline) await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('confirm-dialog').count(), 0);
    assert.deepEqual([(await service.getStatus()).modelId, (await service.getStatus()).pending], ['model-a', 0]);
    await page.keyboard.press('Escape');
    await page.getByTestId('search-input').fill('blue');
    await page.getByTestId('search-input').press('Enter');
    await page.waitForFunction(() => {
      const cell = (globalThis as any).document.querySelector('[data-testid="photo-cell"]');
      return cell && String(cell.getAttribute('aria-label')).startsWith('blue-');
    });
    await page.waitForFunction(() => {
      const images = [...(globalThis as any).document.querySelectorAll('[data-testid="photo-cell"] img')];
      return images.length > 0 && images.every((image: any) => image.complete && image.naturalWidth > 0 && (globalThis as any).getComputedStyle(image).opacity === '1');
    }, undefined, { timeout: 10_000 });
    assert.equal(await page.getByTestId('toast').filter({ hasText: /^Using/ }).count(), 1, 'one notice for the model in use');
    await page.screenshot({ path: path.join(ARTIFACTS, 'model-switch-back.png') });
    assert.deepEqual(pageErrors, []);
  });
});
