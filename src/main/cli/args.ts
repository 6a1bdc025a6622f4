// Small shared helpers for CLI commands.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { defaultLibraryDir } from '../core/paths.js';

export class UsageError extends Error {}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, library: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function libraryDirFrom(value: unknown): string {
  return typeof value === 'string' && value ? path.resolve(value) : defaultLibraryDir();
}

export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${String(value)}`);
  return n;
}
