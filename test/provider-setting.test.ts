// The app's provider setting: validated at the API, stored in the library, used by the next indexing run (in the
// real indexer process), whose progress says which provider ran and why the one asked for did not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { platformProviders, unavailableReason } from '../src/main/core/model/execution-providers.js';
import { parseApiCall } from '../src/shared/api-schema.js';
import { indexToTheEnd } from './helpers/service.js';
import { tempDir } from './helpers/fixtures.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

test('api: setExecutionProvider takes one of auto, cpu, cuda, dml, coreml', () => {
  assert.deepEqual(parseApiCall('setExecutionProvider', ['cuda']).args, ['cuda']);
  assert.deepEqual(parseApiCall('getExecutionProvider', []).args, []);
  assert.throws(() => parseApiCall('setExecutionProvider', ['gpu']), /invalid arguments for setExecutionProvider/);
  assert.throws(() => parseApiCall('setExecutionProvider', []), /invalid arguments for setExecutionProvider/);
});

test('app: the provider setting is kept by the library and the indexing run reports the provider that ran', async (t) => {
  const root = tempDir(t, 'provider-setting-');
  // The indexer process remembers its calibration under the app's data folder: a temporary one here.
  const home = process.env.PHOTO_SEARCH_HOME;
  process.env.PHOTO_SEARCH_HOME = path.join(root, 'home');
  t.after(() => (home === undefined ? delete process.env.PHOTO_SEARCH_HOME : (process.env.PHOTO_SEARCH_HOME = home)));
  const photos = path.join(root, 'photos');
  for (const colour of ['red', 'green', 'blue'] as const) await writeSolidPhoto(path.join(photos, `${colour}.jpg`), COLOURS[colour]);
  const modelDir = await buildTestModel(path.join(root, 'model'));

  let service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  assert.deepEqual(await service.getExecutionProvider(), { choice: 'auto', candidates: platformProviders() });
  assert.deepEqual(await service.setExecutionProvider('cuda'), { choice: 'cuda', candidates: platformProviders() });
  await service.close();
  service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  t.after(() => service.close());
  assert.equal((await service.getExecutionProvider()).choice, 'cuda', 'kept across restarts');

  await service.useModelFolder(modelDir);
  await service.addFolder(photos);
  const progress = await indexToTheEnd(service);
  assert.equal(progress.state, 'done', progress.message);
  const runtime = progress.runtime!;
  assert.equal(runtime.requested, 'cuda');
  if (unavailableReason('cuda') !== null) {
    assert.equal(runtime.provider, 'cpu');
    assert.equal(runtime.fallbacks[0].provider, 'cuda');
    assert.match(runtime.fallbacks[0].reason, /CUDA libraries are not installed/);
  }
  assert.equal(runtime.tuning, 'calibrated', 'the first run on this (temporary) machine profile measures');
  assert.equal((await service.getIndexingProgress()).runtime?.provider, runtime.provider, 'still shown after the run');
});
