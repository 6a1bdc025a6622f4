// A model's identity by content: a hash of its image tower's files. Vectors depend on the image tower's weights
// and on the preprocessing, not on the folder's name, so the same weights reached through another folder (a copy,
// a symlink, a renamed download) reuse their vectors, and other weights under a familiar name never mix with them.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { externalDataFiles } from './model-folder.js';

/** Hashing ~350 MB of ViT-B/32 weights takes 0.3 s from the page cache, seconds from a cold disk: once per state. */
const memo = new Map<string, Promise<string>>();

/** Where fingerprints outlive the process (the catalogue's settings), keyed by the files' paths, sizes and mtimes. */
export interface FingerprintCache {
  get(key: string): string | null;
  set(key: string, fingerprint: string): void;
}

/**
 * sha256 (hex) over the image tower: visual/model.onnx, then its external data files by name. Files whose paths,
 * sizes and mtimes match a cached entry are not read again (each start of the app would otherwise hash them).
 */
export async function imageTowerFingerprint(visualModelPath: string, cache?: FingerprintCache): Promise<string> {
  const files = [visualModelPath, ...(await externalDataFiles(visualModelPath)).sort()
    .map((name) => path.join(path.dirname(visualModelPath), name))];
  const states = await Promise.all(files.map(async (file) => {
    const info = await stat(file);
    return `${path.resolve(file)}:${info.size}:${info.mtimeMs}`;
  }));
  const key = states.join('|');
  const cached = cache?.get(key);
  if (cached) return cached;
  let hash = memo.get(key);
  if (!hash) {
    hash = hashFiles(files);
    memo.set(key, hash);
    hash.catch(() => memo.delete(key));
  }
  const fingerprint = await hash;
  cache?.set(key, fingerprint);
  return fingerprint;
}

async function hashFiles(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    // The name inside the folder takes part (an external data file's role is its name); the folder does not.
    hash.update(`${path.basename(file)}\0`);
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    hash.update('\0');
  }
  return hash.digest('hex');
}
