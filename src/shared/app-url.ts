// The desktop app's own page lives at photo-search-app://app/…. A WHATWG URL with a custom scheme has the
// origin "null" (new URL('photo-search-app://app/x').origin === 'null' in every Node and Chromium), so
// comparing origins would refuse our own page; the scheme and host are what identify it.
export const APP_SCHEME = 'photo-search-app';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** True for a URL of the app's own page (any path), false for anything else or a malformed URL. */
export function isAppPageUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && !parsed.username && !parsed.password;
  } catch {
    return false;
  }
}
