// Grid benchmark: the real renderer and the real web server in Chromium, over a fake library of
// 624,017 synthetic photos (tiny placeholder thumbnails). Measures time to first thumbnails and the
// frame times of a programmatic smooth scroll, a fast fling and jumps across the whole list.
//   node dist/bench/grid.js            run and write bench/results/grid.json
//   node dist/bench/grid.js --serve    just serve the fake library and print its URL (for a look)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { PhotoSearchApi } from '../src/shared/api.js';
import type { ApiEvent, PhotoSummary, SearchRequest, SearchResponse } from '../src/shared/types.js';
import { packageRoot } from '../src/main/core/paths.js';
import { startWebServer, type MediaResponse, type WebServerBackend } from '../src/main/core/server/web-server.js';

// Browser globals used inside page.evaluate callbacks: this file compiles without the DOM library, and
// declaring them here keeps them out of every other file.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare function requestAnimationFrame(callback: (now: number) => void): number;
type Element = any;

export const PHOTO_COUNT = 624_017;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
const VIEWPORT = { width: 1600, height: 1000 };

/** A synthetic photo; newest first, so id 1 is the most recent. */
function syntheticPhoto(index: number): PhotoSummary {
  const id = index + 1;
  return {
    id,
    path: `/photos/${2024 - Math.floor(index / 60_000)}/${String((index % 12) + 1).padStart(2, '0')}/IMG_${String(id).padStart(6, '0')}.jpg`,
    width: 4032,
    height: 3024,
    takenAt: Date.UTC(2024, 11, 31) - index * 3_600_000,
    rating: id % 11 === 0 ? 4 : id % 7 === 0 ? 2 : 0,
    tags: [],
    status: 'ok',
  };
}

