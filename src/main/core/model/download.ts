// Downloads a CLIP model folder from the Hugging Face hub (or a compatible server).
//
// Lists the repository with GET {hub}/api/models/{repo}/tree/{revision}?recursive=true, then fetches
// the files the app needs from {hub}/{repo}/resolve/{revision}/{path} into
// <modelsDir>/<repo with "/" replaced by "__">/. Each file is written to "<file>.partial" (resumed
// with an HTTP Range request after an interruption), checked (size; sha256 for LFS files, git blob
// sha1 otherwise) and only then renamed into place, so a file under its final name is complete.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export const DEFAULT_MODEL_REPO = 'immich-app/ViT-B-32__openai';
export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface RepoFile {
  path: string;
  size: number;
  /** sha256 of the content, for files stored with Git LFS. */
  sha256: string | null;
  /** Git blob id (sha1 of "blob <size>\0" + content), for files stored in git. */
  gitOid: string | null;
}

export interface DownloadProgress {
  file: string;
  receivedBytes: number;
  totalBytes: number;
  /** Over all files of this download. */
  overallReceivedBytes: number;
  overallTotalBytes: number;
}

export interface DownloadOptions {
  modelsDir: string;
  /** Default: env PHOTO_SEARCH_HUB_URL, else https://huggingface.co. */
  hubUrl?: string;
  revision?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Minimum milliseconds between progress calls for one file (the first and last always come). Default 200. */
  progressIntervalMs?: number;
  /** Attempts per file when the connection fails mid-way (each resumes). Default 3. */
  attempts?: number;
}

export class DownloadError extends Error {
  override name = 'DownloadError';
}

export class ChecksumMismatchError extends DownloadError {
  override name = 'ChecksumMismatchError';
}

/** Files directly in a tower folder that the app uses; subfolders (fp16/, rknpu/, …) are skipped. */
const TOWER_FILE = /^(visual|textual)\/(model\.onnx|model\.onnx[._]data|[\w.-]+\.onnx\.data|preprocess_cfg\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json)$/;
/**
 * ONNX weights kept one file per tensor beside model.onnx, with the tensor's name (M-CLIP's XLM-R text tower
 * as Immich first published it: textual/transformer.encoder.layer.20.intermediate.dense.bias, …). Any other
 * file directly in a tower folder is taken, except those of other runtimes and formats the app does not read.
 */
const TOWER_FOLDER_FILE = /^(visual|textual)\/[^/]+$/;
const NOT_FOR_ONNX = /\.(armnn|rknn|tflite|mlmodel|mlpackage|engine|onnx|bin|safetensors|pt|pth|ckpt|h5|msgpack|md|txt|json|py|png|jpe?g|model|partial)$/i;

const REQUIRED = ['config.json', 'visual/model.onnx', 'visual/preprocess_cfg.json', 'textual/model.onnx', 'textual/tokenizer.json'];

