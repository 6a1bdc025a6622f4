// Issue 10, watching at scale: directories the system refuses to watch (inotify's max_user_watches: ENOSPC)
// fall back to a periodic check of their modification times, reported by `fallback`, instead of being skipped
// until the next start. The limit is injected: a watch function that fails with ENOSPC past K directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FolderWatcher } from '../src/main/core/service/folder-watcher.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { tempDir, until } from './helpers/fixtures.js';

const WATCH_LIMIT = 4;

/** fs.watch that refuses, as Linux does past max_user_watches, once WATCH_LIMIT directories are watched. */
function limitedWatch(watched: string[]): typeof watch {
  return ((dir: string, options: object, listener: () => void) => {
    if (watched.length >= WATCH_LIMIT) {
      throw Object.assign(new Error(`ENOSPC: System limit for number of file watchers reached, watch '${dir}'`), { code: 'ENOSPC' });
    }
    watched.push(dir);
    return watch(dir, options, listener);
  }) as typeof watch;
}

/** The next batch of changes handed on after this call, within 10 s. */
function nextChanges(changes: Set<string>[]): Promise<Set<string>> {
  const seen = changes.length;
  return until('changes to be reported', () => changes[seen], 10_000, 20);
}

test('directories past the watch limit are checked by modification time instead, and reported', async (t) => {
  const root = tempDir(t, 'watch-limit-');
  for (let i = 0; i < 10; i++) mkdirSync(path.join(root, `d${i}`));
  const watched: string[] = [];
  const changes: Set<string>[] = [];
  const watcher = new FolderWatcher({
    folders: () => [root], quietMs: 100, fallbackIntervalMs: 250, watchFn: limitedWatch(watched),
    onChanges: (paths) => changes.push(paths),
  });
  t.after(() => watcher.close());
  await watcher.sync();

  assert.equal(watcher.watchedDirs, WATCH_LIMIT);
  const fallback = watcher.fallback;
  assert.ok(fallback, 'the directories past the limit are reported');
  assert.equal(fallback.dirs, 11 - WATCH_LIMIT, 'every directory is either watched or checked');
  assert.equal(fallback.intervalMs, 250);
  assert.match(fallback.reason, /watch limit.* is reached/);

  // A photo copied into a directory past the limit is seen by the periodic check.
  const polledDir = [root, ...Array.from({ length: 10 }, (_, i) => path.join(root, `d${i}`))].find((d) => !watched.includes(d))!;
  await new Promise((resolve) => setTimeout(resolve, 100)); // its first modification time is read
  let next = nextChanges(changes);
  writeFileSync(path.join(polledDir, 'new.jpg'), 'x');
  assert.ok((await next).has(polledDir), 'the changed directory is handed on for a rescan');

  // A new subdirectory there is checked too (the limit still holds), and a watched directory still reports at once.
  next = nextChanges(changes);
  mkdirSync(path.join(polledDir, 'sub'));
  await next;
  assert.equal(watcher.fallback?.dirs, 12 - WATCH_LIMIT);
  next = nextChanges(changes);
  writeFileSync(path.join(watched[1], 'w.jpg'), 'x');
  assert.ok((await next).has(path.join(watched[1], 'w.jpg')));
});

test('a library watched within the limit reports no fallback', async (t) => {
  const root = tempDir(t, 'watch-nolimit-');
  mkdirSync(path.join(root, 'a'));
  const watcher = new FolderWatcher({ folders: () => [root], onChanges: () => undefined });
  t.after(() => watcher.close());
  await watcher.sync();
  assert.equal(watcher.watchedDirs, 2);
  assert.equal(watcher.fallback, null);
});

test('a watched library past the limit: the status reports the checked folders, and a photo copied into one is scanned', async (t) => {
  const root = tempDir(t, 'watch-limit-service-');
  const photos = path.join(root, 'photos');
  for (let i = 0; i < 8; i++) mkdirSync(path.join(photos, `d${i}`), { recursive: true });
  const watched: string[] = [];
  const service = await LibraryService.open({
    libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models'), watch: true, watchQuietMs: 100,
    watchFallback: { fallbackIntervalMs: 250, watchFn: limitedWatch(watched) },
  });
  t.after(() => service.close());
  await service.addFolder(photos);
  const status = await until('the folders past the limit to be reported', async () => {
    const s = await service.getStatus();
    return s.watchFallback && s.foldersNotScanned === 0 ? s : null;
  }, 10_000);
  assert.equal(status.watchFallback!.dirs, 9 - WATCH_LIMIT);
  assert.match(status.watchFallback!.reason, /watch limit/);

  const checked = [photos, ...Array.from({ length: 8 }, (_, i) => path.join(photos, `d${i}`))].find((d) => !watched.includes(d))!;
  await new Promise((resolve) => setTimeout(resolve, 100)); // its first modification time is read
  writeFileSync(path.join(checked, 'new.jpg'), 'not decoded: no model');
  await until('the copied photo to be scanned', async () => (await service.getStatus()).photos === 1, 10_000);
});
