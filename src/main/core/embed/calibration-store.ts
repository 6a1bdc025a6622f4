// Calibration results remembered per machine, model and provider, in `<app data>/calibration.json`. Kept with
// the app's data rather than in a library: the figures belong to this machine, and a library on an external
// disk may be opened on another one; nor beside the model, whose folder may be read-only or shared.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionProvider } from '../../../shared/types.js';
import { appDataDir } from '../paths.js';
import type { Trial } from './calibration.js';

export interface CalibrationKey {
  modelId: string;
  /** Bytes of the image tower's model file: other weights under the same id are measured again. */
  modelBytes: number;
  provider: ExecutionProvider;
}

interface Entry extends Trial {
  modelBytes: number;
  measuredAt: string;
}

interface StoreFile {
  version: 1;
  entries: Record<string, Entry>;
}

export function defaultCalibrationFile(): string {
  return path.join(appDataDir(), 'calibration.json');
}

/** The CPU model, its logical cores and the architecture: what the figures depend on. */
export function machineKey(): string {
  return `${os.cpus()[0]?.model.trim() || 'unknown CPU'} x${os.availableParallelism()} ${os.arch()}`;
}

function entryKey(key: CalibrationKey): string {
  return `${machineKey()}|${key.modelId}|${key.provider}`;
}

/** A missing or unreadable file holds nothing (it is a cache: the next calibration rewrites it). */
function readStore(file: string): StoreFile {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as StoreFile;
    if (parsed?.version === 1 && typeof parsed.entries === 'object' && parsed.entries !== null) return parsed;
  } catch {
    // missing or corrupt
  }
  return { version: 1, entries: {} };
}

function validEntry(entry: Entry | undefined): entry is Entry {
  return !!entry && Number.isInteger(entry.threads) && entry.threads > 0 && Number.isInteger(entry.batchSize) && entry.batchSize > 0;
}

export function rememberedSetting(file: string, key: CalibrationKey): Trial | null {
  const entry = readStore(file).entries[entryKey(key)];
  if (!validEntry(entry) || entry.modelBytes !== key.modelBytes) return null;
  return { threads: entry.threads, batchSize: entry.batchSize, imagesPerSecond: entry.imagesPerSecond };
}

/** Adds or replaces one entry; written to a temporary file and renamed, so a reader never sees half a file. */
export async function rememberSetting(file: string, key: CalibrationKey, best: Trial): Promise<void> {
  const store = readStore(file);
  store.entries[entryKey(key)] = { ...best, modelBytes: key.modelBytes, measuredAt: new Date().toISOString() };
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(store, null, 2) + '\n');
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}
