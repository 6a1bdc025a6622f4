// Search in the user's language, in Chromium (issue 11): the real LibraryService and web server, a library
// embedded by the image test model under the default model's name. A Hebrew query says above the results that
// the English-only model cannot read it and offers the multilingual text model with its size; its button
// downloads that tower (from a local fake hub), and the same query then finds the photo of its colour, with a
// notice naming the model that read it. Test models: wiring, not search quality. Screenshots go to test-artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import type { RunningWebServer } from '../src/main/core/server/web-server.js';
import type { ApiEvent } from '../src/shared/types.js';
import { chromiumSkipReason } from './helpers/chromium.js';
import { assertRendererBuilt, gridNames, openWebUi } from './helpers/web-ui.js';
import { indexToTheEnd } from './helpers/service.js';
import { serveRepo } from './helpers/fake-hub.js';
import { buildMultilingualTestModel, buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const ARTIFACTS = path.join(packageRoot, 'test-artifacts');
const COLOUR_NAMES = ['red', 'green', 'blue', 'yellow'] as const;

const skipReason = chromiumSkipReason;

describe('web UI: a Hebrew query', { skip: skipReason ?? false }, () => {
  let dir: string;
  let service: LibraryService;
  let server: RunningWebServer;
  let browser: Browser;
  let page: Page;
  let savedHub: string | undefined;
  const pageErrors: string[] = [];
  const cleanups: (() => unknown)[] = [];

  before(async () => {
    assertRendererBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'e2e-ui-language-'));
    const photos = path.join(dir, 'Photos');
    await mkdir(photos);
    await mkdir(ARTIFACTS, { recursive: true });
    for (const colour of COLOUR_NAMES) await writeSolidPhoto(path.join(photos, `${colour}.jpg`), COLOURS[colour], 64);
    const published = await buildMultilingualTestModel(path.join(dir, 'published'));
    savedHub = process.env.PHOTO_SEARCH_HUB_URL;
    process.env.PHOTO_SEARCH_HUB_URL = await serveRepo({ after: (fn) => cleanups.push(fn) }, 'immich-app/XLM-Roberta-Large-Vit-B-32', published);
    const modelsDir = path.join(dir, 'models');
    service = await LibraryService.open({ libraryDir: path.join(dir, 'library'), modelsDir });
    await service.useModelFolder(await buildTestModel(path.join(modelsDir, 'immich-app__ViT-B-32__openai')));
    await service.addFolder(photos);
    await indexToTheEnd(service);
    ({ server, browser, page } = await openWebUi(service, { viewport: { width: 1280, height: 720 }, colorScheme: 'light' }, 20_000, pageErrors));
    await page.getByTestId('search-input').waitFor();
  });

  after(async () => {
    if (savedHub === undefined) delete process.env.PHOTO_SEARCH_HUB_URL;
    else process.env.PHOTO_SEARCH_HUB_URL = savedHub;
    await browser?.close();
    await server?.close();
    await service?.close();
    for (const cleanup of cleanups) await cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('says the English-only model cannot read it, offers the multilingual model, and after the download finds red', async () => {
    await page.getByTestId('search-input').fill('אדום');
    await page.getByTestId('search-input').press('Enter');
    const notice = page.getByTestId('search-notice');
    await notice.filter({ hasText: /cannot read this Hebrew query/ }).waitFor();
    assert.match(await notice.innerText(), /ViT-B-32__openai reads English only: it cannot read this Hebrew query, so nothing was searched\./);
    assert.ok(!(await notice.innerText()).includes('immich-app__'), 'models are named as the catalogue names them');
    assert.deepEqual(await gridNames(page), [], 'no noise');
    const download = page.getByTestId('search-notice-download');
    assert.equal(await download.innerText(), 'Download XLM-Roberta-Large-Vit-B-32 (about 2.6 GB)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'language-cannot-read.png') });

    const downloaded = new Promise<void>((resolve) => {
      const off = service.onEvent((event: ApiEvent) => {
        if (event.type === 'model' && (event.status.textModel?.state === 'ready' || event.status.textModel?.state === 'error')) {
          off();
          resolve();
        }
      });
    });
    await download.click();
    await downloaded;
    const modelStatus = await service.getModelStatus();
    assert.equal(modelStatus.state, 'ready', JSON.stringify(modelStatus));

    // The window runs the query again by itself: read by the multilingual tower, over the vectors already there.
    await notice.filter({ hasText: /read by XLM-Roberta-Large-Vit-B-32/ }).waitFor();
    const deadline = Date.now() + 20_000;
    let names: string[] = [];
    while (Date.now() < deadline && (names = await gridNames(page))[0] !== 'red.jpg') await page.waitForTimeout(100);
    assert.equal(names[0], 'red.jpg');
    await page.waitForFunction(() => {
      const image = (globalThis as any).document.querySelector('[data-testid="photo-cell"] img');
      return image && image.complete && image.naturalWidth > 0 && (globalThis as any).getComputedStyle(image).opacity === '1';
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'language-read-by-multilingual.png') });
    assert.deepEqual(pageErrors, []);
  });
});
