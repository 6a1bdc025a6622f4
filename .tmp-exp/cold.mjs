import { fdir } from 'fdir';
import { statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
const root = '/tmp/crawl-exp';
const drop = () => { execFileSync('sync'); writeFileSync('/proc/sys/vm/drop_caches', '3'); };
for (const mode of ['sync', 'async32', 'sync', 'async32']) {
  drop();
  let t = performance.now();
  const files = await new fdir().withFullPaths().crawl(root).withPromise();
  const crawl = performance.now() - t;
  t = performance.now();
  if (mode === 'sync') for (const f of files) statSync(f);
  else { let next = 0; await Promise.all(Array.from({ length: 32 }, async () => { while (next < files.length) await stat(files[next++]); })); }
  console.log(mode, 'crawl', crawl.toFixed(0), 'stat', (performance.now() - t).toFixed(0), 'ms');
}
