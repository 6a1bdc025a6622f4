// Camera RAW through its embedded preview: what decoding a RAW for embedding costs next to decoding the
// same JPEG on its own (libvips has no RAW decoder here, so a full RAW decode cannot be compared).
//   jpeg alone:  decodeForEmbedding(preview bytes): tensor + thumbnail
//   raw:         decodeForEmbedding(RAW bytes): find the preview in the container, then the same decode
//   find only:   readRawPreview on the RAW bytes (directories, candidates' markers, the preview copied out)
//   read + hash: reading the file and its SHA-256, which the pipeline does for every photo (page cache warm)
// Two NEF-like layouts: a full-size 6000×4000 preview (NEF, CR2, DNG, many RAFs) and a 1620×1080 one (CR3,
// ARW), each beside a 160×120 thumbnail and 25 MB of incompressible "sensor data" (24 MP at ~14 bits).
// Previews are real photos from ../shared upscaled with sensor-like noise; photos decoded one at a time,
// the two paths alternating, median per photo over the rounds.
//
// Usage: node dist/bench/raw-preview.js [--photos 8] [--rounds 3] [--wait-quiet 60]
// Writes bench/results/raw-preview.json. Skips (exit 0) when ../shared is missing.
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { PreprocessCfg } from '../src/main/core/model/model-folder.js';
import { decodeForEmbedding } from '../src/main/core/model/preprocess.js';
import { bufferSource } from '../src/main/core/model/raw/byte-source.js';
import { readRawPreview } from '../src/main/core/model/raw/raw-preview.js';
import { packageRoot } from '../src/main/core/paths.js';
import { nefLike, quadrantJpeg } from '../test/helpers/raw-files.js';
import { parseArgs } from './lib/args.js';
import { flickrPhotos, median, waitQuiet } from './lib/machine.js';

const args = parseArgs(process.argv.slice(2));
const shared = path.resolve(packageRoot, '../shared');
const photos = Number(args.photos ?? 8);
const rounds = Math.max(1, Number(args.rounds ?? 3));
const quietSeconds = Number(args['wait-quiet'] ?? 60);
const SENSOR_BYTES = 25 * 1024 * 1024;
/** ViT-B/32's preprocessing (visual/preprocess_cfg.json of the architecture model). */
const cfg: PreprocessCfg = {
  width: 224, height: 224, resizeMode: 'shortest', interpolation: 'bicubic', fillColor: 0,
  mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711],
};

interface Layout {
  name: string;
  width: number;
  height: number;
}

const LAYOUTS: Layout[] = [
  { name: 'full-size preview 6000×4000', width: 6000, height: 4000 },
  { name: '1620×1080 preview', width: 1620, height: 1080 },
];

/** A camera-like JPEG: a real photo upscaled plus sensor-like noise, as a camera's preview would be. */
async function cameraJpeg(source: string, width: number, height: number): Promise<Buffer> {
  const noise = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 10 } } }).raw().toBuffer();
  const base = await sharp(source).resize(width, height, { fit: 'cover' }).raw().toBuffer();
  for (let p = 0; p < base.length; p++) base[p] = Math.max(0, Math.min(255, base[p] + noise[p] - 128));
  return sharp(base, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

async function msPerCall(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const sources = flickrPhotos(shared, photos);
  if (sources.length === 0) {
    console.log(`raw-preview: skipped, ${shared} is missing (benchmarks need ../shared)`);
    return;
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'raw-bench-'));
  const sensor = randomBytes(SENSOR_BYTES);
  const thumbnail = await quadrantJpeg(160, 120);
  const results = [];
  try {
    for (const layout of LAYOUTS) {
      const pairs: { jpegFile: string; rawFile: string; jpeg: Buffer }[] = [];
      for (const [i, source] of sources.entries()) {
        const jpeg = await cameraJpeg(source, layout.width, layout.height);
        const raw = Buffer.concat([await nefLike(jpeg, { orientation: 1, thumbnail }), sensor]);
        const dir = path.join(work, `${layout.width}`);
        mkdirSync(dir, { recursive: true });
        const jpegFile = path.join(dir, `${i}.jpg`);
        const rawFile = path.join(dir, `${i}.nef`);
        writeFileSync(jpegFile, jpeg);
        writeFileSync(rawFile, raw);
        pairs.push({ jpegFile, rawFile, jpeg });
      }
      const times = { jpeg: [] as number[], raw: [] as number[], find: [] as number[], readHashJpeg: [] as number[], readHashRaw: [] as number[] };
      // Warm-up: the first decodes of a process pay for loading libvips' pieces.
      await decodeForEmbedding(pairs[0].jpeg, cfg);
      await decodeForEmbedding(await readFile(pairs[0].rawFile), cfg);
      let idle: number | null = null;
      for (let r = 0; r < rounds; r++) {
        idle = await waitQuiet(quietSeconds);
        for (const [i, { jpegFile, rawFile }] of pairs.entries()) {
          const jpegBytes = await readFile(jpegFile);
          const rawBytes = await readFile(rawFile);
          times.readHashJpeg.push(await msPerCall(async () => webcrypto.subtle.digest('SHA-256', await readFile(jpegFile))));
          times.readHashRaw.push(await msPerCall(async () => webcrypto.subtle.digest('SHA-256', await readFile(rawFile))));
          // Which path goes first alternates, so neither always follows the other's cache effects.
          const jpegDecode = async (): Promise<void> => { times.jpeg.push(await msPerCall(() => decodeForEmbedding(jpegBytes, cfg))); };
          const rawDecode = async (): Promise<void> => { times.raw.push(await msPerCall(() => decodeForEmbedding(rawBytes, cfg))); };
          for (const step of (i + r) % 2 ? [rawDecode, jpegDecode] : [jpegDecode, rawDecode]) await step();
          times.find.push(await msPerCall(() => readRawPreview(bufferSource(rawBytes))));
        }
      }
      const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
      const row = {
        layout: layout.name, photos: pairs.length, rounds,
        medianPreviewBytes: median(pairs.map((p) => p.jpeg.length)), rawBytes: pairs[0].jpeg.length + SENSOR_BYTES,
        msPerPhoto: med, rawOverJpeg: Math.round((median(times.raw) / median(times.jpeg)) * 1000) / 1000, idleBeforeLastRound: idle,
      };
      console.log(`${layout.name}: jpeg alone ${med.jpeg} ms, raw ${med.raw} ms (×${row.rawOverJpeg}), find only ${med.find} ms; ` +
        `read+hash jpeg ${med.readHashJpeg} ms, raw ${med.readHashRaw} ms (preview ${(row.medianPreviewBytes / 1e6).toFixed(1)} MB, idle ${idle?.toFixed(2)})`);
      results.push(row);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const out = path.join(packageRoot, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'raw-preview.json'), JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), results }, null, 2));
}

await main();
