// Remembers the main window's size, position and maximised state in userData/window-state.json,
// and ignores a saved position that no longer lies on any display (a monitor was unplugged).
import { screen, type BrowserWindow, type Rectangle } from 'electron';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';

export interface WindowState {
  bounds: Rectangle;
  maximized: boolean;
}

const DEFAULT_STATE: WindowState = { bounds: { x: 0, y: 0, width: 1280, height: 820 }, maximized: false };
const MIN_WIDTH = 640;
const MIN_HEIGHT = 480;

function isRectangle(value: unknown): value is Rectangle {
  const r = value as Rectangle;
  return !!r && [r.x, r.y, r.width, r.height].every((n) => Number.isFinite(n)) && r.width >= MIN_WIDTH && r.height >= MIN_HEIGHT;
}

function visibleOnSomeDisplay(bounds: Rectangle): boolean {
  return screen.getAllDisplays().some(({ workArea: area }) =>
    bounds.x < area.x + area.width - 50 && bounds.x + bounds.width > area.x + 50 && bounds.y >= area.y - 10 && bounds.y < area.y + area.height - 50);
}

export function loadWindowState(userDataDir: string): WindowState & { hasPosition: boolean } {
  try {
    const saved = JSON.parse(readFileSync(path.join(userDataDir, 'window-state.json'), 'utf8')) as Partial<WindowState>;
    if (isRectangle(saved.bounds)) {
      return { bounds: saved.bounds, maximized: saved.maximized === true, hasPosition: visibleOnSomeDisplay(saved.bounds) };
    }
  } catch {
    /* first run, or an unreadable file: use the defaults */
  }
  return { ...DEFAULT_STATE, hasPosition: false };
}

/** Saves the state whenever the window settles (debounced) and when it closes. */
export function trackWindowState(window: BrowserWindow, userDataDir: string): void {
  const file = path.join(userDataDir, 'window-state.json');
  let timer: ReturnType<typeof setTimeout> | null = null;
  const save = () => {
    timer = null;
    if (window.isDestroyed()) return;
    const state: WindowState = { bounds: window.getNormalBounds(), maximized: window.isMaximized() };
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(state));
      renameSync(`${file}.tmp`, file);
    } catch (error) {
      console.warn('could not save the window state:', (error as Error).message);
    }
  };
  const later = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  window.on('resize', later);
  window.on('move', later);
  window.on('maximize', later);
  window.on('unmaximize', later);
  window.on('close', () => {
    if (timer) clearTimeout(timer);
    save();
  });
}

export { MIN_WIDTH, MIN_HEIGHT };
