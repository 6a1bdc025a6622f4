// Measuring on a shared machine: wall and CPU time of a piece of work, and waiting for the other work on the
// machine to calm down before a round (ratios measured side by side are robust, absolute rates are not).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Timed {
  seconds: number;
  cpuSeconds: number;
}

/** Wall time and this process's CPU time (all threads) of `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<Timed> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - t) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

export const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1];

/** Fraction of CPU time idle over one second (Linux /proc/stat), or null where unknown. */
export async function idleFraction(): Promise<number | null> {
  const sample = (): number[] | null => {
    try {
      return readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    } catch {
      return null;
    }
  };
  const before = sample();
  await new Promise((r) => setTimeout(r, 1000));
  const after = sample();
  if (!before || !after) return null;
  const delta = after.map((v, i) => v - before[i]);
  const total = delta.reduce((x, y) => x + y, 0);
  return total > 0 ? (delta[3] + (delta[4] ?? 0)) / total : null;
}

/** Waits (up to maxSeconds) for the machine to be ≥ 90% idle; returns the idle fraction seen. */
export async function waitQuiet(maxSeconds: number): Promise<number | null> {
  const until = Date.now() + maxSeconds * 1000;
  let idle = await idleFraction();
  while (idle !== null && idle < 0.9 && Date.now() < until) idle = await idleFraction();
  return idle;
}

/** The first `n` JPEGs of ../shared's Flickr set (sorted by name), or none where it is absent. */
export function flickrPhotos(sharedDir: string, n: number): string[] {
  const dir = path.join(sharedDir, 'data/photos/flickr8k-1000/images');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n).map((f) => path.join(dir, f));
}