export function modelDirName(repo: string): string {
  return repo.replace(/\//g, '__');
}

export function hubUrlFrom(option?: string): string {
  return (option ?? process.env.PHOTO_SEARCH_HUB_URL ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
}

function checkRepo(repo: string): void {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || repo.includes('..')) throw new DownloadError(`invalid model repository name '${repo}'`);
}

/** Every file of the repository (follows the API's pagination). */
export async function listRepoFiles(
  repo: string,
  options: { hubUrl?: string; revision?: string; signal?: AbortSignal } = {},
): Promise<RepoFile[]> {
  checkRepo(repo);
  const hub = hubUrlFrom(options.hubUrl);
  const revision = encodeURIComponent(options.revision ?? 'main');
  let url: string | null = `${hub}/api/models/${repo}/tree/${revision}?recursive=true`;
  const files: RepoFile[] = [];
  while (url) {
    const response = await request(url, { signal: options.signal });
    if (response.status === 404 || response.status === 401) {
      await response.body?.cancel();
      throw new DownloadError(`model repository ${repo} (revision ${options.revision ?? 'main'}) was not found at ${hub}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new DownloadError(`listing ${repo} failed: HTTP ${response.status} from ${url}`);
    }
    let entries: unknown;
    try {
      entries = await response.json();
    } catch (err) {
      throw new DownloadError(`listing ${repo}: the hub's answer is not JSON (${(err as Error).message})`, { cause: err });
    }
    if (!Array.isArray(entries)) throw new DownloadError(`listing ${repo}: expected a JSON array from ${url}`);
    for (const entry of entries as Record<string, unknown>[]) {
      if (entry?.type !== 'file' || typeof entry.path !== 'string' || typeof entry.size !== 'number') continue;
      const lfs = entry.lfs as { oid?: unknown; size?: unknown } | undefined;
      const sha256 = typeof lfs?.oid === 'string' && /^[0-9a-f]{64}$/i.test(lfs.oid) ? lfs.oid.toLowerCase() : null;
      const size = typeof lfs?.size === 'number' ? lfs.size : entry.size;
      const gitOid = !sha256 && typeof entry.oid === 'string' && /^[0-9a-f]{40}$/i.test(entry.oid) ? entry.oid.toLowerCase() : null;
      files.push({ path: entry.path, size, sha256, gitOid });
    }
    url = nextPageUrl(response.headers.get('link'), url);
  }
  return files;
}

function nextPageUrl(link: string | null, current: string): string | null {
  const match = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  return match ? new URL(match[1], current).toString() : null;
}

/** The files of a repository listing that make up an app model folder. */
export function selectModelFiles(files: readonly RepoFile[], repo = 'the repository'): RepoFile[] {
  const chosen = files.filter((f) => f.path === 'config.json' || TOWER_FILE.test(f.path) ||
    (TOWER_FOLDER_FILE.test(f.path) && !NOT_FOR_ONNX.test(f.path) && !/(^|\/)\./.test(f.path)));
  const missing = REQUIRED.filter((path) => !chosen.some((f) => f.path === path));
  if (missing.length > 0) throw new DownloadError(`${repo} is not a CLIP model folder: it lacks ${missing.join(', ')}`);
  return chosen;
}

/** Downloads (or completes) a model; returns the model folder's path. */
export async function downloadModel(repo: string, options: DownloadOptions): Promise<string> {
  checkRepo(repo);
  const hub = hubUrlFrom(options.hubUrl);
  const revision = options.revision ?? 'main';
  const dir = resolve(options.modelsDir, modelDirName(repo));
  const files = selectModelFiles(await listRepoFiles(repo, { hubUrl: hub, revision, signal: options.signal }), repo);
  const overallTotal = files.reduce((sum, f) => sum + f.size, 0);
  let overallDone = 0;
  for (const file of files) {
    const target = resolve(dir, file.path);
    if (!target.startsWith(dir + sep)) throw new DownloadError(`refusing to write outside the model folder: ${file.path}`);
    const url = `${hub}/${repo}/resolve/${encodeURIComponent(revision)}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    const base = overallDone;
    await downloadFile(url, target, file, options, (received) => {
      options.onProgress?.({
        file: file.path,
        receivedBytes: received,
        totalBytes: file.size,
        overallReceivedBytes: base + received,
        overallTotalBytes: overallTotal,
      });
    });
    overallDone += file.size;
  }
  return dir;
}

async function downloadFile(
  url: string,
  target: string,
  file: RepoFile,
  options: DownloadOptions,
  report: (received: number) => void,
): Promise<void> {
  // A file under its final name was verified before it was renamed there.
  if (existsSync(target) && (await stat(target)).size === file.size) {
    report(file.size);
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  const attempts = Math.max(1, options.attempts ?? 3);
  const interval = options.progressIntervalMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      await fetchInto(url, partial, file, options.signal, report, interval);
      break;
    } catch (err) {
      if (options.signal?.aborted || err instanceof ChecksumMismatchError || attempt >= attempts || !isRetryable(err)) throw err;
    }
  }
  await verify(partial, file);
  await rename(partial, target);
  report(file.size);
}

class RetryableError extends DownloadError {}

function isRetryable(err: unknown): boolean {
  return err instanceof RetryableError || (err instanceof TypeError && !(err instanceof DownloadError));
}

/** Appends the rest of the file to `partial`, resuming from its current length. */
async function fetchInto(
  url: string,
  partial: string,
  file: RepoFile,
  signal: AbortSignal | undefined,
  report: (received: number) => void,
  interval: number,
): Promise<void> {
  let have = existsSync(partial) ? (await stat(partial)).size : 0;
  if (have > file.size) {
    await rm(partial);
    have = 0;
  }
  if (have === file.size) return;
  const response = await request(url, { signal, headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  if (response.status === 416) {
    // the server cannot serve the rest: start over
    await response.body?.cancel();
    await rm(partial, { force: true });
    throw new RetryableError(`${file.path}: server refused to resume (HTTP 416)`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    const message = `downloading ${file.path} failed: HTTP ${response.status} from ${url}`;
    throw response.status >= 500 ? new RetryableError(message) : new DownloadError(message);
  }
  let append = false;
  if (have > 0 && response.status === 206) {
    const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
    if (Number(start) !== have) {
      await response.body?.cancel();
      await rm(partial, { force: true });
      throw new RetryableError(`${file.path}: server resumed at byte ${start}, expected ${have}`);
    }
    append = true;
  }
  if (!response.body) throw new DownloadError(`downloading ${file.path}: empty response from ${url}`);

  let received = append ? have : 0;
  let last = 0;
  report(received);
  const counter = async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      received += chunk.length;
      if (received > file.size) throw new DownloadError(`${file.path}: the server sent more than the listed ${file.size} bytes`);
      const now = Date.now();
      if (now - last >= interval) {
        last = now;
        report(received);
      }
      yield chunk;
    }
  };
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(partial, { flags: append ? 'a' : 'w' }),
      { signal },
    );
  } catch (err) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DownloadError('download aborted');
    if (err instanceof DownloadError) throw err;
    throw new RetryableError(`downloading ${file.path} was interrupted at byte ${received}: ${(err as Error).message}`, { cause: err });
  }
  if (received < file.size) throw new RetryableError(`downloading ${file.path} ended at byte ${received} of ${file.size}`);
  report(received);
}

async function verify(partial: string, file: RepoFile): Promise<void> {
  const size = (await stat(partial)).size;
  const fail = async (message: string): Promise<never> => {
    await rm(partial, { force: true });
    throw new ChecksumMismatchError(message);
  };
  if (size !== file.size) await fail(`${file.path}: downloaded ${size} bytes, the hub lists ${file.size}`);
  let hash: Hash;
  let expected: string;
  if (file.sha256) {
    hash = createHash('sha256');
    expected = file.sha256;
  } else if (file.gitOid) {
    hash = createHash('sha1').update(`blob ${file.size}\0`);
    expected = file.gitOid;
  } else {
    return;
  }
  for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
  const actual = hash.digest('hex');
  if (actual !== expected) {
    await fail(`${file.path}: checksum mismatch (expected ${expected}, got ${actual}); the corrupt download was deleted`);
  }
}

async function request(url: string, init: { signal?: AbortSignal; headers?: Record<string, string> }): Promise<Response> {
  try {
    return await fetch(url, { signal: init.signal, headers: init.headers, redirect: 'follow' });
  } catch (err) {
    if (init.signal?.aborted) throw init.signal.reason instanceof Error ? init.signal.reason : new DownloadError('download aborted');
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new RetryableError(`cannot reach ${new URL(url).origin}: ${cause ?? (err as Error).message}`, { cause: err });
  }
}

