// Indexer memory soak: does the indexing path's memory stay flat over a long run?
// Target: ≤ 2 KiB of RSS growth per photo (linear fit of RSS against photos done, after a warm-up) in
// each process involved: the indexer process (decode, thumbnails, SQLite writes, and the image tower
// in its worker thread) and its parent (the library host's role: IndexingController + IndexerClient,
// relaying progress, with the catalogue open). Peak RSS is reported too.
//
// The run is the app's own path: the library's folder is scanned and embedded by IndexingController,
// which forks src/main/core/embed/indexer-process.js with the default launcher, batch size and
// threads, exactly as the library host does. The only addition is a read-only probe preloaded into the
// indexer process (NODE_OPTIONS=--import bench/lib/memory-probe.js) that logs process.memoryUsage(),
// so RSS can be split into V8 heap, ArrayBuffers / external and native memory.
// --mode inline runs runIndexing in this process instead (for heap snapshots: --heap-snapshots).
//
// Photos: --distinct (default 300) generated JPEGs, 256–1024 px a side, smooth colour fields with
// texture, varied quality, progressive / 4:4:4 / greyscale, a third with EXIF (camera, lens, date,
// some rotated), hard-linked (copied where links fail) into --photos (default 30,000) distinct paths
// in 100 folders. Identical bytes under many paths decode exactly like distinct files; only the disk
// cache is spared.
// Model: by default the test suite's tiny CLIP-layout model (test/helpers/test-model.ts) built with the
// real ViT-B/32 input and output shapes (3×224×224 float input, 512-d vectors), so tensors, transfers to
// the worker and stored vectors are real-sized while inference is nearly free: the soak measures the
// pipeline's memory, not ViT cost, and 30,000 photos take minutes instead of ~25 min at ~21 photos/s.
// --model DIR (or --model arch, ../shared/models/clip-vit-b32-arch) uses a real model folder.
//
// Usage: node --expose-gc dist/bench/indexer-soak.js [--photos 30000] [--distinct 300] [--warmup N]
//        [--sample-ms 2000] [--model DIR|arch] [--mode process|inline] [--work DIR] [--keep]
// Writes bench/results/indexer-soak.json. Needs no ../shared (except --model arch).
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import sharp from 'sharp';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { packageRoot } from '../src/main/core/paths.js';
import { scanLibrary } from '../src/main/core/scanner/scanner.js';
import { runIndexing } from '../src/main/core/embed/pipeline.js';
import { forkLauncher } from '../src/main/core/embed/indexer-client.js';
import { IndexingController } from '../src/main/core/service/indexing-controller.js';
import type { IndexingProgress } from '../src/shared/types.js';
import { buildTestModel } from '../test/helpers/test-model.js';
import { prng } from '../test/helpers/fixtures.js';
import { findArchModel } from './lib/arch-model.js';
import { parseArgs } from './lib/args.js';
import { procStatus } from './lib/memory-probe.js';

const args = parseArgs(process.argv.slice(2));
const photoCount = Number(args.photos ?? 30_000);
const distinctCount = Math.min(photoCount, Number(args.distinct ?? 300));
const warmup = Number(args.warmup ?? Math.round(photoCount / 6)); // 5,000 of 30,000
const sampleMs = Number(args['sample-ms'] ?? 2000);
const mode = String(args.mode ?? 'process');
const heapSnapshots = args['heap-snapshots'] === 'true';
const TARGET_BYTES_PER_PHOTO = 2048;
const FOLDERS = 100;
const PROBE = fileURLToPath(new URL('./lib/memory-probe.js', import.meta.url));

interface Sample {
  t: number;
  done: number;
  vmRss: number;
  rssAnon: number;
  rssFile: number;
  heapUsed?: number;
  heapTotal?: number;
  external?: number;
  arrayBuffers?: number;
  threads?: number;
  /** CPU seconds the process has used (user + system, all threads). */
  cpu?: number;
}

