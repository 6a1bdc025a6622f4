// `npm start` without a reachable Electron binary: it says in one sentence what it needs, and it leaves the
// Node build of the native addons alone, so the CLI and `npm test` keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../src/main/core/paths.js';
import { tempDir } from './helpers/fixtures.js';

const require = createRequire(import.meta.url);
const SQLITE_ADDON = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');

function digest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

test('without an Electron binary, npm start explains in one sentence and touches no native build', (t) => {
  const before = digest(SQLITE_ADDON);
  // The electron package looks for its binary in ELECTRON_OVERRIDE_DIST_PATH first: an empty folder stands for
  // "never downloaded", online or off, without downloading anything.
  const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: tempDir(t, 'no-electron-') };
  delete env.ELECTRON_PATH;
  const run = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'start-electron.mjs')], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 1, run.stderr);
  const message = run.stderr.trim();
  assert.equal(message.split('\n').length, 1, `one line: ${message}`);
  assert.equal(message.match(/\.(\s|$)/g)?.length, 1, `one sentence: ${message}`);
  assert.match(message, /needs the Electron binary/);
  assert.match(message, /ELECTRON_PATH/);

  assert.equal(digest(SQLITE_ADDON), before, 'the Node build of better-sqlite3 is untouched');
  const check = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], { cwd: packageRoot, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});
