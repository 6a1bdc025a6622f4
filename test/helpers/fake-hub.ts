// A minimal Hugging Face hub on 127.0.0.1 serving one model folder: the tree listing (git blob ids, which the
// downloader checks) and resolve/main/<file>.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** Serves a model folder as a Hugging Face repository (tree listing and resolve), git blob ids for checksums. */
export async function serveRepo(t: { after(fn: () => unknown): void }, repo: string, dir: string): Promise<string> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string): void => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(path.join(dir, rel)).isDirectory()) walk(rel);
      else files.set(rel, readFileSync(path.join(dir, rel)));
    }
  };
  walk('');
  const server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (url === `/api/models/${repo}/tree/main`) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([...files].map(([file, content]) => ({
        type: 'file', path: file, size: content.length,
        oid: createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex'),
      }))));
      return;
    }
    const content = files.get(url.slice(`/${repo}/resolve/main/`.length));
    if (!url.startsWith(`/${repo}/resolve/main/`) || !content) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-length', content.length);
    res.end(content);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

