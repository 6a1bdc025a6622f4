// The application menu: standard roles plus "Add Folder…" and the indexing controls.
import { app, Menu, shell, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  addFolder(): void;
  startIndexing(): void;
  pauseIndexing(): void;
  openDataFolder(): void;
}

export function buildMenu(actions: MenuActions): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.addFolder() },
        { type: 'separator' },
        { label: 'Start Indexing', click: () => actions.startIndexing() },
        { label: 'Pause Indexing', click: () => actions.pauseIndexing() },
        { type: 'separator' },
        { label: 'Show Library Data Folder', click: () => actions.openDataFolder() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        { role: 'reload' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'About Photo Search', click: () => app.showAboutPanel() },
        { label: 'Where Are My Photos Stored?', click: () => actions.openDataFolder() },
        { type: 'separator' },
        { label: 'Open Logs Folder', click: () => void shell.openPath(app.getPath('logs')) },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
