// Preloaded into the indexer process by bench/indexer-soak.ts (NODE_OPTIONS=--import <this file>):
// every PHOTO_SEARCH_MEMORY_PROBE_MS milliseconds it appends one JSON line with process.memoryUsage()
// and the kernel's view of the process (/proc/self/status) to the file PHOTO_SEARCH_MEMORY_PROBE names,
// so the benchmark can split the indexer's RSS into V8 heap, external / ArrayBuffer memory and native
// memory (libvips, ONNX Runtime, SQLite, malloc). It only reads; the indexer itself is unchanged.
import { appendFileSync, readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.PHOTO_SEARCH_MEMORY_PROBE;
if (file && isMainThread) {
  const everyMs = Number(process.env.PHOTO_SEARCH_MEMORY_PROBE_MS ?? 1000);
  const sample = (): void => {
    try {
      const m = process.memoryUsage();
      appendFileSync(file, JSON.stringify({ t: Date.now(), pid: process.pid, ...m, ...procStatus('self') }) + '\n');
    } catch {
      // the benchmark's work folder may be gone at exit
    }
  };
  sample();
  setInterval(sample, everyMs).unref();
}

/** VmRSS, RssAnon, RssFile, VmHWM (bytes) and Threads of a process, from /proc/<pid>/status (Linux). */
export function procStatus(pid: number | 'self'): { vmRss: number; rssAnon: number; rssFile: number; vmHwm: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return {
    vmRss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile'), vmHwm: kb('VmHWM'),
    threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? 0),
  };
}
