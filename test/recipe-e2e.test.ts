// The first user's path, end to end through the real CLI: a library embeds part of the photos and exports
// them; a fresh library registers every photo path, imports the recipe, and `index` then embeds only the
// photos still missing. Uses the tiny test model (no real CLIP weights here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/fixtures.js';
import { buildTestModel, writeSolidPhoto } from './helpers/test-model.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/photo-search.js');

test('recipe e2e: export 10 embedded photos, import into a library of 30, index embeds exactly the other 20', async (t) => {
  const root = tempDir(t, 'recipe-e2e-');
  const modelsDir = path.join(root, 'models');
  const modelDir = await buildTestModel(path.join(modelsDir, 'tiny-clip'), { dim: 8 });
  const photos = path.join(root, 'photos');
  const all: string[] = [];
  for (let i = 0; i < 30; i++) {
    const part = i < 10 ? 'part1' : 'part2';
    mkdirSync(path.join(photos, part), { recursive: true });
    all.push(await writeSolidPhoto(path.join(photos, part, `p${i}.jpg`), [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], 48));
  }
  const env = { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_HOME: path.join(root, 'home') };
  const cli = (...args: string[]) => {
    const run = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
    assert.equal(run.status, 0, `photo-search ${args.join(' ')}\n${run.stdout}\n${run.stderr}`);
    return run.stdout;
  };

  const libA = path.join(root, 'lib-a');
  const first = JSON.parse(cli('index', path.join(photos, 'part1'), '--model', modelDir, '--json', '--library', libA));
  assert.equal(first.embedded, 10);
  const recipe = path.join(root, 'recipe');
  assert.match(cli('export', '--out', recipe, '--library', libA), /exported 10 vectors \(8-d, model tiny-clip\)/);
  const exported = readFileSync(path.join(recipe, 'file_paths.txt'), 'utf8').trim().split('\n');
  assert.deepEqual(exported.sort(), all.slice(0, 10).sort());

  // Library B: all 30 photo paths registered first (the seed's database registration), then the vectors.
  const libB = path.join(root, 'lib-b');
  const list = path.join(root, 'all-paths.txt');
  writeFileSync(list, all.join('\n') + '\n');
  assert.match(cli('import', '--paths', list, '--library', libB), /registered 30 new/);
  const imported = cli('import', '--dir', recipe, '--model-id', 'tiny-clip', '--library', libB);
  assert.match(imported, /vectors stored: 10/);
  assert.match(imported, /photos left to embed with this model: 20/);
  const second = JSON.parse(cli('index', photos, '--model', modelDir, '--json', '--library', libB));
  assert.equal(second.embedded, 20, 'only the photos without an imported vector are embedded');
  assert.equal(second.library.embedded, 30);
  assert.equal(second.library.pending, 0);

  // And everything comes out again in the same form.
  const again = path.join(root, 'recipe-b');
  assert.match(cli('export', '--out', again, '--library', libB), /exported 30 vectors/);
  assert.deepEqual(readFileSync(path.join(again, 'file_paths.txt'), 'utf8').trim().split('\n').sort(), [...all].sort());
});
