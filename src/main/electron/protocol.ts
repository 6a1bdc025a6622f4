// Custom protocols: the UI bundle at photo-search-app://app/… (a secure standard origin rather than
// file://), and catalogued photos at photo-media://thumb/<id> and photo-media://full/<id>.
import { protocol } from 'electron';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MEDIA_PROTOCOL, type MediaKind } from '../../shared/api.js';
import { APP_HOST, APP_SCHEME } from '../../shared/app-url.js';
import type { MediaFile } from '../host/host-client.js';
import { isInside } from '../core/inside.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  `img-src 'self' data: blob: ${MEDIA_PROTOCOL}:`,
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Must run before app 'ready'. */
export function registerPrivilegedSchemes(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: MEDIA_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

function notFound(): Response {
  return new Response('not found', { status: 404, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain' } });
}


/** Serves the built renderer; nothing outside rendererDir, nothing but GET. */
export function handleAppProtocol(rendererDir: string): void {
  const root = path.resolve(rendererDir);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (request.method !== 'GET' || url.host !== APP_HOST) return notFound();
    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname);
    } catch {
      return notFound();
    }
    if (relative === '/' || relative === '') relative = '/index.html';
    const file = path.resolve(root, `.${relative}`);
    if (!isInside(file, root) || file === root || relative.includes('\0')) return notFound();
    try {
      const body = await readFile(file);
      const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
      return new Response(body, { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': type } });
    } catch {
      return notFound();
    }
  });
}

/**
 * photo-media://<thumb|full>/<id>: the id is the only input, and the library host decides what it may serve
 * (only catalogued photos inside library folders). It answers with a file on disk, which is streamed from
 * here: image bytes never travel over IPC.
 */
export function handleMediaProtocol(resolveMedia: (kind: MediaKind, photoId: number) => Promise<MediaFile | null>): void {
  protocol.handle(MEDIA_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    const kind = url.host;
    const match = /^\/([1-9][0-9]{0,15})$/.exec(url.pathname);
    if (request.method !== 'GET' || (kind !== 'thumb' && kind !== 'full') || !match || url.search) return notFound();
    const photoId = Number(match[1]);
    if (!Number.isSafeInteger(photoId)) return notFound();
    const media = await resolveMedia(kind, photoId).catch(() => null);
    if (!media) return notFound();
    const headers = { ...SECURITY_HEADERS, 'content-type': media.contentType, 'cache-control': 'private, max-age=300' };
    const info = await stat(media.path).catch(() => null);
    if (!info?.isFile()) return notFound();
    const stream = Readable.toWeb(createReadStream(media.path)) as ReadableStream<Uint8Array>;
    return new Response(stream, { status: 200, headers: { ...headers, 'content-length': String(info.size) } });
  });
}
