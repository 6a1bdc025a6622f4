// Commands that only read a library refuse a library path with no library, instead of creating an empty
// one and reporting zeros.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Library, LibraryNotFoundError } from '../src/main/core/library.js';
import { tempDir } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/photo-search.js', import.meta.url));

test('cli: read-only commands on a mistyped library path say so and create nothing', (t) => {
  const root = tempDir(t, 'cli-readonly-');
  const real = path.join(root, 'library');
  Library.open(real).close();
  const typo = path.join(root, 'libary');
  const commands = [
    ['status'],
    ['status', '--json'],
    ['search', 'a dog'],
    ['export', '--out', path.join(root, 'out')],
    ['duplicates'],
  ];
  for (const args of commands) {
    const run = spawnSync(process.execPath, [BIN, ...args, '--library', typo], { encoding: 'utf8', env: { ...process.env, PHOTO_SEARCH_LIBRARY: '' } });
    assert.equal(run.status, 1, `${args.join(' ')}: exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, new RegExp(`photo-search ${args[0]}: no library at ${typo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(no catalogue\\.sqlite there\\)`));
    assert.equal(run.stdout, '', 'no zeros reported');
    assert.ok(!existsSync(typo), `${args.join(' ')} created ${typo}`);
    assert.ok(!existsSync(path.join(root, 'out')), 'nor an export folder');
  }
  // The real library still answers.
  const status = spawnSync(process.execPath, [BIN, 'status', '--json', '--library', real], { encoding: 'utf8' });
  assert.equal(status.status, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as { photos: number }).photos, 0);
});

test('library: openExisting refuses a folder without a catalogue; open still creates one', (t) => {
  const root = tempDir(t, 'cli-open-');
  assert.throws(() => Library.openExisting(path.join(root, 'nope')), LibraryNotFoundError);
  assert.ok(!existsSync(path.join(root, 'nope')));
  Library.open(path.join(root, 'new')).close();
  Library.openExisting(path.join(root, 'new')).close();
});
