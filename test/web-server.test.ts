// Web mode's HTTP server: token, traversal, Host and Origin checks, API validation, media and events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PhotoSearchApi } from '../src/shared/api.js';
import type { ApiEvent, SearchRequest, SearchResponse } from '../src/shared/types.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { startWebServer, type MediaResponse, type RunningWebServer, type WebServerBackend } from '../src/main/core/server/web-server.js';

const SECRET = 'TOP-SECRET-CONTENT-8c1f';
const THUMB = Buffer.from('fake-jpeg-thumb');

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends the path exactly as given (no URL normalisation, unlike fetch). */
function raw(port: number, method: string, rawPath: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A small in-memory PhotoSearchApi: enough to exercise dispatch, validation, media and events. */
function fakeBackend(photoFile: string, thumbFile: string) {
  const listeners = new Set<(e: ApiEvent) => void>();
  const calls: { method: string; args: unknown[] }[] = [];
  const unsupported = (name: string) => async () => {
    throw new Error(`${name} is not part of this fake`);
  };
  const api: Record<string, unknown> = {};
  const names: (keyof PhotoSearchApi)[] = [
    'getStatus', 'listFolders', 'addFolder', 'removeFolder', 'pickFolder', 'search', 'findSimilar', 'getPhoto', 'setRating',
    'addTags', 'removeTags', 'listTags', 'listEdits', 'undoEdit', 'undoLast', 'startIndexing', 'pauseIndexing', 'resumeIndexing', 'cancelIndexing',
    'getIndexingProgress', 'listFailed', 'getModelStatus', 'downloadModel', 'useModelFolder', 'getDuplicates', 'startDuplicateScan', 'cancelDuplicateScan', 'resolveDuplicates', 'dismissDuplicates', 'trashPhotos',
  ];
  for (const name of names) api[name] = unsupported(name);
  Object.assign(api, {
    async getStatus() {
      calls.push({ method: 'getStatus', args: [] });
      return { photos: 2, embedded: 2, pending: 0, failed: 0, missing: 0, modelId: 'fake', folders: [], foldersNotScanned: 0, changesWaiting: 0, runQueued: false };
    },
    async search(request: SearchRequest): Promise<SearchResponse> {
      calls.push({ method: 'search', args: [request] });
      return { mode: request.query ? 'text' : 'browse', items: [], total: 0, tookMs: 1 };
    },
    async setRating(ids: number[], rating: number) {
      calls.push({ method: 'setRating', args: [ids, rating] });
    },
    async undoEdit(editId: number) {
      calls.push({ method: 'undoEdit', args: [editId] });
      return { edit: { id: editId, kind: 'rating', rating: 2, tags: [], changed: 3, createdAt: 0 }, restored: 3, skipped: 0 };
    },
    async addFolder(folder: string) {
      throw new Error(`not a folder: ${folder}`);
    },
    onEvent(listener: (e: ApiEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async resolveMedia(kind: 'thumb' | 'full', photoId: number): Promise<MediaResponse | null> {
      calls.push({ method: 'resolveMedia', args: [kind, photoId] });
      if (photoId === 1) return kind === 'thumb' ? { path: thumbFile, contentType: 'image/jpeg' } : { path: photoFile, contentType: 'image/png' };
      return null;
    },
  });
  return { backend: api as unknown as WebServerBackend, calls, emit: (e: ApiEvent) => listeners.forEach((l) => l(e)), listeners };
}

describe('web server', () => {
  let dir: string;
  let server: RunningWebServer;
  let fake: ReturnType<typeof fakeBackend>;
  let auth: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'web-server-test-'));
    const renderer = path.join(dir, 'renderer');
    await mkdir(path.join(renderer, 'assets'), { recursive: true });
    await writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(path.join(renderer, 'assets', 'app.css'), 'body{}');
    await writeFile(path.join(dir, 'secret.txt'), SECRET);
    await symlink(path.join(dir, 'secret.txt'), path.join(renderer, 'assets', 'link.js'));
    const photo = path.join(dir, 'photo.png');
    await writeFile(photo, Buffer.from('89504e470d0a1a0a', 'hex'));
    const thumb = path.join(dir, 'thumb.jpg');
    await writeFile(thumb, THUMB);
    fake = fakeBackend(photo, thumb);
    server = await startWebServer({ api: fake.backend, port: 0, rendererDir: renderer });
    auth = { 'x-photo-search-token': server.token };
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('prints a URL with a long random token, bound to 127.0.0.1', () => {
    assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{40,}$`));
    assert.ok(server.token.length >= 40);
  });

  test('serves the UI with security headers and content types', async () => {
    const page = await raw(server.port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'.*script-src 'self'/);
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const script = await raw(server.port, 'GET', '/assets/app.js');
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.match(String((await raw(server.port, 'GET', '/assets/app.css')).headers['content-type']), /^text\/css/);
    assert.equal((await raw(server.port, 'GET', '/assets/missing.js')).status, 404);
  });

  test('the API needs the token: 401 without, 403 when wrong', async () => {
    const none = await raw(server.port, 'POST', '/api/getStatus', {}, '[]');
    assert.equal(none.status, 401);
    const wrong = await raw(server.port, 'POST', '/api/getStatus', { 'x-photo-search-token': 'x'.repeat(server.token.length) }, '[]');
    assert.equal(wrong.status, 403);
    // The API does not take the token from the query string (only media and the event stream do).
    const query = await raw(server.port, 'POST', `/api/getStatus?token=${server.token}`, {}, '[]');
    assert.equal(query.status, 401);
    const ok = await raw(server.port, 'POST', '/api/getStatus', auth, '[]');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(ok.body).result.photos, 2);
  });

  test('dispatches validated calls and reports validation errors as 400', async () => {
    const ok = await raw(server.port, 'POST', '/api/setRating', auth, JSON.stringify([[3, 4], 5]));
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { ok: true, result: null });
    assert.deepEqual(fake.calls.at(-1), { method: 'setRating', args: [[3, 4], 5] });
    const undo = await raw(server.port, 'POST', '/api/undoEdit', auth, '[7]');
    assert.equal(undo.status, 200);
    assert.equal(JSON.parse(undo.body).result.restored, 3);
    assert.deepEqual(fake.calls.at(-1), { method: 'undoEdit', args: [7] });

    const cases: [string, string][] = [
      ['/api/setRating', JSON.stringify([[3], 9])], // rating out of range
      ['/api/setRating', JSON.stringify([[-1], 2])], // bad id
      ['/api/setRating', JSON.stringify([[3], 2, 0])], // bad edit to join
      ['/api/addTags', JSON.stringify([[3], ['x'], 'edit'])],
      ['/api/undoEdit', '[]'], // undo needs an edit id
      ['/api/undoEdit', '["7"]'],
      ['/api/undoEdit', '[1.5]'],
      ['/api/undoLast', '[1]'], // takes nothing
      ['/api/search', JSON.stringify([{ query: 5 }])], // wrong type
      ['/api/search', JSON.stringify([{ query: 'x', extra: true }])], // unknown key
      ['/api/search', JSON.stringify({ query: 'x' })], // not an array
      ['/api/search', '{not json'],
      ['/api/deleteEverything', '[]'], // unknown method
      ['/api/constructor', '[]'],
      ['/api/__proto__', '[]'],
    ];
    const before = fake.calls.length;
    for (const [url, body] of cases) {
      const res = await raw(server.port, 'POST', url, auth, body);
      assert.equal(res.status, 400, `${url} ${body} → ${res.status} ${res.body}`);
      assert.equal(JSON.parse(res.body).ok, false);
    }
    assert.equal(fake.calls.length, before, 'nothing invalid reached the API');
    assert.equal((await raw(server.port, 'GET', '/api/getStatus', auth)).status, 405);
  });

  test('errors from the API come back as {ok:false,error}', async () => {
    const res = await raw(server.port, 'POST', '/api/addFolder', auth, JSON.stringify(['/nowhere']));
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(res.body), { ok: false, error: 'not a folder: /nowhere' });
  });

  test('checks the Host header (DNS rebinding) and the Origin of API calls', async () => {
    const evilHost = await raw(server.port, 'GET', '/', { host: `evil.example:${server.port}` });
    assert.equal(evilHost.status, 403);
    const wrongPort = await raw(server.port, 'POST', '/api/getStatus', { ...auth, host: `127.0.0.1:${server.port + 1}` }, '[]');
    assert.equal(wrongPort.status, 403);
    assert.equal((await raw(server.port, 'GET', '/', { host: `localhost:${server.port}` })).status, 200);
    const foreign = await raw(server.port, 'POST', '/api/getStatus', { ...auth, origin: 'http://evil.example' }, '[]');
    assert.equal(foreign.status, 403);
    const own = await raw(server.port, 'POST', '/api/getStatus', { ...auth, origin: `http://127.0.0.1:${server.port}` }, '[]');
    assert.equal(own.status, 200);
  });

  test('refuses traversal in every spelling, and never leaks the file outside', async () => {
    const t = `token=${server.token}`;
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/assets/../index.html',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/.%2e/secret.txt',
      '/assets%2f..%2f..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets/..\\..\\secret.txt',
      '//etc/passwd',
      `/media/full/../../secret.txt?${t}`,
      `/media/full/..%2f..%2fsecret.txt?${t}`,
      `/media/full/%2e%2e?${t}`,
      `/media/full//etc/passwd?${t}`,
      `/media/full/%2Fetc%2Fpasswd?${t}`,
      `/media/full/${encodeURIComponent(path.join(dir, 'secret.txt'))}?${t}`,
      `/media/full/1%00?${t}`,
    ];
    for (const attempt of attempts) {
      const res = await raw(server.port, 'GET', attempt);
      assert.ok(res.status === 400 || res.status === 404, `${attempt} → ${res.status}`);
      assert.ok(!res.body.includes(SECRET), `${attempt} leaked the secret`);
    }
    // Absolute paths are looked up inside the UI folder, never on the disk.
    const absolute = await raw(server.port, 'GET', path.join(dir, 'secret.txt'));
    assert.equal(absolute.status, 404);
    // Absolute-form request targets are refused too.
    const absoluteForm = await raw(server.port, 'GET', `http://127.0.0.1:${server.port}/index.html`);
    assert.equal(absoluteForm.status, 400);
    // A symlink inside the UI folder that points outside it is not followed.
    const link = await raw(server.port, 'GET', '/assets/link.js');
    assert.equal(link.status, 404);
    assert.ok(!link.body.includes(SECRET));
  });

  test('media needs the token and a catalogued numeric id', async () => {
    assert.equal((await raw(server.port, 'GET', '/media/thumb/1')).status, 401);
    assert.equal((await raw(server.port, 'GET', '/media/thumb/1?token=nope')).status, 403);
    const thumb = await raw(server.port, 'GET', `/media/thumb/1?token=${server.token}`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers['content-type'], 'image/jpeg');
    assert.equal(thumb.headers['x-content-type-options'], 'nosniff');
    assert.equal(thumb.body, THUMB.toString());
    const full = await raw(server.port, 'GET', '/media/full/1', auth);
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-type'], 'image/png');
    assert.equal(full.headers['content-length'], '8');
    const resolved = fake.calls.filter((c) => c.method === 'resolveMedia').length;
    for (const id of ['2', '0', '-1', '1.5', '1e3', '01', 'abc', '9'.repeat(30), '1/extra']) {
      const res = await raw(server.port, 'GET', `/media/thumb/${id}?token=${server.token}`);
      assert.equal(res.status, 404, `id ${id} → ${res.status}`);
    }
    assert.equal(fake.calls.filter((c) => c.method === 'resolveMedia').length, resolved + 1, 'only the well-formed id 2 reached resolveMedia');
    assert.equal((await raw(server.port, 'GET', `/media/other/1?token=${server.token}`)).status, 404);
  });

  test('streams events over SSE with the token', async () => {
    assert.equal((await raw(server.port, 'GET', '/api/events')).status, 401);
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: `/api/events?token=${server.token}` }, (res) => {
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /^text\/event-stream/);
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes(': connected')) fake.emit({ type: 'library-changed' });
          if (text.includes('library-changed')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
    });
    assert.match(received, /data: {"type":"library-changed"}\n\n/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fake.listeners.size, 0, 'the listener is removed when the stream closes');
  });
});

