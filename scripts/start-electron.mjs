#!/usr/bin/env node
// npm start: opens the Electron app from this checkout.
// better-sqlite3 is the one native module built against a specific V8 ABI (the others use N-API), so
// Electron needs its own build of it. That build is kept beside the Node one
// (node_modules/better-sqlite3/build-electron/<electron version>/) and selected at run time through
// better-sqlite3's `nativeBinding` option, so the CLI and the tests keep working under plain Node.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const electronVersion = require('electron/package.json').version;
const sqliteDir = path.dirname(require.resolve('better-sqlite3/package.json'));
const nodeBuild = path.join(sqliteDir, 'build', 'Release', 'better_sqlite3.node');
const electronBuild = path.join(sqliteDir, 'build-electron', electronVersion, 'better_sqlite3.node');

function run(cmd, args) {
  console.log(`[start] ${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { cwd: sqliteDir, stdio: 'inherit', shell: process.platform === 'win32' }).status === 0;
}

function buildForElectron() {
  const saved = `${nodeBuild}.node-abi`;
  if (existsSync(nodeBuild)) copyFileSync(nodeBuild, saved);
  try {
    const prebuilt = path.join(path.dirname(require.resolve('prebuild-install/package.json')), 'bin.js');
    const ok = run(process.execPath, [prebuilt, '--runtime', 'electron', '--target', electronVersion, '--arch', process.arch, '--platform', process.platform])
      || run('npx', ['--yes', 'node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers', `--arch=${process.arch}`]);
    if (!ok || !existsSync(nodeBuild)) throw new Error(`could not get better-sqlite3 for Electron ${electronVersion}`);
    mkdirSync(path.dirname(electronBuild), { recursive: true });
    renameSync(nodeBuild, electronBuild);
  } finally {
    if (existsSync(saved)) {
      mkdirSync(path.dirname(nodeBuild), { recursive: true });
      rmSync(nodeBuild, { force: true });
      renameSync(saved, nodeBuild);
    }
  }
}

if (!existsSync(electronBuild)) buildForElectron();
const electron = require('electron'); // the path of the Electron binary (downloaded on first use)
const child = spawn(electron, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
