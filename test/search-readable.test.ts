// Results a person can read (issue 11): the relevance cutoff and its honest count, every ranked photo on
// request, sort by date, and hybrid ranking that lifts photos a query word names by tag, file name or date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { bestMatchCount, RELATIVE_MARGIN } from '../src/main/core/search/search-engine.js';
import { queryWords } from '../src/main/core/catalogue/words.js';
import { searchRequestSchema } from '../src/shared/api-schema.js';
import { indexToTheEnd } from './helpers/service.js';
import { tempDir } from './helpers/fixtures.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

const BIN = fileURLToPath(new URL('../../bin/photo-search.js', import.meta.url));

test('the cutoff keeps scores within the relative margin of the top one', () => {
  assert.equal(RELATIVE_MARGIN, 0.1);
  // CLIP-like text scores: 0.32 top, floor 0.288.
  assert.equal(bestMatchCount([0.32, 0.31, 0.295, 0.289, 0.28, 0.21, 0.2]), 4);
  assert.equal(bestMatchCount([0.3]), 1);
  assert.equal(bestMatchCount([]), 0);
  assert.deepEqual(queryWords('Paris, 2019 the IMG_2041 at wedding!'), ['paris', '2019', 'img_2041', 'wedding']);
  assert.equal(searchRequestSchema.safeParse({ query: 'x', sort: 'size' }).success, false);
  assert.equal(searchRequestSchema.safeParse({ query: 'x', sort: 'date', scope: 'all' }).success, true);
});