describe('web server with the real library service', () => {
  test('a catalogued photo that became a symlink to a file outside the library folders is not served', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'web-server-real-'));
    const photos = path.join(dir, 'photos');
    const renderer = path.join(dir, 'renderer');
    await mkdir(photos);
    await mkdir(renderer);
    await writeFile(path.join(renderer, 'index.html'), '<!doctype html>');
    const sharp = (await import('sharp')).default;
    const inside = path.join(photos, 'inside.png');
    const escape = path.join(photos, 'escape.png');
    const outside = path.join(dir, 'outside.png');
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer();
    await writeFile(inside, png);
    await writeFile(outside, Buffer.concat([png, Buffer.from(SECRET)]));
    await writeFile(escape, png);
    const service = await LibraryService.open({ libraryDir: path.join(dir, 'library'), modelsDir: path.join(dir, 'models') });
    const server = await startWebServer({ api: service, rendererDir: renderer });
    try {
      const folder = await service.addFolder(photos);
      const catalogue = service.library.catalogue;
      catalogue.insertPhotos([inside, escape].map((file) => ({ folderId: folder.id, path: file, size: png.length, mtimeMs: Date.now() })));
      const insideId = catalogue.photoIdByPath(inside)!;
      const escapeId = catalogue.photoIdByPath(escape)!;
      await rm(escape);
      await symlink(outside, escape);
      const q = `?token=${server.token}`;
      const ok = await raw(server.port, 'GET', `/media/full/${insideId}${q}`);
      assert.equal(ok.status, 200);
      for (const kind of ['full', 'thumb']) {
        const res = await raw(server.port, 'GET', `/media/${kind}/${escapeId}${q}`);
        assert.equal(res.status, 404, `${kind} of a symlink escaping the folder → ${res.status}`);
        assert.ok(!res.body.includes(SECRET));
      }
      assert.equal((await raw(server.port, 'GET', `/media/full/${escapeId + 1000}${q}`)).status, 404);
    } finally {
      await server.close();
      await service.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
