#!/usr/bin/env node
// Entry point of `npx photo-search`: runs the compiled CLI (npm install builds it via "prepare").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/main/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('photo-search is not built yet: run `npm run build` in ' + fileURLToPath(new URL('..', import.meta.url)));
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
