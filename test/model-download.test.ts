import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { ClipModel } from '../src/main/core/model/clip-model.js';
import {
  ChecksumMismatchError,
  DownloadError,
  type DownloadProgress,
  downloadModel,
  listRepoFiles,
  modelDirName,
} from '../src/main/core/model/download.js';
import { buildTestModel } from './helpers/test-model.js';

const REPO = 'test-org/Tiny-CLIP__test';

interface Served {
  content: Buffer;
  lfs: boolean;
}

/** A fake Hugging Face hub on 127.0.0.1 with switches for failure modes. */
class FakeHub {
  files = new Map<string, Served>();
  requests: { path: string; range: string | undefined }[] = [];
  /** Paths whose next full (non-range) download stops half way and drops the connection. */
  interruptOnce = new Set<string>();
  /** Paths whose download sends half the bytes, then stalls. */
  stall = new Set<string>();
  /** Listed sha256 overrides (to simulate corruption). */
  wrongSha = new Set<string>();
  ignoreRange = false;
  private server: Server | null = null;

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  reset(): void {
    this.requests = [];
    this.interruptOnce.clear();
    this.stall.clear();
    this.wrongSha.clear();
    this.ignoreRange = false;
  }

  private listing(): Record<string, unknown>[] {
    const dirs = new Set<string>();
    const entries: Record<string, unknown>[] = [];
    for (const [path, { content, lfs }] of this.files) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      const gitOid = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
      const sha256 = this.wrongSha.has(path) ? '0'.repeat(64) : createHash('sha256').update(content).digest('hex');
      entries.push(lfs
        ? { type: 'file', oid: 'f'.repeat(40), size: content.length, path, lfs: { oid: sha256, size: content.length, pointerSize: 134 } }
        : { type: 'file', oid: gitOid, size: content.length, path });
    }
    for (const dir of dirs) entries.push({ type: 'directory', oid: 'd'.repeat(40), size: 0, path: dir });
    return entries;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const treePrefix = `/api/models/${REPO}/tree/main`;
    const resolvePrefix = `/${REPO}/resolve/main/`;
    this.requests.push({ path: url.pathname, range: req.headers.range });
    if (url.pathname === treePrefix && url.searchParams.get('recursive') === 'true') {
      // two pages, linked like the real API does
      const all = this.listing();
      const half = Math.ceil(all.length / 2);
      const second = url.searchParams.get('cursor') === 'page2';
      if (!second) res.setHeader('Link', `<${this.url}${treePrefix}?recursive=true&cursor=page2>; rel="next"`);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(second ? all.slice(half) : all.slice(0, half)));
      return;
    }
    const file = url.pathname.startsWith(resolvePrefix) ? this.files.get(decodeURIComponent(url.pathname.slice(resolvePrefix.length))) : undefined;
    if (!file) {
      res.statusCode = 404;
      res.end('{"error":"Repository not found"}');
      return;
    }
    const path = decodeURIComponent(url.pathname.slice(resolvePrefix.length));
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let body = file.content;
    if (range && !this.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.statusCode = 416;
        res.end();
        return;
      }
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${body.length - 1}/${body.length}`);
      body = body.subarray(start);
    }
    res.setHeader('Content-Length', body.length);
    if (!range && (this.interruptOnce.has(path) || this.stall.has(path))) {
      const stalled = this.stall.has(path);
      this.interruptOnce.delete(path);
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        if (!stalled) setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(body);
  }
}

const hub = new FakeHub();
let tmp: string;
let source: string;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'model-download-'));
  source = await buildTestModel(join(tmp, 'source'));
  for (const path of await filesUnder(source)) {
    hub.files.set(path, { content: await readFile(join(source, path)), lfs: path.endsWith('.onnx') });
  }
  // files a real Immich repository also has, which the app does not need
  hub.files.set('README.md', { content: Buffer.from('# tiny clip\n'), lfs: false });
  hub.files.set('visual/fp16/model.armnn', { content: Buffer.alloc(1000, 7), lfs: true });
  await hub.start();
});
after(async () => {
  await hub.stop();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => hub.reset());

let counter = 0;
function modelsDir(): string {
  return join(tmp, `models-${++counter}`);
}

test('downloads the model folder with progress, verified, and it loads', async () => {
  const dir = modelsDir();
  const progress: DownloadProgress[] = [];
  const result = await downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url, onProgress: (p) => progress.push(p) });
  assert.equal(result, join(dir, 'test-org__Tiny-CLIP__test'));
  assert.deepEqual(await filesUnder(result), [
    'config.json', 'textual/model.onnx', 'textual/special_tokens_map.json', 'textual/tokenizer.json',
    'textual/tokenizer_config.json', 'visual/model.onnx', 'visual/preprocess_cfg.json',
  ]);
  for (const path of await filesUnder(result)) {
    assert.deepEqual(await readFile(join(result, path)), hub.files.get(path)!.content, path);
  }
  // the listing was paginated; both pages were read
  assert.equal(hub.requests.filter((r) => r.path.includes('/api/models/')).length, 2);

  const total = [...hub.files].filter(([p]) => !p.startsWith('visual/fp16') && p !== 'README.md').reduce((s, [, f]) => s + f.content.length, 0);
  for (const path of await filesUnder(result)) {
    const mine = progress.filter((p) => p.file === path);
    assert.ok(mine.length >= 1, `progress for ${path}`);
    const last = mine[mine.length - 1];
    assert.equal(last.receivedBytes, last.totalBytes);
    assert.equal(last.totalBytes, statSync(join(result, path)).size);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i].receivedBytes >= mine[i - 1].receivedBytes);
  }
  assert.equal(progress[progress.length - 1].overallReceivedBytes, total);
  assert.equal(progress[progress.length - 1].overallTotalBytes, total);

  const model = await ClipModel.load(result, { threads: 1 });
  const [red] = await model.embedTexts(['red']);
  assert.equal(red.length, 8);
  await model.release();

  // a second call finds everything in place and downloads nothing
  hub.reset();
  await downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url });
  assert.equal(hub.requests.filter((r) => r.path.includes('/resolve/')).length, 0);
});

test('resumes an interrupted download with a Range request', async () => {
  const dir = modelsDir();
  const file = 'textual/model.onnx';
  hub.interruptOnce.add(file);
  await assert.rejects(downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url, attempts: 1 }), /interrupted|ended at byte/);
  const target = join(dir, modelDirName(REPO), file);
  assert.ok(!existsSync(target), 'no final file for an incomplete download');
  const partialSize = statSync(`${target}.partial`).size;
  const full = hub.files.get(file)!.content.length;
  assert.ok(partialSize > 0 && partialSize < full, `partial holds ${partialSize} of ${full} bytes`);

  hub.reset();
  await downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url });
  const resumed = hub.requests.find((r) => r.path.endsWith(file));
  assert.equal(resumed?.range, `bytes=${partialSize}-`);
  assert.deepEqual(await readFile(target), hub.files.get(file)!.content);
  assert.ok(!existsSync(`${target}.partial`));
});

test('retries a dropped connection within one call, resuming', async () => {
  const dir = modelsDir();
  hub.interruptOnce.add('visual/model.onnx');
  const result = await downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url });
  const requests = hub.requests.filter((r) => r.path.endsWith('visual/model.onnx'));
  assert.equal(requests.length, 2);
  assert.match(requests[1].range ?? '', /^bytes=\d+-$/);
  assert.deepEqual(await readFile(join(result, 'visual/model.onnx')), hub.files.get('visual/model.onnx')!.content);
});

test('a server that ignores Range still yields a correct file', async () => {
  const dir = modelsDir();
  hub.interruptOnce.add('textual/tokenizer.json');
  hub.ignoreRange = true;
  const result = await downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url });
  assert.deepEqual(await readFile(join(result, 'textual/tokenizer.json')), hub.files.get('textual/tokenizer.json')!.content);
});

test('a checksum mismatch is rejected and the bad download deleted', async () => {
  const dir = modelsDir();
  hub.wrongSha.add('visual/model.onnx');
  await assert.rejects(downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url }), (err: Error) => {
    assert.ok(err instanceof ChecksumMismatchError);
    assert.match(err.message, /visual\/model\.onnx: checksum mismatch \(expected 0{64}, got [0-9a-f]{64}\)/);
    return true;
  });
  const target = join(dir, modelDirName(REPO), 'visual/model.onnx');
  assert.ok(!existsSync(target) && !existsSync(`${target}.partial`));
});

test('abort stops the download, keeps the partial file, and a later call completes it', async () => {
  const dir = modelsDir();
  const file = 'textual/model.onnx';
  hub.stall.add(file);
  const controller = new AbortController();
  const run = downloadModel(REPO, {
    modelsDir: dir,
    hubUrl: hub.url,
    signal: controller.signal,
    progressIntervalMs: 0,
    onProgress: (p) => {
      if (p.file === file && p.receivedBytes > 0) controller.abort();
    },
  });
  await assert.rejects(run, (err: Error) => err.name === 'AbortError');
  const target = join(dir, modelDirName(REPO), file);
  assert.ok(existsSync(`${target}.partial`) && !existsSync(target));

  hub.reset();
  await downloadModel(REPO, { modelsDir: dir, hubUrl: hub.url });
  assert.deepEqual(await readFile(target), hub.files.get(file)!.content);
});

test('clear errors: unknown repository, incomplete repository, bad name', async () => {
  await assert.rejects(downloadModel('nobody/nothing', { modelsDir: modelsDir(), hubUrl: hub.url }), (err: Error) =>
    err instanceof DownloadError && /model repository nobody\/nothing \(revision main\) was not found/.test(err.message));
  const tokenizer = hub.files.get('textual/tokenizer.json')!;
  hub.files.delete('textual/tokenizer.json');
  try {
    await assert.rejects(downloadModel(REPO, { modelsDir: modelsDir(), hubUrl: hub.url }), /is not a CLIP model folder: it lacks textual\/tokenizer\.json/);
  } finally {
    hub.files.set('textual/tokenizer.json', tokenizer);
  }
  await assert.rejects(downloadModel('../etc', { modelsDir: modelsDir(), hubUrl: hub.url }), /invalid model repository name/);
  await assert.rejects(downloadModel(REPO, { modelsDir: modelsDir(), hubUrl: 'http://127.0.0.1:9' }), /cannot reach http:\/\/127\.0\.0\.1:9/);
});

test('the hub URL comes from PHOTO_SEARCH_HUB_URL when not given', async () => {
  const saved = process.env.PHOTO_SEARCH_HUB_URL;
  process.env.PHOTO_SEARCH_HUB_URL = `${hub.url}/`;
  try {
    const files = await listRepoFiles(REPO);
    assert.ok(files.some((f) => f.path === 'visual/model.onnx' && f.sha256 !== null));
    assert.ok(files.some((f) => f.path === 'config.json' && f.gitOid !== null && f.sha256 === null));
  } finally {
    if (saved === undefined) delete process.env.PHOTO_SEARCH_HUB_URL;
    else process.env.PHOTO_SEARCH_HUB_URL = saved;
  }
  assert.equal(modelDirName('immich-app/ViT-B-32__openai'), 'immich-app__ViT-B-32__openai');
});
