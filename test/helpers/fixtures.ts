// Deterministic test data and self-cleaning temp folders shared by the tests. The same seed always gives
// the same numbers, so a test's data never changes from one run (or one machine) to the next.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What tempDir needs from a test: node:test's `t` (or anything that runs cleanups after the test). */
export interface CleanupScope {
  after(fn: () => void): void;
}

/** A fresh folder under the OS temp dir, removed when the test ends. */
export function tempDir(t: CleanupScope, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` random unit-length vectors of `dim` floats, row-major. */
export function unitRows(rows: number, dim: number, seed: number): Float32Array {
  const next = prng(seed);
  const v = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const x = next() * 2 - 1;
      v[r * dim + j] = x;
      s += x * x; // summed in double precision, before the values are rounded to float32
    }
    for (let j = 0; j < dim; j++) v[r * dim + j] /= Math.sqrt(s);
  }
  return v;
}

/** `rows` random vectors with components in [-2, 2), deliberately not unit length. */
export function randomRows(rows: number, dim: number, seed: number): Float32Array {
  const random = prng(seed);
  return Float32Array.from({ length: rows * dim }, () => random() * 4 - 2);
}

/** Cosine similarity of two vectors of the same length. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** Runs this Node with `args` and collects its exit code and output (several at once race one another). */
export function runNode(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls probe every everyMs until it returns something truthy (returned), or throws naming `what` after timeoutMs. */
export async function until<T>(
  what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 30_000, everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Another process holding the library's writer lock as `who` (as the app, serve or a CLI run would) until
 * its child is killed (at the test's end at the latest); resolves once it holds it.
 */
export async function holdWriterLock(t: CleanupScope, libraryDir: string, who: string): Promise<ChildProcess> {
  const lockModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main/core/writer-lock.js');
  const holder = spawn(process.execPath, ['--input-type=module', '-e',
    `const { acquireWriterLock } = await import(${JSON.stringify(lockModule)}); ` +
    `acquireWriterLock(${JSON.stringify(libraryDir)}, ${JSON.stringify(who)}); console.log('held'); setInterval(() => {}, 1000);`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => holder.kill());
  await new Promise((resolve) => holder.stdout!.once('data', resolve));
  return holder;
}
