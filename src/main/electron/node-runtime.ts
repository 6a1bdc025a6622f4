// Which Node runtime runs the library host. On every platform the host runs under plain Node rather than
// Electron's binary: the native addons (better-sqlite3, faiss-node, onnxruntime-node, sharp) are then built
// once for Node's ABI, and sharp's bundled GLib never meets the system GLib that Electron links on Linux
// (sharp's docs: "Electron and Linux"). See docs/ARCHITECTURE.md.
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface NodeRuntime {
  path: string;
  /** Where it was found, for the error and the log. */
  source: 'PHOTO_SEARCH_NODE' | 'bundled' | 'PATH';
}

const EXE = process.platform === 'win32' ? 'node.exe' : 'node';

/**
 * PHOTO_SEARCH_NODE first (set by `npm start` to the Node that built the addons), then the runtime shipped in
 * the package's resources, then `node` on PATH. Null when there is none.
 */
export function findNodeRuntime(env: NodeJS.ProcessEnv, resourcesPath: string | undefined, packaged: boolean): NodeRuntime | null {
  if (env.PHOTO_SEARCH_NODE && existsSync(env.PHOTO_SEARCH_NODE)) return { path: env.PHOTO_SEARCH_NODE, source: 'PHOTO_SEARCH_NODE' };
  if (packaged && resourcesPath) {
    const bundled = path.join(resourcesPath, 'node', EXE);
    if (existsSync(bundled)) return { path: bundled, source: 'bundled' };
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, EXE);
    if (existsSync(candidate)) return { path: candidate, source: 'PATH' };
  }
  return null;
}
