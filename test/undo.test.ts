// The undo history of rating and tag edits (migration 7): undo puts back exactly what each edit replaced
// (mixed previous ratings, tags added only where missing, removed only where present), never overwrites a
// later edit, joins the chunks of one selection into one edit, keeps the last EDIT_HISTORY edits, and
// survives closing and reopening the catalogue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Catalogue, EDIT_HISTORY } from '../src/main/core/catalogue/catalogue.js';
import { ApiInputError, parseApiCall } from '../src/shared/api-schema.js';
import { prng, tempDir } from './helpers/fixtures.js';

/** Every photo's rating (0: none), in id order. */
function ratings(catalogue: Catalogue): number[] {
  return catalogue.db.prepare('SELECT coalesce(r.rating, 0) FROM photos p LEFT JOIN ratings r ON r.photo_id = p.id ORDER BY p.id').pluck().all() as number[];
}

/** Every photo's tags, sorted, in id order. */
function tags(catalogue: Catalogue, count: number): string[][] {
  const map = catalogue.tagsFor(Array.from({ length: count }, (_, i) => i + 1));
  return Array.from({ length: count }, (_, i) => map.get(i + 1) ?? []);
}

function tagNames(catalogue: Catalogue): string[] {
  return catalogue.db.prepare('SELECT name FROM tags ORDER BY name').pluck().all() as string[];
}

function openWithPhotos(t: Parameters<typeof tempDir>[0], count: number): { catalogue: Catalogue; file: string; ids: number[] } {
  const file = path.join(tempDir(t, 'undo-'), 'catalogue.sqlite');
  const catalogue = new Catalogue(file);
  catalogue.insertPhotos(Array.from({ length: count }, (_, i) => ({ folderId: null, path: `/p/${i}.jpg`, size: 1, mtimeMs: i })));
  return { catalogue, file, ids: Array.from({ length: count }, (_, i) => i + 1) };
}

test('undo restores each photo\'s own previous rating, from a mixed start', (t) => {
  const { catalogue, ids } = openWithPhotos(t, 300);
  t.after(() => catalogue.close());
  const random = prng(10);
  for (const id of ids) {
    const rating = Math.floor(random() * 6);
    if (rating) catalogue.setRating([id], rating);
  }
  const before = ratings(catalogue);
  assert.ok(new Set(before).size === 6, 'every rating 0–5 occurs');

  const rated = catalogue.setRating(ids, 2);
  assert.equal(rated.changed, before.filter((r) => r !== 2).length, 'only photos whose rating changes are journaled');
  assert.deepEqual(ratings(catalogue), ids.map(() => 2));
  const cleared = catalogue.setRating(ids, 0);
  assert.deepEqual(ratings(catalogue), ids.map(() => 0));
  assert.notEqual(cleared.editId, rated.editId);

  const undoClear = catalogue.undoLast();
  assert.equal(undoClear?.edit.id, cleared.editId);
  assert.equal(undoClear?.restored, ids.length);
  assert.deepEqual(ratings(catalogue), ids.map(() => 2), 'undoing "0" brings back the 2s');
  const undoRate = catalogue.undoLast();
  assert.deepEqual({ kind: undoRate?.edit.kind, rating: undoRate?.edit.rating, skipped: undoRate?.skipped }, { kind: 'rating', rating: 2, skipped: 0 });
  assert.deepEqual(ratings(catalogue), before, 'every photo has its own rating back');

  // The single ratings made at the start are edits too; the history kept the newest of them beside the two
  // bulk edits, which are gone now that they are undone.
  assert.equal(catalogue.listEdits().length, EDIT_HISTORY - 2);
  // A rating that changes nothing records nothing.
  const first = ids.find((id) => before[id - 1] === 3)!;
  assert.deepEqual(catalogue.setRating([first], 3), { editId: null, changed: 0 });
});