async function main(): Promise<void> {
  if (mode !== 'process' && mode !== 'inline') throw new Error('--mode is process or inline');
  const work = args.work ? path.resolve(String(args.work)) : mkdtempSync(path.join(os.tmpdir(), 'indexer-soak-'));
  mkdirSync(work, { recursive: true });
  try {
    await soak(work);
  } finally {
    if (args.keep !== 'true') rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}

async function soak(work: string): Promise<void> {
  const modelDir = args.model === 'arch' ? findArchModel() : args.model ? path.resolve(String(args.model)) : null;
  if (args.model === 'arch' && !modelDir) throw new Error('--model arch needs ../shared/models/clip-vit-b32-arch');
  const folder = await loadModelFolder(modelDir ?? await buildTestModel(path.join(work, 'model'), { imageSize: 224, dim: 512 }));
  const modelLabel = modelDir ? path.basename(modelDir) : 'test model (tiny CLIP layout, 224 px input, 512-d)';

  let t0 = performance.now();
  const photosDir = path.join(work, 'photos');
  const generated = await generatePhotos(photosDir, path.join(work, 'distinct'));
  console.log(`${photoCount} photos (${distinctCount} distinct JPEGs, median ${(generated.medianBytes / 1024).toFixed(0)} KiB, ` +
    `${generated.withExif} with EXIF) in ${((performance.now() - t0) / 1000).toFixed(1)} s; model: ${modelLabel}; mode: ${mode}`);

  const library = Library.open(path.join(work, 'library'));
  library.useModel({ id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion }, folder.dir);
  library.catalogue.addFolder(photosDir);

  const parent: Sample[] = [];
  const child: Sample[] = [];
  const probe: Sample[] = [];
  const probeFile = path.join(work, 'probe.jsonl');
  let done = 0;
  let state: IndexingProgress['state'] = 'idle';
  let childPid: number | undefined;
  let childPeak = 0;
  let embedStartedAt = 0;
  const sampleNow = (): void => {
    if (state !== 'embedding') return;
    const t = Date.now();
    const m = process.memoryUsage();
    parent.push({ t, done, ...procStatus('self'), cpu: cpuSeconds('self'), heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers });
    if (childPid) {
      try {
        const s = procStatus(childPid);
        child.push({ t, done, ...s, cpu: cpuSeconds(childPid) });
        childPeak = Math.max(childPeak, s.vmHwm);
      } catch {
        // exited
      }
    }
  };
  const timer = setInterval(sampleNow, sampleMs);
  const onProgress = (p: IndexingProgress): void => {
    if (p.state === 'embedding' && state !== 'embedding') embedStartedAt = performance.now();
    state = p.state;
    done = p.done;
  };

  t0 = performance.now();
  let summaryLine: string;
  if (mode === 'process') {
    process.env.PHOTO_SEARCH_MEMORY_PROBE = probeFile;
    process.env.PHOTO_SEARCH_MEMORY_PROBE_MS = String(sampleMs);
    const savedOptions = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${savedOptions ? `${savedOptions} ` : ''}--import ${pathToImport(PROBE)}`;
    let finished!: () => void;
    const ended = new Promise<void>((resolve) => (finished = resolve));
    const controller = new IndexingController(library, {
      launch: (entry) => {
        const c = forkLauncher(entry);
        childPid = c.pid;
        // The child inherits the environment at fork; the rest of this process keeps its own.
        if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
        else process.env.NODE_OPTIONS = savedOptions;
        return c;
      },
      modelDir: () => folder.dir,
      onProgress,
      onBatchStored: () => undefined, // the app catches the search index up here: not part of indexing
      onFinished: () => finished(),
    });
    await controller.start();
    await ended;
    const p = controller.progress;
    if (p.state !== 'done') throw new Error(`indexing ended in state ${p.state}: ${p.message ?? ''}`);
    summaryLine = `${p.done} photos, ${p.failed} failed, ${p.photosPerSecond.toFixed(1)} photos/s`;
    probe.push(...readProbe(probeFile, parent));
  } else {
    await scanLibrary(library.catalogue);
    childPid = undefined;
    let snapshots = 0;
    const summary = await runIndexing({
      library, modelFolder: folder,
      onProgress: (p) => {
        onProgress(p);
        if (heapSnapshots && p.state === 'embedding' && p.done >= warmup * (snapshots + 1) && snapshots < 3) {
          snapshots++;
          (globalThis as { gc?: () => void }).gc?.();
          console.log(`heap snapshot ${v8.writeHeapSnapshot(path.join(packageRoot, `bench/results/indexer-soak-${p.done}.heapsnapshot`))}`);
        }
      },
    });
    summaryLine = `${summary.done} photos, ${summary.failed} failed, ${summary.photosPerSecond.toFixed(1)} photos/s`;
  }
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  const embedSeconds = embedStartedAt ? (performance.now() - embedStartedAt) / 1000 : seconds;
  library.close();
  console.log(`indexed: ${summaryLine} (${seconds.toFixed(0)} s including the scan, ${(photoCount / embedSeconds).toFixed(1)} photos/s embedding)`);

  const rows: Row[] = [];
  if (mode === 'process') {
    rows.push(row('indexer process', child, childPeak));
    rows.push(row('parent (host role)', parent, Math.max(...parent.map((s) => s.vmRss))));
    rows.push(row('both together', sumSamples(child, parent), 0));
  } else {
    rows.push(row('this process (inline)', parent, Math.max(...parent.map((s) => s.vmRss))));
  }
  const breakdownOf = mode === 'process' ? probe : parent;
  const breakdown = breakdownSlopes(breakdownOf);

  console.log(`\nRSS growth per photo, linear fit from photo ${warmup.toLocaleString('en')} to ${photoCount.toLocaleString('en')} (target ≤ ${TARGET_BYTES_PER_PHOTO} B = 2 KiB)`);
  console.log('process                  samples  RSS at warm-up   RSS at end    peak RSS   growth/photo   target     CPU/photo');
  for (const r of rows) {
    const verdict = r.name === 'both together' ? '' : r.bytesPerPhoto <= TARGET_BYTES_PER_PHOTO ? 'met' : 'NOT MET';
    console.log(`${r.name.padEnd(24)} ${String(r.samples).padStart(7)}  ${mb(r.rssAtWarmup).padStart(14)}  ${mb(r.rssAtEnd).padStart(11)}  ` +
      `${(r.peak ? mb(r.peak) : '').padStart(10)}   ${`${Math.round(r.bytesPerPhoto)} B`.padStart(12)}   ≤ 2048 B   ${verdict.padEnd(8)}` +
      `${Number.isFinite(r.cpuMsPerPhoto) ? `${r.cpuMsPerPhoto.toFixed(2)} ms` : ''}`);
  }
  console.log(`\n${mode === 'process' ? 'indexer process' : 'this process'}: growth per photo by kind of memory (same fit)`);
  for (const [k, v] of Object.entries(breakdown)) console.log(`  ${k.padEnd(34)} ${`${Math.round(v)} B`.padStart(10)}`);

  const out = {
    benchmark: 'indexer-soak',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    settings: { photos: photoCount, distinct: distinctCount, warmup, sampleMs, mode, model: modelLabel, sharpConcurrency: sharp.concurrency() },
    photos: generated,
    indexing: { summary: summaryLine, seconds, embedPhotosPerSecond: photoCount / embedSeconds },
    targetBytesPerPhoto: TARGET_BYTES_PER_PHOTO,
    rows,
    breakdownBytesPerPhoto: breakdown,
    samples: { parent, child, probe },
  };
  const file = path.join(packageRoot, 'bench/results/indexer-soak.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`\nwrote ${path.relative(packageRoot, file)}`);
}

interface Row {
  name: string;
  samples: number;
  rssAtWarmup: number;
  rssAtEnd: number;
  peak: number;
  bytesPerPhoto: number;
  anonBytesPerPhoto: number;
  fileBytesPerPhoto: number;
  /** CPU time per photo over the fitted range (all threads). */
  cpuMsPerPhoto: number;
}

function row(name: string, samples: Sample[], peak: number): Row {
  const fitted = samples.filter((s) => s.done >= warmup);
  return {
    name,
    samples: fitted.length,
    rssAtWarmup: fitted[0]?.vmRss ?? 0,
    rssAtEnd: fitted.at(-1)?.vmRss ?? 0,
    peak,
    bytesPerPhoto: slope(fitted, (s) => s.vmRss),
    cpuMsPerPhoto: fitted.length > 1 && fitted[0].cpu !== undefined
      ? ((fitted.at(-1)!.cpu! - fitted[0].cpu) * 1000) / (fitted.at(-1)!.done - fitted[0].done) : NaN,
    anonBytesPerPhoto: slope(fitted, (s) => s.rssAnon),
    fileBytesPerPhoto: slope(fitted, (s) => s.rssFile),
  };
}

function breakdownSlopes(samples: Sample[]): Record<string, number> {
  const fitted = samples.filter((s) => s.done >= warmup && s.heapUsed !== undefined);
  const native = (s: Sample): number => s.vmRss - s.heapTotal! - s.arrayBuffers!;
  return {
    'RSS': slope(fitted, (s) => s.vmRss),
    'RSS, anonymous (malloc, heaps)': slope(fitted, (s) => s.rssAnon),
    'RSS, file-backed (code, mmaps)': slope(fitted, (s) => s.rssFile),
    'V8 heap used': slope(fitted, (s) => s.heapUsed!),
    'V8 heap total': slope(fitted, (s) => s.heapTotal!),
    'external (incl. ArrayBuffers)': slope(fitted, (s) => s.external!),
    'ArrayBuffers': slope(fitted, (s) => s.arrayBuffers!),
    'native: RSS − heap total − ArrayBuffers': slope(fitted, native),
  };
}

/** Least-squares slope of value against photos done, in bytes per photo. */
function slope(samples: Sample[], value: (s: Sample) => number): number {
  const n = samples.length;
  if (n < 2) return NaN;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const s of samples) {
    const x = s.done, y = value(s);
    sx += x; sy += y; sxx += x * x; sxy += x * y;
  }
  const d = n * sxx - sx * sx;
  return d === 0 ? NaN : (n * sxy - sx * sy) / d;
}

function sumSamples(a: Sample[], b: Sample[]): Sample[] {
  const byT = new Map(b.map((s) => [s.t, s]));
  return a.filter((s) => byT.has(s.t)).map((s) => {
    const o = byT.get(s.t)!;
    return { t: s.t, done: s.done, vmRss: s.vmRss + o.vmRss, rssAnon: s.rssAnon + o.rssAnon, rssFile: s.rssFile + o.rssFile, cpu: (s.cpu ?? 0) + (o.cpu ?? 0) };
  });
}

/** The probe's lines, each given the photos done at its time (interpolated from this process's samples). */
function readProbe(file: string, timeline: Sample[]): Sample[] {
  if (!existsSync(file) || timeline.length < 2) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const out: Sample[] = [];
  for (const line of lines) {
    const p = JSON.parse(line) as { t: number; rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; vmRss: number; rssAnon: number; rssFile: number; threads: number };
    if (p.t < timeline[0].t || p.t > timeline.at(-1)!.t) continue;
    let i = 1;
    while (timeline[i].t < p.t) i++;
    const a = timeline[i - 1], b = timeline[i];
    const done = b.t === a.t ? b.done : a.done + ((b.done - a.done) * (p.t - a.t)) / (b.t - a.t);
    out.push({ t: p.t, done, vmRss: p.vmRss, rssAnon: p.rssAnon, rssFile: p.rssFile, heapUsed: p.heapUsed, heapTotal: p.heapTotal,
      external: p.external, arrayBuffers: p.arrayBuffers, threads: p.threads });
  }
  return out;
}

interface Generated {
  distinct: number;
  medianBytes: number;
  withExif: number;
  linked: boolean;
}

/** The distinct JPEGs, then --photos paths linked to them, spread over FOLDERS folders. */
async function generatePhotos(photosDir: string, distinctDir: string): Promise<Generated> {
  mkdirSync(distinctDir, { recursive: true });
  const random = prng(20261201);
  const files: string[] = [];
  const sizes: number[] = [];
  let withExif = 0;
  for (let i = 0; i < distinctCount; i++) {
    const width = 256 + Math.floor(random() * 769);
    const height = 256 + Math.floor(random() * 769);
    let image = sharp(texture(width, height, random), { raw: { width, height, channels: 3 } });
    if (i % 10 === 9) image = image.toColourspace('b-w');
    image = image.jpeg({ quality: 70 + Math.floor(random() * 26), progressive: i % 4 === 1, chromaSubsampling: i % 4 === 2 ? '4:4:4' : '4:2:0' });
    if (i % 3 === 0) {
      withExif++;
      const year = 2005 + (i % 20);
      image = image.withExif({
        IFD0: { Make: ['Canon', 'NIKON CORPORATION', 'Apple', 'FUJIFILM'][i % 4], Model: `Model ${i % 7}`, Orientation: String([1, 1, 6, 3, 8][i % 5]) },
        IFD2: { DateTimeOriginal: `${year}:${String(1 + (i % 12)).padStart(2, '0')}:${String(1 + (i % 28)).padStart(2, '0')} 12:34:56`, LensModel: `Lens ${i % 5}` },
      });
    }
    const file = path.join(distinctDir, `d${String(i).padStart(4, '0')}.jpg`);
    await image.toFile(file);
    files.push(file);
    sizes.push(statSync(file).size);
  }
  let linked = true;
  for (let f = 0; f < FOLDERS; f++) mkdirSync(path.join(photosDir, `f${String(f).padStart(3, '0')}`), { recursive: true });
  for (let i = 0; i < photoCount; i++) {
    const target = path.join(photosDir, `f${String(i % FOLDERS).padStart(3, '0')}`, `p${String(i).padStart(6, '0')}.jpg`);
    const source = files[Math.floor(random() * files.length)];
    if (linked) {
      try {
        linkSync(source, target);
        continue;
      } catch {
        linked = false;
      }
    }
    copyFileSync(source, target);
  }
  sizes.sort((a, b) => a - b);
  return { distinct: distinctCount, medianBytes: sizes[Math.floor(sizes.length / 2)] ?? 0, withExif, linked };
}

/** A photo-like picture: smooth colour fields (a few random waves per channel) with grain. */
function texture(width: number, height: number, random: () => number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  const waves = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => ({
    fx: (random() * 8 + 0.5) / width, fy: (random() * 8 + 0.5) / height, phase: random() * 6.28, amp: 30 + random() * 50,
  })));
  const base = [random() * 255, random() * 255, random() * 255];
  const grain = 4 + random() * 16;
  let seed = Math.floor(random() * 2 ** 31);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = ((seed >> 8) / 8388608 - 0.5) * grain;
      for (let c = 0; c < 3; c++) {
        let v = base[c] + noise;
        for (const w of waves[c]) v += w.amp * Math.sin(6.283 * (w.fx * x + w.fy * y) + w.phase);
        out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** User + system CPU seconds of a process, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** An --import argument for NODE_OPTIONS (quoted: the path may hold spaces). */
function pathToImport(file: string): string {
  return JSON.stringify(pathToFileURL(file).href);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
