// Makes faiss-node usable after `npm install`.
// faiss-node's own install script is disabled in package.json ("allowScripts") because its fallback
// clones FAISS from GitHub. Here we try its official prebuilt binary first (works wherever GitHub is
// reachable: a user's machine), then fall back to compiling the addon against the system's libfaiss
// (Debian: libfaiss-dev libopenblas-dev cmake; .ci/run installs them).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const faissDir = path.dirname(require.resolve('faiss-node/package.json'));
const addon = path.join(faissDir, 'build', 'Release', 'faiss-node.node');

function works() {
  const r = spawnSync(process.execPath, ['-e', "new (require('faiss-node').IndexFlatIP)(4)"], { cwd: faissDir, stdio: 'ignore' });
  return r.status === 0;
}

function run(cmd, args, opts = {}) {
  console.log(`[postinstall] ${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { cwd: faissDir, stdio: 'inherit', ...opts }).status === 0;
}

function patchForSystemFaiss() {
  const cmakePath = path.join(faissDir, 'CMakeLists.txt');
  let cmake = readFileSync(cmakePath, 'utf8');
  if (cmake.includes('add_subdirectory("deps/faiss")')) {
    cmake = cmake
      .replace('add_subdirectory("deps/faiss")', 'find_package(OpenMP REQUIRED)\nfind_package(faiss REQUIRED)')
      .replace(/set_target_properties\(faiss PROPERTIES[\s\S]*?\n\)\n/, '');
    writeFileSync(cmakePath, cmake);
  }
  const srcPath = path.join(faissDir, 'src', 'faiss.cc');
  const src = readFileSync(srcPath, 'utf8');
  // FAISS 1.7.3 (Debian) declares idx_t inside faiss::Index; 1.7.4 moved it to namespace faiss.
  let patched = src;
  if (patched.includes('using idx_t = faiss::idx_t;')) patched = patched.replace('using idx_t = faiss::idx_t;', 'using idx_t = faiss::Index::idx_t;');
  // faiss-node 0.5.1's search never frees its float copy of the queries (4 bytes per value per call).
  // The app's bulk work avoids faiss-node's search for that reason (vector/top-k-product.ts); a build from
  // source frees it as well.
  if (!patched.includes('delete[] xq;')) patched = patched.replace('    delete[] I;\n    delete[] D;', '    delete[] xq;\n    delete[] I;\n    delete[] D;');
  if (patched !== src) writeFileSync(srcPath, patched);
}

if (existsSync(addon) && works()) {
  console.log('[postinstall] faiss-node ready');
  process.exit(0);
}
const prebuilt = path.join(path.dirname(require.resolve('prebuild-install/package.json')), 'bin.js');
if (run(process.execPath, [prebuilt, '--runtime', 'napi']) && works()) {
  console.log('[postinstall] faiss-node: official prebuilt binary installed');
  process.exit(0);
}
if (!existsSync('/usr/include/faiss/IndexFlat.h')) {
  console.error('[postinstall] faiss-node has no binary and no system FAISS to build against.\n' +
    '  Debian/Ubuntu: sudo apt-get install libfaiss-dev libopenblas-dev cmake, then npm rebuild / npm install again.');
  process.exit(0); // the rest of the install stays usable; the vector index reports the problem clearly at run time
}
patchForSystemFaiss();
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
if (!run(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn']) || !works()) {
  console.error('[postinstall] building faiss-node against the system FAISS failed');
  process.exit(1);
}
console.log('[postinstall] faiss-node built against the system FAISS');