test('undo of tags: added links go only where they were missing, removed ones only where they were present', (t) => {
  const { catalogue, ids } = openWithPhotos(t, 6);
  t.after(() => catalogue.close());
  catalogue.addTags([1, 2], ['Sea']);
  catalogue.addTags([2, 3], ['ים']);
  const start = tags(catalogue, 6);

  // "sea" is the tag "Sea" (tags ignore case): photos 1 and 2 have it already, 3–6 gain it.
  const added = catalogue.addTags(ids, ['sea', 'new tag']);
  assert.equal(added.changed, 4 + 6);
  assert.deepEqual(catalogue.listEdits()[0].tags, ['Sea', 'new tag'], 'the edit names the tags as the catalogue spells them');
  const undoAdd = catalogue.undoEdit(added.editId!);
  assert.deepEqual(undoAdd.restored, 10);
  assert.deepEqual(tags(catalogue, 6), start, 'photos 1 and 2 keep the "Sea" they had');
  assert.deepEqual(tagNames(catalogue), ['Sea', 'ים'], 'a tag the edit created goes with it');

  // Removing "Sea" from everything deletes the tag itself; undo brings it back, spelled as it was, on 1 and 2 only.
  const removed = catalogue.removeTags(ids, ['SEA', 'ים', 'no such tag']);
  assert.equal(removed.changed, 4);
  assert.deepEqual(tagNames(catalogue), []);
  assert.deepEqual(catalogue.undoLast()?.restored, 4);
  assert.deepEqual(tags(catalogue, 6), start);
  assert.deepEqual(tagNames(catalogue), ['Sea', 'ים']);

  // Removing a tag nobody has is no edit.
  assert.deepEqual(catalogue.removeTags(ids, ['absent']), { editId: null, changed: 0 });
});

test('undoing an older edit leaves what later edits changed; undoing newest first restores everything', (t) => {
  const { catalogue } = openWithPhotos(t, 4);
  t.after(() => catalogue.close());
  catalogue.setRating([1], 5);
  const history = catalogue.listEdits().length;
  const a = catalogue.setRating([1, 2, 3], 3); // 1: 5 → 3, 2 and 3: 0 → 3
  const b = catalogue.setRating([2], 4); // 2: 3 → 4, later
  const result = catalogue.undoEdit(a.editId!);
  assert.deepEqual({ restored: result.restored, skipped: result.skipped }, { restored: 2, skipped: 1 });
  assert.deepEqual(ratings(catalogue), [5, 4, 0, 0], 'photo 2 keeps the later 4');
  assert.throws(() => catalogue.undoEdit(a.editId!), ApiInputError, 'an edit is undone once');
  catalogue.undoEdit(b.editId!);
  assert.deepEqual(ratings(catalogue), [5, 3, 0, 0], 'what b replaced');
  assert.equal(catalogue.listEdits().length, history);
});

test('chunks of one selection join one edit while it is the newest and the same change', (t) => {
  const { catalogue, ids } = openWithPhotos(t, 10);
  t.after(() => catalogue.close());
  catalogue.setRating([1, 2], 1);
  const first = catalogue.setRating(ids.slice(0, 5), 4);
  const second = catalogue.setRating(ids.slice(5), 4, first.editId);
  assert.equal(second.editId, first.editId);
  assert.equal(catalogue.listEdits()[0].changed, 10);
  // Not the same change, or not the newest edit: a new edit.
  const other = catalogue.setRating([1], 2, first.editId);
  assert.notEqual(other.editId, first.editId);
  assert.notEqual(catalogue.setRating([2], 2, first.editId).editId, first.editId);
  assert.notEqual(catalogue.addTags([1], ['x'], first.editId).editId, first.editId);
  const tagged = catalogue.addTags([1, 2], ['x', 'y']);
  assert.equal(catalogue.addTags([3], ['y', 'x'], tagged.editId).editId !== tagged.editId, true, 'another tag list is another change');
  assert.equal(catalogue.addTags([4], ['x', 'y'], null).editId !== tagged.editId, true);

  while (catalogue.listEdits().length > 1) catalogue.undoLast();
  assert.deepEqual(ratings(catalogue), [1, 1, 0, 0, 0, 0, 0, 0, 0, 0], 'one undo took back both chunks');
  assert.deepEqual(tags(catalogue, 10).flat(), []);
});

