// Electron entry: a thin shell around LibraryService. The page is sandboxed and isolated, talks only
// through the preload's PhotoSearchClient, and loads nothing but our bundle and our photos.
import { app, BrowserWindow, dialog, Menu, nativeTheme, session, shell } from 'electron';
import path from 'node:path';
import { IPC_EVENT } from '../../shared/api.js';
import { defaultLibraryDir, packageRoot } from '../core/paths.js';
import { LibraryService } from '../core/service/library-service.js';
import { utilityProcessLauncher } from './indexer-launcher.js';
import { registerApiHandlers } from './ipc.js';
import { buildMenu } from './menu.js';
import { APP_ENTRY, APP_ORIGIN, CONTENT_SECURITY_POLICY, handleAppProtocol, handleMediaProtocol, registerPrivilegedSchemes } from './protocol.js';
import { loadWindowState, MIN_HEIGHT, MIN_WIDTH, trackWindowState } from './window-state.js';

const RENDERER_DIR = path.join(packageRoot, 'dist', 'renderer');
const PRELOAD = path.join(packageRoot, 'dist', 'preload', 'preload.cjs');

let mainWindow: BrowserWindow | null = null;
let service: LibraryService | null = null;

registerPrivilegedSchemes();

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
    if (details.url.startsWith(APP_ORIGIN)) headers['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
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

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession();
  lockDownWebContents();

  const userData = app.getPath('userData');
  try {
    service = await LibraryService.open({
      libraryDir: defaultLibraryDir(),
      modelsDir: path.join(userData, 'models'),
      launchIndexer: utilityProcessLauncher,
      pickFolder,
      moveToTrash: (file) => shell.trashItem(file),
    });
  } catch (error) {
    dialog.showErrorBox('Photo Search cannot open its library', (error as Error).message);
    app.exit(1);
    return;
  }
  const api = service;

  handleAppProtocol(RENDERER_DIR);
  handleMediaProtocol((kind, photoId) => api.resolveMedia(kind, photoId));
  registerApiHandlers(api);
  api.onEvent((event) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT, event);
  });

  Menu.setApplicationMenu(buildMenu({
    addFolder: () => {
      void pickFolder().then((folder) => (folder ? api.addFolder(folder) : null)).catch((error: Error) => dialog.showErrorBox('Cannot add the folder', error.message));
    },
    startIndexing: () => void api.startIndexing().catch((error: Error) => dialog.showErrorBox('Cannot start indexing', error.message)),
    pauseIndexing: () => void api.pauseIndexing(),
    openDataFolder: () => void shell.openPath(defaultLibraryDir()),
  }));

  mainWindow = createMainWindow();
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createMainWindow();
    else showMainWindow();
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', showMainWindow);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Stop the indexer and close the catalogue cleanly before exiting.
  let closing = false;
  app.on('will-quit', (event) => {
    if (!service || closing) return;
    event.preventDefault();
    closing = true;
    const current = service;
    service = null;
    void current.close().catch((error: Error) => console.error('closing the library:', error.message)).finally(() => app.quit());
  });
  void start();
}
