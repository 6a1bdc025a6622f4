#!/usr/bin/env node
// Copies the Node binary running this script (the one that built the native addons, so their ABI matches)
// to build/node-runtime/, which electron-builder ships as resources/node: the packaged app's library host
// runs under it. See docs/ARCHITECTURE.md.
import { copyFileSync, chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'build', 'node-runtime', process.platform === 'win32' ? 'node.exe' : 'node');
mkdirSync(path.dirname(target), { recursive: true });
copyFileSync(process.execPath, target);
chmodSync(target, 0o755);
console.log(`staged Node ${process.version} (${process.execPath}) for the library host: ${target}`);
