// The quit sequence in a real Electron, on its own: a minimal app runs the shipped quitAfter
// (dist/electron/quit.cjs) with a clean-up that settles at once, as the library's did on a first run. Quitting
// with a second app.quit() from inside will-quit was ignored by Electron: the process stayed, windowless,
// holding the single-instance lock, and every later launch exited at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/main/core/paths.js';
import { binaryForCheckout, electronSkipReason, ELECTRON_PATH, ensureDisplay, stopDisplay } from './helpers/electron-app.js';
import { tempDir } from './helpers/fixtures.js';

const skipReason = electronSkipReason();

const MAIN = `
const { app, BrowserWindow } = require('electron');
const { quitAfter } = require(${JSON.stringify(path.join(packageRoot, 'dist', 'electron', 'quit.cjs'))});
if (!app.requestSingleInstanceLock()) { console.log('LOCKED'); app.exit(3); }
else {
  let cleaned = false;
  quitAfter(app, async () => { cleaned = true; });
  app.on('window-all-closed', () => app.quit());
  app.on('quit', () => console.log(cleaned ? 'CLEANED' : 'NOT-CLEANED'));
  app.whenReady().then(() => {
    const window = new BrowserWindow({ show: true, width: 200, height: 100 });
    window.loadURL('data:text/html,quit');
    window.webContents.once('did-finish-load', () => { console.log('OPEN'); setTimeout(() => window.close(), 200); });
  });
}
`;

function runOnce(executable: string, display: string, userData: string): Promise<{ code: number | null; output: string; lingered: boolean }> {
  const child = spawn(executable, ['--no-sandbox', '--disable-gpu', `--user-data-dir=${userData}`], {
    env: { ...process.env, DISPLAY: display, ELECTRON_RUN_AS_NODE: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, output, lingered: true });
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, lingered: false });
    });
  });
}

test('closing the last window ends the process after the clean-up, and the next launch opens a window', { skip: skipReason ?? false, timeout: 60_000 }, async (t) => {
  const app = tempDir(t, 'quit-app-');
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'quit-fixture', main: 'main.cjs' }));
  writeFileSync(path.join(app, 'main.cjs'), MAIN);
  const executable = binaryForCheckout(ELECTRON_PATH, app);
  const display = await ensureDisplay();
  t.after(stopDisplay);
  const userData = tempDir(t, 'quit-data-');
  for (const attempt of [1, 2]) {
    const run = await runOnce(executable, display, userData);
    assert.equal(run.lingered, false, `launch ${attempt}: the process is still running 15 s after its window closed\n${run.output}`);
    assert.match(run.output, /OPEN/, `launch ${attempt} showed a window`);
    assert.match(run.output, /CLEANED/, `launch ${attempt} ran the clean-up before quitting`);
    assert.equal(run.code, 0);
  }
});
