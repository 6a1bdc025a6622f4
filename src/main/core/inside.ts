// The one path-containment check, in a module of its own with no side effects: the Electron main bundle
// uses it too, and cannot load paths.ts (which reads import.meta.url when it loads).
import path from 'node:path';

/** True when `child` is `parent` or lies below it (both resolved; no `..` escape, no other drive). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!!rel && !rel.startsWith('..') && !path.isAbsolute(rel));
}
