// The built renderer served by the real web server and opened in Chromium, and the photo grid read from the page.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { packageRoot } from '../../src/main/core/paths.js';
import { startWebServer, type RunningWebServer, type WebServerBackend } from '../../src/main/core/server/web-server.js';
import { launchChromium } from './chromium.js';

// Browser globals inside page callbacks (this project compiles tests without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

export const RENDERER_DIR = path.join(packageRoot, 'dist', 'renderer');

/** Fails at once, before any costly setup, when the renderer has not been built. */
export function assertRendererBuilt(): void {
  assert.ok(existsSync(path.join(RENDERER_DIR, 'index.html')), 'the renderer is not built: run npm run build:renderer');
}

/** Serves the renderer over `api` and opens it in a headless Chromium page (see launchChromium). */
export async function openWebUi(api: WebServerBackend, options: BrowserContextOptions, timeoutMs: number, pageErrors: string[]): Promise<{ server: RunningWebServer; browser: Browser; page: Page }> {
  const server = await startWebServer({ api, rendererDir: RENDERER_DIR });
  const { browser, page } = await launchChromium(options, timeoutMs, pageErrors);
  await page.goto(server.url);
  return { server, browser, page };
}

/** File names of the grid cells in order. */
export async function gridNames(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="photo-cell"]', (cells: any[]) => cells.map((cell) => cell.getAttribute('aria-label')));
}

/** Waits up to 20 s for a loaded grid whose names satisfy `predicate`; fails with what the grid shows otherwise. */
export async function waitForGrid(page: Page, predicate: (names: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  let names: string[] = [];
  while (Date.now() < deadline) {
    names = await gridNames(page);
    if (names.length > 0 && !names.includes('Loading') && predicate(names)) return names;
    await page.waitForTimeout(100);
  }
  assert.fail(`${what}: grid shows ${JSON.stringify(names)}`);
}

/** Waits until every cell on screen shows its thumbnail (so screenshots show photos, not placeholders). */
export async function waitForThumbnails(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('[data-testid="photo-cell"]')];
    return cells.length > 0 && cells.every((cell: any) => {
      const image = cell.querySelector('img');
      return image && image.complete && image.naturalWidth > 0 && (globalThis as any).getComputedStyle(image).opacity === '1';
    });
  });
}
