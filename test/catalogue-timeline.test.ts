// The date scrubber's scale: visible photos per month of their browse date (taken, else file time; UTC),
// newest first, empty months left out, missing photos excluded, filters applied, fresh after changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Catalogue } from '../src/main/core/catalogue/catalogue.js';
import { parseApiCall } from '../src/shared/api-schema.js';
import { tempDir } from './helpers/fixtures.js';

test('timeline counts photos per month, newest first, without missing photos', (t) => {
  const catalogue = new Catalogue(path.join(tempDir(t, 'timeline-'), 'catalogue.sqlite'));
  t.after(() => catalogue.close());
  const dates = [
    ...Array(3).fill(Date.UTC(2023, 11, 31, 23, 59, 59, 999)), // December 2023, its last millisecond
    ...Array(2).fill(Date.UTC(2024, 0, 1)), // January 2024, its first
    Date.UTC(2024, 0, 15),
    ...Array(4).fill(Date.UTC(2021, 5, 10)), // June 2021
    Date.UTC(2019, 1, 28, 12), // February 2019
    Date.UTC(1969, 6, 20), // before the epoch
  ];
  catalogue.insertPhotos(dates.map((mtimeMs, i) => ({ folderId: null, path: `/p/${i}.jpg`, size: 1, mtimeMs })));
  // A taken time wins over the file time: photo 12 (file time 1969) was taken in March 2022.
  catalogue.db.prepare('UPDATE photos SET taken_at = ? WHERE id = 12').run(Date.UTC(2022, 2, 3));
  assert.deepEqual(catalogue.timeline({}), [
    { year: 2024, month: 1, count: 3 },
    { year: 2023, month: 12, count: 3 },
    { year: 2022, month: 3, count: 1 },
    { year: 2021, month: 6, count: 4 },
    { year: 2019, month: 2, count: 1 },
  ]);
  // Missing photos leave the counts (and a month with none left goes); the answer is not a stale cache.
  catalogue.markMissing([11, 7]);
  const after = catalogue.timeline({});
  assert.deepEqual(after, [
    { year: 2024, month: 1, count: 3 },
    { year: 2023, month: 12, count: 3 },
    { year: 2022, month: 3, count: 1 },
    { year: 2021, month: 6, count: 3 },
  ]);
  assert.equal(after.reduce((sum, m) => sum + m.count, 0), catalogue.browse({}, 0, 1).total);
  // The counts follow the filters, as browsing does.
  catalogue.setRating([1, 4, 8], 4);
  assert.deepEqual(catalogue.timeline({ minRating: 4 }), [
    { year: 2024, month: 1, count: 1 },
    { year: 2023, month: 12, count: 1 },
    { year: 2021, month: 6, count: 1 },
  ]);
  assert.deepEqual(catalogue.timeline({ dateFrom: Date.UTC(2022, 0, 1), dateTo: Date.UTC(2023, 11, 31, 23, 59, 59, 999) }), [
    { year: 2023, month: 12, count: 3 },
    { year: 2022, month: 3, count: 1 },
  ]);
  const empty = new Catalogue(path.join(tempDir(t, 'timeline-empty-'), 'catalogue.sqlite'));
  t.after(() => empty.close());
  assert.deepEqual(empty.timeline({}), []);
});

test('getTimeline takes one filters object, validated as search filters are', () => {
  assert.deepEqual(parseApiCall('getTimeline', [{ minRating: 3, folderId: 2 }]).args, [{ minRating: 3, folderId: 2 }]);
  assert.throws(() => parseApiCall('getTimeline', []), /invalid arguments for getTimeline/);
  assert.throws(() => parseApiCall('getTimeline', [{ minRating: 9 }]), /invalid arguments for getTimeline/);
  assert.throws(() => parseApiCall('getTimeline', [{ sql: '1' }]), /invalid arguments for getTimeline/);
});