test('the history keeps the last EDIT_HISTORY edits and their journal only', (t) => {
  const { catalogue, ids } = openWithPhotos(t, 50);
  t.after(() => catalogue.close());
  const made: number[] = [];
  for (let i = 0; i < EDIT_HISTORY + 5; i++) made.push(catalogue.setRating(ids, (i % 5) + 1).editId!);
  const kept = catalogue.listEdits().map((e) => e.id);
  assert.deepEqual(kept, made.slice(-EDIT_HISTORY).reverse());
  const journalled = catalogue.db.prepare('SELECT DISTINCT edit_id FROM edit_ratings ORDER BY edit_id').pluck().all();
  assert.deepEqual(journalled, made.slice(-EDIT_HISTORY), 'forgotten edits leave no journal rows');
  assert.throws(() => catalogue.undoEdit(made[0]), /older than the last 20 edits/);
  let undone = 0;
  while (catalogue.undoLast()) undone++;
  assert.equal(undone, EDIT_HISTORY);
  assert.equal(catalogue.undoLast(), null);
  // Back to the rating of the oldest edit still kept, which replaced the one before it.
  assert.deepEqual(new Set(ratings(catalogue)), new Set([(4 % 5) + 1]), 'the rating set by the newest forgotten edit (the 5th)');
  // Ids are never reused: a stale Undo button cannot reach a newer edit.
  const next = catalogue.setRating(ids, 1).editId!;
  assert.ok(next > made.at(-1)!);
});

test('the history survives closing and reopening the catalogue', (t) => {
  const { catalogue, file, ids } = openWithPhotos(t, 20);
  catalogue.setRating(ids.slice(0, 10), 3);
  catalogue.addTags(ids.slice(5), ['kept']);
  const before = { ratings: ratings(catalogue), tags: tags(catalogue, 20) };
  catalogue.setRating(ids, 1);
  catalogue.removeTags(ids, ['kept']);
  catalogue.close();

  const reopened = new Catalogue(file);
  t.after(() => reopened.close());
  assert.deepEqual(reopened.listEdits().map((e) => e.kind), ['untag', 'rating', 'tag', 'rating']);
  reopened.undoLast();
  reopened.undoLast();
  assert.deepEqual({ ratings: ratings(reopened), tags: tags(reopened, 20) }, before);
});

test('a photo deleted after an edit is skipped by its undo', (t) => {
  const { catalogue } = openWithPhotos(t, 3);
  t.after(() => catalogue.close());
  catalogue.setRating([1, 2, 3], 2);
  const edit = catalogue.setRating([1, 2, 3], 4);
  catalogue.db.prepare('DELETE FROM photos WHERE id = 2').run();
  const result = catalogue.undoEdit(edit.editId!);
  assert.deepEqual({ restored: result.restored, skipped: result.skipped }, { restored: 2, skipped: 1 });
  assert.deepEqual(ratings(catalogue), [2, 2]);
});

test('API validation: edits may name the edit they join; undo takes an edit id, undoLast nothing', () => {
  assert.deepEqual(parseApiCall('setRating', [[1, 2], 3]).args, [[1, 2], 3]);
  assert.deepEqual(parseApiCall('setRating', [[1, 2], 3, null]).args, [[1, 2], 3, null]);
  assert.deepEqual(parseApiCall('addTags', [[1], ['a'], 12]).args, [[1], ['a'], 12]);
  assert.deepEqual(parseApiCall('undoEdit', [12]).args, [12]);
  assert.deepEqual(parseApiCall('undoLast', []).args, []);
  assert.deepEqual(parseApiCall('listEdits', []).args, []);
  for (const [method, args] of [
    ['setRating', [[1], 3, 0]], ['removeTags', [[1], ['a'], -2]], ['addTags', [[1], ['a'], 'x']], ['setRating', [[1], 3, 4, 5]],
    ['undoEdit', []], ['undoEdit', [0]], ['undoEdit', ['3']], ['undoEdit', [1.5]], ['undoEdit', [3, 4]], ['undoLast', [1]],
  ] as const) {
    assert.throws(() => parseApiCall(method, args), ApiInputError, `${method} ${JSON.stringify(args)}`);
  }
});
