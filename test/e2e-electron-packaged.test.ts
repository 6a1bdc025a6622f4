// The packaged desktop app: `electron-builder --linux dir` run offline over the Electron folder of
// ELECTRON_PATH, then the unpacked app started under Xvfb with no Node on PATH (its library host must run
// under the Node runtime shipped in resources/node), adding a folder, indexing it and searching it. The one
// change from the shipped configuration: the inspector fuse stays on, because Playwright drives the app
// through it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ElectronApplication, Page } from 'playwright-core';
import { packageRoot } from '../src/main/core/paths.js';
import { childProcesses, electronSkipReason, ELECTRON_PATH, ensureDisplay, launchApp, stopDisplay } from './helpers/electron-app.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const versionFile = ELECTRON_PATH ? path.join(path.dirname(ELECTRON_PATH), 'version') : '';
const skipReason = electronSkipReason() ?? (existsSync(versionFile) ? null : `no version file beside ${ELECTRON_PATH} (scripts/fetch-test-electron.mjs writes one)`);
if (skipReason) console.log(`# packaged-app suite skipped: ${skipReason}`);

describe('the packaged desktop app (electron-builder --linux dir)', { skip: skipReason ?? false, timeout: 300_000 }, () => {
  let dir: string;
  let app: ElectronApplication;
  let page: Page;
  let appDir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'e2e-packaged-'));
    const stage = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'stage-node-runtime.mjs')], { cwd: packageRoot, encoding: 'utf8' });
    assert.equal(stage.status, 0, stage.stderr);
    const builder = spawnSync(path.join(packageRoot, 'node_modules', '.bin', 'electron-builder'), [
      '--linux', 'dir',
      `-c.electronDist=${path.dirname(ELECTRON_PATH)}`,
      `-c.electronVersion=${readFileSync(versionFile, 'utf8').trim()}`,
      `-c.directories.output=${path.join(dir, 'release')}`,
      '-c.electronFuses.enableNodeCliInspectArguments=true',
    ], { cwd: packageRoot, encoding: 'utf8', env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } });
    assert.equal(builder.status, 0, builder.stdout + builder.stderr);
    appDir = path.join(dir, 'release', 'linux-unpacked');
  });

  after(async () => {
    await app?.close().catch(() => undefined);
    stopDisplay();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the package holds the renderer in app.asar, the host unpacked, and a Node runtime', () => {
    assert.ok(existsSync(path.join(appDir, 'resources', 'app.asar')));
    assert.ok(existsSync(path.join(appDir, 'resources', 'app.asar.unpacked', 'dist', 'src', 'main', 'host', 'library-host.js')));
    assert.ok(existsSync(path.join(appDir, 'resources', 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')));
    assert.ok(existsSync(path.join(appDir, 'resources', 'node', 'node')));
  });

  test('it opens a library the CLI indexed (--library), with no Node on PATH, indexes a new folder and finds the red photo', async () => {
    const cliPhotos = path.join(dir, 'FromCli');
    await writeSolidPhoto(path.join(cliPhotos, 'a.jpg'), COLOURS.green, 64);
    await writeSolidPhoto(path.join(cliPhotos, 'c.jpg'), COLOURS.blue, 64);
    const modelDir = await buildTestModel(path.join(dir, 'test-model'));
    const library = path.join(dir, 'library');
    const cli = spawnSync(process.execPath, [path.join(packageRoot, 'bin', 'photo-search.js'), 'index', cliPhotos, '--model', modelDir, '--library', library],
      { encoding: 'utf8', env: { ...process.env, PHOTO_SEARCH_HOME: path.join(dir, 'home') } });
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);

    const display = await ensureDisplay();
    let log: string[];
    ({ app, log } = await launchApp({
      executablePath: path.join(appDir, 'photo-search'),
      display,
      args: ['--library', library],
      env: { PATH: '/usr/local/no-node-here', PHOTO_SEARCH_NODE: '', PHOTO_SEARCH_HOME: path.join(dir, 'home'), XDG_CONFIG_HOME: path.join(dir, 'config') },
    }));
    page = await app.firstWindow().catch((error: Error) => assert.fail(`${error.message}\n${log.join('')}`));
    page.setDefaultTimeout(30_000);
    const hosts = childProcesses(app.process().pid!).filter((c) => c.command.includes('library-host.js'));
    assert.equal(hosts.length, 1);
    assert.ok(hosts[0].command.startsWith(path.join(appDir, 'resources', 'node', 'node')), hosts[0].command);
    // The CLI's library: its two photos are in the grid, no setup screen.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="photo-cell"]').length === 2);

    const photos = path.join(dir, 'Photos');
    await writeSolidPhoto(path.join(photos, 'b.png'), COLOURS.red, 64);
    await page.getByTestId('open-settings').click();
    await page.getByTestId('add-folder-input').fill(photos);
    await page.getByTestId('add-folder-submit').click();
    await page.getByTestId('folder-list').getByText(photos).waitFor();
    await page.getByTestId('drawer-close').click();
    await page.getByTestId('indexing-pill').click();
    await page.getByTestId('indexing-start').click();
    await page.locator('[data-testid="indexing-state"][data-state="done"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('drawer-close').click();
    await page.getByTestId('search-input').fill('red');
    await page.getByTestId('search-input').press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="photo-cell"][data-index="0"]')?.getAttribute('aria-label') === 'b.png');
    await page.screenshot({ path: path.join(packageRoot, 'test-artifacts', 'electron-packaged-search.png') });
  });
});
