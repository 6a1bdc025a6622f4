// The benchmark model: ../shared/models/clip-vit-b32-arch (true ViT-B/32 architecture and cost, random
// weights) with its weight files written out. ../shared may be read-only, so the weights may live in a
// sibling or temporary copy; they are materialised on first use (~600 MB, a few seconds).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/main/core/paths.js';

export const SHARED_DIR = path.resolve(packageRoot, '../shared');

/** A materialised copy of the architecture model, or null when ../shared is absent. */
export function findArchModel(explicit?: string): string | null {
  if (explicit) return path.resolve(explicit);
  const source = path.join(SHARED_DIR, 'models/clip-vit-b32-arch');
  const materialised = (dir: string): boolean => existsSync(path.join(dir, 'visual/model.onnx.data'));
  const candidates = [
    source,
    process.env.PHOTO_SEARCH_ARCH_MODEL ?? '',
    path.resolve(packageRoot, '../.tmp-models/clip-vit-b32-arch'),
    path.join(os.tmpdir(), 'photo-search-clip-vit-b32-arch'),
  ].filter(Boolean);
  const found = candidates.find(materialised);
  if (found) return found;
  if (!existsSync(path.join(source, 'materialize.mjs'))) return null;
  const target = candidates[candidates.length - 1];
  console.log(`materialising the benchmark model weights into ${target} (~600 MB, a few seconds)`);
  execFileSync(process.execPath, [path.join(source, 'materialize.mjs'), source, target], { stdio: 'inherit' });
  return target;
}
