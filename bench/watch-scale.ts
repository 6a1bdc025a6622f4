// Folder watching at library scale. Watches are per directory, so the tree's shape is what costs: a tree like
// a real library (--dirs event folders under year folders, --files photos each). Measures the watcher's set-up
// time, the memory and the kernel watches it takes, the time from a file copied in to its rescan through
// LibraryService (what `serve` and the app run), and the fallback past the watch limit (a periodic check of
// directory modification times): the CPU of one pass and the time from a copy to its report.
//
//   node dist/bench/watch-scale.js [--dirs 6000] [--files 3] [--limit 1000] [--work DIR]
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, watch, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FolderWatcher } from '../src/main/core/service/folder-watcher.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { parseArgs } from './lib/args.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const args = parseArgs(process.argv.slice(2));
const DIRS = Number(args.dirs ?? 6000);
const FILES = Number(args.files ?? 3);
const LIMIT = Number(args.limit ?? 1000);
const YEARS = 20;
const WORK = path.resolve(args.work ?? path.join(os.tmpdir(), `photo-search-watch-scale-${DIRS}x${FILES}`));
const PHOTOS = path.join(WORK, 'photos');

const mib = (bytes: number) => Math.round(bytes / 1048576);

function buildTree(): string[] {
  const dirs: string[] = [];
  for (let i = 0; i < DIRS; i++) dirs.push(path.join(PHOTOS, String(2000 + (i % YEARS)), `event ${i}`));
  if (existsSync(path.join(WORK, 'built'))) return dirs;
  rmSync(WORK, { recursive: true, force: true });
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES; f++) writeFileSync(path.join(dir, `IMG_${f}.jpg`), 'not decoded: watching and scanning only');
  }
  writeFileSync(path.join(WORK, 'built'), '');
  return dirs;
}

/** Kernel inotify watches this process holds (Linux), from /proc/self/fdinfo. */
function inotifyWatches(): number | null {
  try {
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      let target = '';
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue;
      }
      if (target !== 'anon_inode:inotify') continue;
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    }
    return n;
  } catch {
    return null;
  }
}

function nextChange(changes: { at: number; paths: Set<string> }[], wanted: string, timeoutMs = 180_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = () => {
      const hit = changes.find((c) => [...c.paths].some((p) => wanted === p || wanted.startsWith(p + path.sep)));
      if (hit) resolve(hit.at);
      else if (Date.now() > deadline) reject(new Error(`no change reported for ${wanted}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

async function main(): Promise<void> {
  console.log(`load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; tree: ${DIRS} event folders × ${FILES} files under ${YEARS} years`);
  const dirs = buildTree();
  const sample = path.join(WORK, 'sample.jpg');
  writeFileSync(sample, 'copied in');

  // 1. Watching every directory: set-up time, memory, kernel watches, copy → report (after 2 s of quiet).
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const changes: { at: number; paths: Set<string> }[] = [];
  const watcher = new FolderWatcher({ folders: () => [PHOTOS], onChanges: (paths) => changes.push({ at: Date.now(), paths }) });
  let started = performance.now();
  await watcher.sync();
  const setupMs = performance.now() - started;
  const rssAfter = process.memoryUsage().rss;
  const watches = inotifyWatches();
  console.log(`watch: ${watcher.watchedDirs} directories in ${setupMs.toFixed(0)} ms, RSS +${mib(rssAfter - rssBefore)} MiB ` +
    `(${mib(rssAfter)} MiB in all), ${watches ?? '?'} inotify watches (fs.inotify.max_user_watches = ${readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()})`);
  const target = path.join(dirs[DIRS - 7], 'copied.jpg');
  const copiedAt = Date.now();
  copyFileSync(sample, target);
  const reportMs = (await nextChange(changes, target)) - copiedAt;
  console.log(`copy → change handed on: ${reportMs} ms (2,000 ms of it the quiet period)`);
  rmSync(target);
  watcher.close();

  // 2. Through LibraryService (serve): copy → the photo in the catalogue, i.e. the rescan of its library folder.
  const libraryDir = path.join(WORK, 'library');
  rmSync(libraryDir, { recursive: true, force: true });
  const service = await LibraryService.open({ libraryDir, modelsDir: path.join(WORK, 'models'), watch: true });
  started = performance.now();
  await service.addFolder(PHOTOS);
  const expected = DIRS * FILES;
  while ((await service.getStatus()).photos < expected || (await service.getStatus()).foldersNotScanned > 0) await new Promise((r) => setTimeout(r, 20));
  const firstScanMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 3000)); // the watcher's own start settles
  const serviceCopyAt = Date.now();
  copyFileSync(sample, target);
  while ((await service.getStatus()).photos < expected + 1) await new Promise((r) => setTimeout(r, 10));
  const copyToRescanMs = Date.now() - serviceCopyAt;
  console.log(`LibraryService: first scan of ${expected} files ${firstScanMs.toFixed(0)} ms; copy → in the catalogue ${copyToRescanMs} ms`);
  await service.close();
  rmSync(target);

  // 3. Past the limit: watches fail with ENOSPC after LIMIT directories; the rest are checked every second here.
  let granted = 0;
  const limited = ((dir: string, options: object, listener: () => void) => {
    if (granted >= LIMIT) throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
    granted++;
    return watch(dir, options, listener);
  }) as typeof watch;
  const fallbackChanges: { at: number; paths: Set<string> }[] = [];
  const fallbackWatcher = new FolderWatcher({
    folders: () => [PHOTOS], watchFn: limited, fallbackIntervalMs: 1000,
    onChanges: (paths) => fallbackChanges.push({ at: Date.now(), paths }),
  });
  started = performance.now();
  await fallbackWatcher.sync();
  const fallbackSetupMs = performance.now() - started;
  const fallback = fallbackWatcher.fallback!;
  await new Promise((r) => setTimeout(r, 1500));
  const cpu = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 10_000));
  const used = process.cpuUsage(cpu);
  const passCpuMs = (used.user + used.system) / 1000 / 10;
  const polledCopyAt = Date.now();
  copyFileSync(sample, target); // dirs[DIRS - 7] lies past the limit: directories are watched in crawl order
  const polledReportMs = (await nextChange(fallbackChanges, target)) - polledCopyAt;
  console.log(`fallback: ${fallbackWatcher.watchedDirs} watched, ${fallback.dirs} checked every ${fallback.intervalMs} ms (${fallback.reason}); ` +
    `set-up ${fallbackSetupMs.toFixed(0)} ms; one pass ≈ ${passCpuMs.toFixed(1)} ms CPU; copy → change handed on ${polledReportMs} ms`);
  fallbackWatcher.close();
  rmSync(target);

  const result = {
    date: new Date().toISOString(), dirs: DIRS, files: FILES, load: os.loadavg(),
    watch: { dirs: dirs.length, watched: watches, setupMs, rssDeltaMiB: mib(rssAfter - rssBefore), rssMiB: mib(rssAfter), copyToReportMs: reportMs },
    service: { firstScanMs, copyToRescanMs },
    fallback: { limit: LIMIT, polled: fallback.dirs, setupMs: fallbackSetupMs, passCpuMs, copyToReportMs: polledReportMs },
  };
  mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench/results/watch-scale.json'), JSON.stringify(result, null, 2));
}

await main();
