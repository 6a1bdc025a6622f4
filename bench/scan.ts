// Scanner registration speed on a large generated tree (the same small JPEG written under many names).
// Figures, files/s:
//   cold       first scan into an empty catalogue, right after the tree was written (OS cache warm)
//   cold-disk  instead of cold with --drop-caches (Linux, root): first scan after dropping the OS caches
//   rescan     second scan, nothing changed (the everyday case)
//   first-warm first scan into another empty catalogue, tree already in the OS cache
//   changes    rescan after renaming 1% of the files (recognised as moves: each is hashed) and touching 1%
// Usage: node dist/bench/scan.js [--files 100000] [--per-dir 200] [--drop-caches] [--keep]
// Writes bench/results/scan.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Library } from '../src/main/core/library.js';
import { packageRoot } from '../src/main/core/paths.js';
import { scanFolder, type ScanResult } from '../src/main/core/scanner/scanner.js';
import { hashBuffer } from '../src/main/core/scanner/content-hash.js';
import { parseArgs } from './lib/args.js';

const args = parseArgs(process.argv.slice(2));
const total = Number(args.files ?? 100_000);
const perDir = Number(args['per-dir'] ?? 200);
const dropCaches = args['drop-caches'] === 'true';

interface Measure {
  name: string;
  files: number;
  seconds: number;
  filesPerSecond: number;
  result: Omit<ScanResult, 'folder' | 'unsupported'> & { unsupported: Record<string, number> };
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'scan-bench-'));
  const root = path.join(work, 'photos');
  const measures: Measure[] = [];
  try {
    const t = performance.now();
    const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#6a8' } }).jpeg({ quality: 70 }).toBuffer();
    let written = 0;
    for (let d = 0; written < total; d++) {
      const dir = path.join(root, `year-${2000 + (d % 25)}`, `album ${String(d).padStart(5, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < perDir && written < total; i++, written++) {
        // Mixed-case extensions as cameras write them; a few RAW and video files to classify.
        const name = i % 50 === 49 ? `IMG_${written}.CR2` : i % 97 === 96 ? `MVI_${written}.MOV` : `IMG_${written}.${i % 3 === 0 ? 'JPG' : 'jpg'}`;
        writeFileSync(path.join(dir, name), jpeg);
      }
    }
    console.log(`wrote ${written} files (${jpeg.length} bytes each) in ${((performance.now() - t) / 1000).toFixed(1)} s under ${root}`);

    const lib = Library.open(path.join(work, 'library-a'));
    const f = lib.catalogue.addFolder(root);
    measures.push(await measure(dropCaches ? 'cold-disk' : 'cold', lib, f, dropCaches));
    measures.push(await measure('rescan', lib, f, false));

    // Changes: rename 1% and touch 1%. Renamed photos get the content hash the embedding pipeline
    // would have stored, so the scan recognises them as moves (hashing each renamed file).
    const photos = lib.catalogue.browse({}, 0, Math.ceil(total / 50)).items;
    const hash = hashBuffer(jpeg);
    lib.catalogue.transaction(() => photos.forEach((p, i) => i % 2 === 0 && lib.catalogue.setContentHash(p.id, hash)));
    photos.forEach((p, i) => {
      if (i % 2 === 0) renameSync(p.path, p.path.replace(/(\.\w+)$/, '-renamed$1'));
      else utimesSync(p.path, new Date(), new Date(Date.now() + 60_000));
    });
    measures.push(await measure('changes', lib, f, false));
    lib.close();

    const fresh = Library.open(path.join(work, 'library-c'));
    measures.push(await measure('first-warm', fresh, fresh.catalogue.addFolder(root), false));
    fresh.close();
  } finally {
    if (args.keep !== 'true') rmSync(work, { recursive: true, force: true });
  }

  const out = {
    benchmark: 'scan',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, platform: process.platform },
    files: total,
    perDir,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    measures,
  };
  const file = path.join(packageRoot, 'bench/results/scan.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`peak RSS ${out.peakRssMiB} MiB; wrote ${path.relative(packageRoot, file)}`);
}

async function measure(name: string, library: Library, folder: ReturnType<Library['catalogue']['addFolder']>, drop: boolean): Promise<Measure> {
  if (drop) {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  }
  const t = performance.now();
  const result = await scanFolder(library.catalogue, folder);
  const seconds = (performance.now() - t) / 1000;
  const files = result.added + result.changed + result.unchanged + result.moved + result.restored + result.missing
    + Object.values(result.unsupported).reduce((a, b) => a + b, 0);
  const filesPerSecond = Math.round(files / seconds);
  const { folder: _f, ...rest } = result;
  console.log(`${name.padEnd(10)} ${files} files in ${seconds.toFixed(2)} s = ${filesPerSecond} files/s ` +
    `(added ${result.added}, changed ${result.changed}, moved ${result.moved}, unchanged ${result.unchanged}, missing ${result.missing}, unsupported ${JSON.stringify(result.unsupported)})`);
  return { name, files, seconds: Math.round(seconds * 1000) / 1000, filesPerSecond, result: rest };
}


await main();
