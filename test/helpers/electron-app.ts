// Drives the real desktop app: an Electron binary named by ELECTRON_PATH (CI fetches Electron 25.1.1 with
// scripts/fetch-test-electron.mjs), started by Playwright's Electron launcher under Xvfb. It runs exactly the
// compiled main, preload and renderer that the package ships, from this checkout or from a packaged build.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ElectronApplication } from 'playwright-core';
import { packageRoot } from '../../src/main/core/paths.js';

export const ELECTRON_PATH = process.env.ELECTRON_PATH ?? '';

export function electronSkipReason(): string | null {
  if (!ELECTRON_PATH) return 'ELECTRON_PATH is not set: the desktop-app suite needs an Electron binary (node scripts/fetch-test-electron.mjs DIR prints one)';
  if (!existsSync(ELECTRON_PATH)) return `ELECTRON_PATH names no file: ${ELECTRON_PATH}`;
  if (!process.env.DISPLAY && !existsSync('/usr/bin/Xvfb')) return 'no display and no Xvfb (apt-get install xvfb)';
  return null;
}

/**
 * An Electron without default_app runs whatever resources/app holds. A folder of hard links to the fetched
 * Electron (so the fetched one stays clean for packaging) gets resources/app pointing at this checkout.
 */
export function binaryForCheckout(electronPath: string, appDir = packageRoot): string {
  const dist = path.dirname(electronPath);
  if (existsSync(path.join(dist, 'resources', 'default_app.asar'))) throw new Error(`${electronPath} has a default_app: pass the app folder instead`);
  const name = appDir === packageRoot ? 'app' : createHash('sha256').update(appDir).digest('hex').slice(0, 12);
  const shadow = path.join(os.tmpdir(), `photo-search-electron-${process.getuid?.() ?? 0}-${name}`);
  const link = path.join(shadow, 'resources', 'app');
  if (!existsSync(path.join(shadow, path.basename(electronPath)))) {
    rmSync(shadow, { recursive: true, force: true });
    mkdirSync(path.dirname(shadow), { recursive: true });
    const copy = spawnSync('cp', ['-al', dist, shadow]);
    if (copy.status !== 0) spawnSync('cp', ['-a', dist, shadow]);
  }
  if (lstatSync(link, { throwIfNoEntry: false })) rmSync(link, { recursive: true, force: true });
  symlinkSync(appDir, link, 'dir');
  return path.join(shadow, path.basename(electronPath));
}

let xvfb: ChildProcess | null = null;

/** The DISPLAY to use: the caller's, or a private Xvfb started on first use (stopped by stopDisplay). */
export async function ensureDisplay(): Promise<string> {
  if (process.env.DISPLAY) return process.env.DISPLAY;
  const server = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  xvfb = server;
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    server.stdio[3]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
    server.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  return display;
}

export function stopDisplay(): void {
  xvfb?.kill();
  xvfb = null;
}

export interface LaunchOptions {
  executablePath: string;
  display: string;
  env: Record<string, string>;
  args?: string[];
}

export async function launchApp(options: LaunchOptions): Promise<{ app: ElectronApplication; log: string[] }> {
  const { _electron } = await import('playwright-core');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== 'ELECTRON_RUN_AS_NODE') env[key] = value;
  const app = await _electron.launch({
    executablePath: options.executablePath,
    args: ['--no-sandbox', '--disable-gpu', ...(options.args ?? [])],
    env: { ...env, DISPLAY: options.display, PHOTO_SEARCH_NODE: process.execPath, ...options.env },
    timeout: 30_000,
  });
  const log: string[] = [];
  app.process().stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  app.process().stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  return { app, log };
}

/** Pids and command lines of a process's direct children (Linux ps). */
export function childProcesses(pid: number): { pid: number; command: string }[] {
  const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [id, ...rest] = line.split(/\s+/);
    return { pid: Number(id), command: rest.join(' ') };
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