/** Small JPEGs in a few colours (gradients, so the grid looks like photos rather than tiles). */
async function placeholderThumbs(): Promise<Buffer[]> {
  const hues = [[231, 111, 81], [244, 162, 97], [233, 196, 106], [42, 157, 143], [38, 70, 83], [106, 76, 147], [25, 130, 196], [138, 201, 38], [255, 89, 94], [84, 110, 122], [160, 108, 213], [0, 180, 216]];
  return Promise.all(hues.map(([r, g, b], i) => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><defs><linearGradient id="g" x1="0" y1="0" x2="${i % 2}" y2="1"><stop offset="0" stop-color="rgb(${r},${g},${b})"/><stop offset="1" stop-color="rgb(${Math.round(r / 3)},${Math.round(g / 3)},${Math.round(b / 3)})"/></linearGradient></defs><rect width="96" height="96" fill="url(#g)"/><circle cx="${30 + (i * 7) % 40}" cy="${30 + (i * 11) % 30}" r="${10 + (i % 4) * 4}" fill="rgba(255,255,255,0.35)"/></svg>`;
    return sharp(Buffer.from(svg)).jpeg({ quality: 70 }).toBuffer();
  }));
}

export async function fakeLibrary(count = PHOTO_COUNT) {
  // Media answers are files on disk, as the real resolver's are.
  const thumbDir = await mkdtemp(path.join(os.tmpdir(), 'grid-thumbs-'));
  const thumbs = await Promise.all((await placeholderThumbs()).map(async (body, i) => {
    const file = path.join(thumbDir, `${i}.jpg`);
    await writeFile(file, body);
    return file;
  }));
  const stats = { searchCalls: 0, mediaCalls: 0 };
  const notHere = (name: string) => async () => {
    throw new Error(`${name} is not available in the grid benchmark`);
  };
  const api: Record<string, unknown> = {};
  for (const name of ['addFolder', 'removeFolder', 'findSimilar', 'setRating', 'addTags', 'removeTags', 'startIndexing', 'pauseIndexing', 'resumeIndexing', 'cancelIndexing', 'downloadModel', 'useModelFolder', 'findDuplicates', 'trashPhotos'] satisfies (keyof PhotoSearchApi)[]) {
    api[name] = notHere(name);
  }
  const folders = [{ id: 1, path: '/photos', photoCount: count }];
  Object.assign(api, {
    getStatus: async () => ({ photos: count, embedded: count, pending: 0, failed: 0, missing: 0, modelId: 'synthetic', folders }),
    listFolders: async () => folders,
    pickFolder: async () => null,
    getModelStatus: async () => ({ state: 'ready', modelId: 'synthetic', dir: '/models/synthetic' }),
    getIndexingProgress: async () => ({ state: 'done', done: count, total: count, failed: 0, photosPerSecond: 0, etaSeconds: null }),
    listFailed: async () => [],
    listTags: async () => [],
    getPhoto: async (id: number) => ({ ...syntheticPhoto(id - 1), folderId: 1, size: 3_500_000, mtimeMs: 0, format: 'jpeg', contentHash: null, cameraMake: 'Synthetic', cameraModel: 'Bench', lens: null, gpsLat: null, gpsLon: null, orientation: 1, lastError: null }),
    async search(request: SearchRequest): Promise<SearchResponse> {
      stats.searchCalls++;
      const started = performance.now();
      const offset = request.offset ?? 0;
      const end = Math.min(count, offset + (request.limit ?? 100));
      const items: PhotoSummary[] = [];
      for (let i = offset; i < end; i++) items.push(syntheticPhoto(i));
      return { mode: 'browse', items, total: count, tookMs: performance.now() - started };
    },
    onEvent: (_listener: (event: ApiEvent) => void) => () => undefined,
    async resolveMedia(_kind: 'thumb' | 'full', photoId: number): Promise<MediaResponse | null> {
      stats.mediaCalls++;
      if (photoId < 1 || photoId > count) return null;
      return { path: thumbs[photoId % thumbs.length], contentType: 'image/jpeg' };
    },
  });
  return { backend: api as unknown as WebServerBackend, stats };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarise(deltas: number[]) {
  const sorted = [...deltas].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    frames: deltas.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    over33MsPercent: round((deltas.filter((d) => d > 33.4).length / Math.max(1, deltas.length)) * 100),
  };
}

async function run(): Promise<void> {
  const rendererDir = path.join(packageRoot, 'dist', 'renderer');
  if (!existsSync(path.join(rendererDir, 'index.html'))) throw new Error('build the renderer first: npm run build:renderer');
  const { backend, stats } = await fakeLibrary();
  const server = await startWebServer({ api: backend, rendererDir });
  if (process.argv.includes('--serve')) {
    console.log(server.url);
    return;
  }
  if (!existsSync(CHROMIUM)) {
    console.log(`grid bench skipped: no Chromium at ${CHROMIUM}`);
    await server.close();
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(server.url);
    // Time to first thumbnails: every cell in the first screen shows its image.
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('[data-testid="photo-cell"]')].filter((cell: Element) => cell.getBoundingClientRect().top < window.innerHeight);
      return cells.length > 0 && cells.every((cell: Element) => cell.querySelector('img.loaded'));
    }, undefined, { timeout: 30_000 });
    const firstPaint = await page.evaluate(() => {
      const nav = (performance as any).getEntriesByType('navigation')[0];
      const visible = [...document.querySelectorAll('[data-testid="photo-cell"]')].filter((cell: Element) => cell.getBoundingClientRect().top < window.innerHeight).length;
      return { firstThumbnailsMs: performance.now(), domContentLoadedMs: nav?.domContentLoadedEventEnd ?? null, visibleCells: visible };
    });
    const grid = await page.evaluate(() => {
      const el = document.querySelector('[data-testid="photo-grid"]');
      return { total: Number(el.dataset.total), columns: Number(el.dataset.columns), scrollHeight: el.scrollHeight, domCells: document.querySelectorAll('[data-testid="photo-cell"]').length };
    });

    /** Scrolls by `pxPerSecond` for `seconds` from rAF, recording frame deltas and how often cells are still blank. */
    const scrollPhase = (pxPerSecond: number, seconds: number) =>
      page.evaluate(
        ({ pxPerSecond, seconds }) =>
          new Promise<{ deltas: number[]; blankRatio: number; scrolledPx: number }>((resolve) => {
            const el = document.querySelector('[data-testid="photo-grid"]');
            const deltas: number[] = [];
            let blankSamples = 0;
            let blank = 0;
            const start = performance.now();
            const startTop = el.scrollTop;
            let last = start;
            const frame = (now: number) => {
              deltas.push(now - last);
              last = now;
              el.scrollTop = startTop + ((now - start) / 1000) * pxPerSecond;
              if (deltas.length % 6 === 0) {
                for (const cell of el.querySelectorAll('[data-testid="photo-cell"]')) {
                  const r = cell.getBoundingClientRect();
                  if (r.bottom < 0 || r.top > window.innerHeight) continue;
                  blankSamples++;
                  if (!cell.querySelector('img.loaded')) blank++;
                }
              }
              if (now - start < seconds * 1000) requestAnimationFrame(frame);
              else resolve({ deltas: deltas.slice(1), blankRatio: blankSamples ? blank / blankSamples : 0, scrolledPx: el.scrollTop - startTop });
            };
            requestAnimationFrame((now) => {
              last = now;
              requestAnimationFrame(frame);
            });
          }),
        { pxPerSecond, seconds },
      );

    const smooth = await scrollPhase(2_500, 6);
    const fling = await scrollPhase(25_000, 4);
    // Jumps (scrollbar drags / End key): how long until the new screen is fully shown.
    const jumps = await page.evaluate(async () => {
      const el = document.querySelector('[data-testid="photo-grid"]');
      const times: number[] = [];
      for (const fraction of [0.5, 0.93, 0.25, 0.999, 0.7]) {
        const started = performance.now();
        el.scrollTop = (el.scrollHeight - el.clientHeight) * fraction;
        await new Promise<void>((resolve) => {
          const check = () => {
            const cells = [...el.querySelectorAll('[data-testid="photo-cell"]')].filter((cell: Element) => {
              const r = cell.getBoundingClientRect();
              return r.bottom > 0 && r.top < window.innerHeight;
            });
            if (cells.length > 0 && cells.every((cell: Element) => cell.querySelector('img.loaded'))) resolve();
            else if (performance.now() - started > 10_000) resolve();
            else requestAnimationFrame(check);
          };
          requestAnimationFrame(check);
        });
        times.push(Math.round(performance.now() - started));
      }
      return times;
    });
    const lastCell = await page.evaluate(() => Math.max(...[...document.querySelectorAll('[data-testid="photo-cell"]')].map((c: Element) => Number(c.dataset.index))));
    const memory = await page.evaluate(() => (performance as any).memory?.usedJSHeapSize ?? null);

    const results = {
      when: new Date().toISOString(),
      chromium: browser.version(),
      viewport: VIEWPORT,
      photos: PHOTO_COUNT,
      grid: { ...grid, lastIndexReached: lastCell },
      firstThumbnails: { ...firstPaint, firstThumbnailsMs: Math.round(firstPaint.firstThumbnailsMs) },
      smoothScroll: { pxPerSecond: 2_500, seconds: 6, ...summarise(smooth.deltas), blankCellRatio: Number(smooth.blankRatio.toFixed(3)) },
      flingScroll: { pxPerSecond: 25_000, seconds: 4, ...summarise(fling.deltas), blankCellRatio: Number(fling.blankRatio.toFixed(3)) },
      jumpToFullyShownMs: jumps,
      usedJSHeapBytes: memory,
      server: stats,
      note: 'headless Chromium, software rendering (--disable-gpu), 2 shared CPU cores; fake API, placeholder thumbnails',
    };
    console.log(JSON.stringify(results, null, 2));
    const out = path.join(packageRoot, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'grid.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`written ${path.join(out, 'grid.json')}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