test('best matches with an honest count, more on request, sorted by date, and word matches fused in', async (t) => {
  const root = tempDir(t, 'search-readable-');
  const photos = path.join(root, 'Photos');
  mkdirSync(path.join(photos, 'trips'), { recursive: true });
  const files: Record<string, string> = {
    red: 'DSC_0.jpg', orange: 'DSC_1.jpg', green: 'DSC_2.jpg', blue: 'trips/IMG_2041.jpg', yellow: 'DSC_4.jpg',
    purple: 'DSC_5.jpg', grey: 'DSC_6.jpg', cyan: 'DSC_7.jpg', magenta: 'DSC_8.jpg', white: 'DSC_9.jpg',
  };
  const colours = Object.keys(files);
  for (const [i, colour] of colours.entries()) {
    const file = path.join(photos, files[colour]);
    await writeSolidPhoto(file, COLOURS[colour], 32);
    const when = new Date(Date.UTC(2015 + i, (i * 5) % 12, 10)); // one photo a year, 2015..2024
    utimesSync(file, when, when);
  }
  const service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  t.after(() => service.close());
  await service.useModelFolder(await buildTestModel(path.join(root, 'model')));
  await service.addFolder(photos);
  await indexToTheEnd(service);
  const idOf = async (colour: string) => (await service.search({ query: colour, limit: 1 })).items[0].id;

  // The cutoff: a bounded set of best matches, counted honestly; every ranked photo on request.
  const best = await service.search({ query: 'red', limit: 100 });
  const all = await service.search({ query: 'red', limit: 100, scope: 'all' });
  assert.equal(all.total, colours.length);
  assert.equal(all.ranked, colours.length);
  assert.equal(best.total, best.best);
  assert.equal(best.items.length, best.total);
  assert.ok(best.total! >= 1 && best.total < colours.length, `best ${best.total} of ${colours.length}`);
  const top = all.items[0].score!;
  assert.equal(path.basename(all.items[0].path), files.red);
  assert.equal(best.total, all.items.filter((p) => p.score! >= top * (1 - RELATIVE_MARGIN)).length);
  assert.deepEqual(best.items.map((p) => p.id), all.items.slice(0, best.total).map((p) => p.id));
  const paged = await service.search({ query: 'red', offset: 4, limit: 3, scope: 'all' });
  assert.deepEqual(paged.items.map((p) => p.id), all.items.slice(4, 7).map((p) => p.id), 'paging beyond the cutoff');

  // Sort by date: the same photos, newest first.
  const byDate = await service.search({ query: 'red', limit: 100, scope: 'all', sort: 'date' });
  assert.deepEqual(byDate.items.map((p) => p.id).sort(), all.items.map((p) => p.id).sort());
  const details = await Promise.all(byDate.items.map((p) => service.getPhoto(p.id)));
  const dates = details.map((d) => d.takenAt ?? d.mtimeMs);
  assert.deepEqual(dates, [...dates].sort((a, b) => b - a), 'newest first');
  assert.equal(path.basename(byDate.items[0].path), files.white); // 2024
  const similarByDate = await service.findSimilar({ photoId: all.items[0].id, scope: 'all', sort: 'date', limit: 100 });
  assert.equal(similarByDate.total, colours.length - 1);

  // Hybrid ranking: a tag, a file name and a year lift photos the vector ranking put low.
  const low = all.items.at(-1)!;
  assert.ok(!best.items.some((p) => p.id === low.id));
  await service.addTags([low.id], ['wedding']);
  const tagged = await service.search({ query: 'red wedding', limit: 100 });
  assert.equal(tagged.items[0].id, low.id, 'the tagged photo is lifted to the top');
  assert.deepEqual(tagged.items[0].matched, ['tag']);
  assert.equal(tagged.total, best.total + 1, 'and counted among the best matches');
  assert.ok(tagged.items.slice(1).every((p) => p.matched === undefined));

  // A tag edit is seen by the same query asked again; removing the tag takes the lift away.
  await service.removeTags([low.id], ['wedding']);
  assert.ok(!(await service.search({ query: 'red wedding', limit: 100 })).items.some((p) => p.id === low.id));
  await service.addTags([low.id], ['wedding']);
  assert.equal((await service.search({ query: 'red wedding', limit: 100 })).items[0].id, low.id);

  const blue = await idOf('blue');
  const named = await service.search({ query: 'red IMG_2041', limit: 100 });
  assert.equal(named.items[0].id, blue);
  assert.deepEqual(named.items[0].matched, ['name']);
  const folder = await service.search({ query: 'red trips', limit: 100 });
  assert.deepEqual(folder.items[0].matched, ['name'], 'a folder name matches too');

  const year = await service.search({ query: 'red 2019', limit: 100 });
  assert.equal(year.items[0].id, await idOf('yellow'), 'the 2019 photo is lifted');
  assert.deepEqual(year.items[0].matched, ['date']);
  assert.equal(year.items.filter((p) => p.matched).length, 1);
  const month = await service.search({ query: 'red july', limit: 100 }); // 2021-07-10: grey
  assert.equal(month.items[0].id, await idOf('grey'));
  assert.deepEqual(month.items[0].matched, ['date']);

  // The CLI: best matches by default, every ranked photo with --all, newest first with --sort date, and --json
  // items carrying the matched fields.
  const cli = (...args: string[]) => {
    const run = spawnSync(process.execPath, [BIN, 'search', ...args, '--library', path.join(root, 'library')], {
      encoding: 'utf8', env: { ...process.env, PHOTO_SEARCH_HOME: path.join(root, 'home') },
    });
    assert.equal(run.status, 0, run.stderr);
    return run;
  };
  const plain = cli('red');
  assert.match(plain.stderr, new RegExp(`${best.best} best match(es)? of ${colours.length} ranked`));
  assert.equal(plain.stdout.trim().split('\n').length, best.best);
  const newestFirst = JSON.parse(cli('red', '--all', '--sort', 'date', '-k', '100', '--json').stdout) as { path: string; matched: string[] }[];
  assert.deepEqual(newestFirst.map((r) => r.path), byDate.items.map((p) => p.path));
  const fused = JSON.parse(cli('red', 'wedding', '--json').stdout) as { id: number; matched: string[] }[];
  assert.deepEqual([fused[0].id, fused[0].matched], [low.id, ['tag']]);
  assert.deepEqual(fused[1].matched, []);
  const refused = spawnSync(process.execPath, [BIN, 'search', 'red', '--sort', 'size', '--library', path.join(root, 'library')], { encoding: 'utf8' });
  assert.equal(refused.status, 2, refused.stderr);
});
