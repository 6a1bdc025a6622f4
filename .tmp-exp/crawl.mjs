import { fdir } from 'fdir';
import { statSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { stat, lstat } from 'node:fs/promises';
const root = '/tmp/crawl-exp';
rmSync(root, { recursive: true, force: true });
for (let d = 0; d < 100; d++) { mkdirSync(`${root}/d${d}`, { recursive: true }); for (let i = 0; i < 200; i++) writeFileSync(`${root}/d${d}/IMG_${i}.jpg`, 'x'); }
let t = performance.now();
const files = await new fdir().withFullPaths().crawl(root).withPromise();
console.log('fdir async', files.length, (performance.now() - t).toFixed(0), 'ms');
t = performance.now();
new fdir().withFullPaths().crawl(root).sync();
console.log('fdir sync', (performance.now() - t).toFixed(0), 'ms');
t = performance.now();
for (const f of files) statSync(f);
console.log('statSync', (performance.now() - t).toFixed(0), 'ms');
for (const c of [4, 16, 32, 64]) {
  t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: c }, async () => { while (next < files.length) await stat(files[next++]); }));
  console.log('async stat conc', c, (performance.now() - t).toFixed(0), 'ms');
}
t = performance.now();
for (const f of files) statSync(f, { bigint: false, throwIfNoEntry: false });
console.log('statSync again', (performance.now() - t).toFixed(0), 'ms');
