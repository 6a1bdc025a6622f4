// The library host as the Electron main process drives it: a plain Node child started by LibraryHostClient,
// answering API calls and media lookups, restarted when it dies, refusing bad input on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiEvent, LibraryStatus } from '../src/shared/types.js';
import { LibraryHostClient } from '../src/main/host/host-client.js';
import { hostArgs } from '../src/main/host/host-protocol.js';
import { tempDir } from './helpers/fixtures.js';
import { COLOURS, writeSolidPhoto } from './helpers/test-model.js';

const HOST_ENTRY = fileURLToPath(new URL('../src/main/host/library-host.js', import.meta.url));

function client(libraryDir: string, home: string, extra: Partial<ConstructorParameters<typeof LibraryHostClient>[0]> = {}): LibraryHostClient {
  return new LibraryHostClient({
    nodePath: process.execPath,
    entry: HOST_ENTRY,
    args: hostArgs({ libraryDir, modelsDir: path.join(home, 'models') }),
    env: { ...process.env, PHOTO_SEARCH_HOME: home },
    restartDelayMs: 50,
    ...extra,
  });
}

function nextEvent(host: LibraryHostClient, predicate: (event: ApiEvent) => boolean): Promise<ApiEvent> {
  return new Promise((resolve) => {
    const listener = (event: ApiEvent) => {
      if (!predicate(event)) return;
      host.off('event', listener);
      resolve(event);
    };
    host.on('event', listener);
  });
}

test('the host answers calls and media lookups, validates its input, and closes on request', async (t) => {
  const dir = tempDir(t, 'library-host-');
  const photos = path.join(dir, 'Photos');
  await writeSolidPhoto(path.join(photos, 'red.png'), COLOURS.red, 64);
  const host = client(path.join(dir, 'library'), dir);
  await host.start();
  assert.equal(host.libraryDir, path.join(dir, 'library'));
  assert.notEqual(host.pid, process.pid);

  const folder = (await host.call('addFolder', [photos])) as { id: number; path: string };
  assert.equal(folder.path, photos);
  const status = (await host.call('getStatus', [])) as LibraryStatus;
  assert.equal(status.folders.length, 1);
  await assert.rejects(host.call('setRating', [[1], 9]), /invalid arguments for setRating/);
  await assert.rejects(host.call('noSuchMethod', []), /unknown API method/);
  assert.equal(await host.media('thumb', 999), null);

  const pid = host.pid!;
  await host.close();
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the host process has exited');
});

test('a host killed mid-session is restarted; the window is told, and calls work again', async (t) => {
  const dir = tempDir(t, 'library-host-');
  const host = client(path.join(dir, 'library'), dir);
  await host.start();
  const first = host.pid!;
  const restarting = nextEvent(host, (e) => e.type === 'host' && e.state === 'restarting');
  const ready = nextEvent(host, (e) => e.type === 'host' && e.state === 'ready');
  process.kill(first, 'SIGKILL');
  const stopped = await restarting;
  assert.match((stopped as { message: string }).message, /stopped \(it was stopped by SIGKILL\)/);
  await ready;
  assert.notEqual(host.pid, first);
  assert.equal(((await host.call('getStatus', [])) as LibraryStatus).photos, 0);
  await host.close();
});

test('a host killed while calls are on their way is restarted, not given up on as if it could not start', async (t) => {
  const dir = tempDir(t, 'library-host-');
  const host = client(path.join(dir, 'library'), dir);
  await host.start();
  const first = host.pid!;
  const states: string[] = [];
  host.on('event', (e: ApiEvent) => {
    if (e.type === 'host') states.push(e.state);
  });
  const ready = nextEvent(host, (e) => e.type === 'host' && e.state === 'ready');
  process.kill(first, 'SIGKILL');
  // What Node reports when a call is sent to the process in the moment after it died, before its exit is
  // seen (the timing cannot be forced from outside, so the child reports it as Node does).
  const child = (host as unknown as { child: import('node:child_process').ChildProcess }).child;
  child.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await ready;
  assert.deepEqual(states.filter((s) => s !== 'ready'), ['restarting']);
  assert.equal(((await host.call('getStatus', [])) as LibraryStatus).photos, 0);
  await host.close();
});

test('a host that keeps dying is given up on, with the reason', async (t) => {
  const dir = tempDir(t, 'library-host-');
  const host = client(path.join(dir, 'library'), dir, { maxRestarts: 1 });
  await host.start();
  const failed = nextEvent(host, (e) => e.type === 'host' && e.state === 'failed');
  process.kill(host.pid!, 'SIGKILL');
  await nextEvent(host, (e) => e.type === 'host' && e.state === 'ready');
  process.kill(host.pid!, 'SIGKILL');
  assert.match((await failed as { message: string }).message, /keeps stopping/);
  await assert.rejects(host.call('getStatus', []), /not running/);
});

test('a library that cannot be opened is reported, not retried', async (t) => {
  const dir = tempDir(t, 'library-host-');
  const notAFolder = path.join(dir, 'file');
  writeFileSync(notAFolder, 'x');
  const host = client(notAFolder, dir);
  await assert.rejects(host.start(), new RegExp(`cannot open the library at ${notAFolder}`));
  assert.equal(host.hostState.state, 'failed');
});
