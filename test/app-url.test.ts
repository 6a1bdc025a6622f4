// The Electron IPC guard accepts our page by scheme and host. Comparing WHATWG origins refused it: every
// custom-scheme URL has the origin "null".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_ENTRY, isAppPageUrl } from '../src/shared/app-url.js';

test('a custom-scheme URL has the origin "null", so origins cannot identify our page', () => {
  assert.equal(new URL(APP_ENTRY).origin, 'null');
  assert.equal(new URL('photo-search-app://evil/index.html').origin, 'null');
});

test('the app page is recognised by scheme and host, at any path', () => {
  assert.equal(APP_ENTRY, 'photo-search-app://app/index.html');
  for (const url of [APP_ENTRY, 'photo-search-app://app/', 'photo-search-app://app/index.html#/viewer/3']) {
    assert.equal(isAppPageUrl(url), true, url);
  }
});

test('anything else is refused', () => {
  for (const url of [
    'photo-search-app://evil/index.html', 'photo-search-app://app.evil/index.html', 'photo-search-app://user:pw@app/index.html',
    'photo-media://app/1', 'https://app/index.html', 'file:///app/index.html', 'http://127.0.0.1:5173/', 'about:blank', '', 'not a url',
    'photo-search-app:app/index.html',
  ]) {
    assert.equal(isAppPageUrl(url), false, url);
  }
});
