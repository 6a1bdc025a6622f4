#!/usr/bin/env node
// npm run bench: runs every benchmark one after another (they would disturb each other side by side),
// each printing its own figures and writing JSON to bench/results/. Extra arguments go to every one,
// e.g. `npm run bench -- --quick`. Each is also runnable alone: node dist/bench/<name>.js
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benches = ['embed-throughput', 'calibration', 'int8', 'search-scale', 'search-e2e', 'scan', 'grid', 'library-scale', 'reader-catch-up', 'watch-scale', 'indexer-soak', 'quality', 'raw-preview'];
const only = process.env.BENCH ? process.env.BENCH.split(',') : benches;
const args = process.argv.slice(2);
let failed = 0;
for (const name of only) {
  const file = fileURLToPath(new URL(`../dist/bench/${name}.js`, import.meta.url));
  if (!existsSync(file)) {
    console.error(`bench ${name}: ${file} is missing (run npm run build)`);
    failed++;
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--expose-gc', file, ...args], { stdio: 'inherit' });
  console.log(`=== ${name}: ${result.status === 0 ? 'ok' : `failed (${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s ===`);
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
