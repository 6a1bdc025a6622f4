// Electron entry: windows, menus, dialogs, the two custom protocols and IPC relaying, nothing more. All
// library work runs in the library host (src/main/host), a plain Node process this file starts and
// restarts; no native addon and no image decoder loads here. Bundled as CommonJS (dist/electron/main.cjs)
// so that every Electron from 25 on loads it.
import { app, BrowserWindow, dialog, Menu, nativeTheme, session, shell } from 'electron';
import path from 'node:path';
import { IPC_EVENT, type ApiMethod } from '../../shared/api.js';
import { APP_ENTRY, isAppPageUrl } from '../../shared/app-url.js';
import type { ApiEvent } from '../../shared/types.js';
import { LibraryHostClient } from '../host/host-client.js';
import { hostArgs } from '../host/host-protocol.js';
import { registerApiHandlers } from './ipc.js';
import { buildMenu } from './menu.js';
import { findNodeRuntime } from './node-runtime.js';
import { CONTENT_SECURITY_POLICY, handleAppProtocol, handleMediaProtocol, registerPrivilegedSchemes } from './protocol.js';
import { quitAfter } from './quit.js';
import { loadWindowState, MIN_HEIGHT, MIN_WIDTH, trackWindowState } from './window-state.js';

/** The app folder; plain Node cannot read inside app.asar, so the host runs from the unpacked copy. */
const APP_DIR = app.getAppPath();
const UNPACKED_DIR = APP_DIR.replace(/app\.asar$/, 'app.asar.unpacked');
const RENDERER_DIR = path.join(APP_DIR, 'dist', 'renderer');
const PRELOAD = path.join(APP_DIR, 'dist', 'preload', 'preload.cjs');
const HOST_ENTRY = path.join(UNPACKED_DIR, 'dist', 'src', 'main', 'host', 'library-host.js');

let mainWindow: BrowserWindow | null = null;
let host: LibraryHostClient | null = null;

// Must run synchronously before 'ready'.
registerPrivilegedSchemes();

/** `--library DIR` on the command line, else PHOTO_SEARCH_LIBRARY (read by the host), else the default. */
function libraryArgument(argv: string[]): string | undefined {
  const index = argv.indexOf('--library');
  if (index >= 0 && argv[index + 1]) return path.resolve(argv[index + 1]);
  const inline = argv.find((arg) => arg.startsWith('--library='));
  return inline ? path.resolve(inline.slice('--library='.length)) : undefined;
}

function showMainWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

async function pickFolder(): Promise<string | null> {
  const options: Electron.OpenDialogOptions = { properties: ['openDirectory', 'createDirectory'], title: 'Choose a folder' };
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return result.canceled || result.filePaths.length === 0 ? null : result.filePaths[0];
}

/** No permissions (camera, notifications…), no downloads, and the CSP on every response of ours. */
function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.on('will-download', (event) => event.preventDefault());
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    if (isAppPageUrl(details.url)) headers['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
    callback({ responseHeaders: headers });
  });
}

/** Whatever loads in any web contents: no navigation away, no new windows, no webviews. */
function lockDownWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (url !== APP_ENTRY) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function createMainWindow(): BrowserWindow {
  const userData = app.getPath('userData');
  const state = loadWindowState(userData);
  const window = new BrowserWindow({
    ...(state.hasPosition ? state.bounds : { width: state.bounds.width, height: state.bounds.height }),
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    show: false,
    title: 'Photo Search',
    // The page's own background, so no flash of the other theme before it paints.
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#111317' : '#f4f5f7',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  if (state.maximized) window.maximize();
  trackWindowState(window, userData);
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  void window.loadURL(APP_ENTRY);
  return window;
}

function sendToWindow(event: ApiEvent): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT, event);
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession();
  lockDownWebContents();

  const runtime = findNodeRuntime(process.env, process.resourcesPath, app.isPackaged);
  if (!runtime) {
    dialog.showErrorBox('Photo Search cannot start its library process',
      'It needs Node.js 20 or later: install it, or set PHOTO_SEARCH_NODE to the node binary.');
    app.exit(1);
    return;
  }
  const client = new LibraryHostClient({
    nodePath: runtime.path,
    entry: HOST_ENTRY,
    args: hostArgs({ libraryDir: libraryArgument(process.argv), modelsDir: path.join(app.getPath('userData'), 'models') }),
  });
  host = client;
  client.on('event', sendToWindow);

  handleAppProtocol(RENDERER_DIR);
  handleMediaProtocol((kind, photoId) => client.media(kind, photoId));
  // The folder picker is a native dialog, so it is answered here; every other call goes to the host.
  registerApiHandlers((method: ApiMethod, args: unknown[]) => (method === 'pickFolder' ? pickFolder() : client.call(method, args)));

  const reportError = (title: string) => (error: Error) => dialog.showErrorBox(title, error.message);
  Menu.setApplicationMenu(buildMenu({
    addFolder: () => void pickFolder().then((folder) => (folder ? client.call('addFolder', [folder]) : null)).catch(reportError('Cannot add the folder')),
    startIndexing: () => void client.call('startIndexing', []).catch(reportError('Cannot start indexing')),
    pauseIndexing: () => void client.call('pauseIndexing', []).catch(() => undefined),
    openDataFolder: () => void (client.libraryDir ? shell.openPath(client.libraryDir) : Promise.resolve()),
  }));

  // The window opens at once; its first calls wait until the host has opened the library.
  mainWindow = createMainWindow();
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createMainWindow();
    else showMainWindow();
  });
  try {
    await client.start();
  } catch (error) {
    dialog.showErrorBox('Photo Search cannot open its library', (error as Error).message);
  }
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', showMainWindow);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Close the library (stopping the indexer) before the process ends.
  quitAfter(app, () => host?.close() ?? Promise.resolve());
  start().catch((error: Error) => {
    console.error('Photo Search failed to start:', error);
    dialog.showErrorBox('Photo Search failed to start', error.stack ?? error.message);
    app.exit(1);
  });
}
