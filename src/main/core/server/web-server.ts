// Web mode: the same UI and API as the desktop app, served to a browser on this machine only.
// Everything but the static UI bundle needs a random per-run token; requests for other hosts
// (DNS rebinding), other origins, traversal attempts and uncatalogued ids are refused.
import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MediaKind, PhotoSearchApi } from '../../../shared/api.js';
import { ApiInputError, parseApiCall } from '../../../shared/api-schema.js';
import type { ApiEvent } from '../../../shared/types.js';
import { isInside } from '../paths.js';
import type { MediaResponse } from '../service/media.js';

export type { MediaResponse };

/** What the server dispatches to: the API plus pushed events and photo bytes. */
export interface WebServerBackend extends PhotoSearchApi {
  onEvent(listener: (event: ApiEvent) => void): () => void;
  resolveMedia(kind: MediaKind, photoId: number): Promise<MediaResponse | null>;
}

export interface WebServerOptions {
  api: WebServerBackend;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
}

export interface RunningWebServer {
  /** The page to open, token included. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const TOKEN_HEADER = 'x-photo-search-token';
const MAX_BODY_BYTES = 16 * 1024 * 1024; // 1M photo ids as JSON fit
const SSE_HEARTBEAT_MS = 25_000;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page may load only its own scripts, styles and images; no framing, no plugins, no forms elsewhere. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Percent-encoded dots, slashes, backslashes and NULs have no business in our URLs. */
const ENCODED_SEPARATOR = /%(2e|2f|5c|00)/i;

/** Splits a request path into segments, refusing anything that could climb out of a folder. */
export function safePathSegments(rawPath: string): string[] {
  if (!rawPath.startsWith('/') || rawPath.startsWith('//')) throw new HttpError(400, 'bad path');
  if (ENCODED_SEPARATOR.test(rawPath) || rawPath.includes('\\') || rawPath.includes('\0')) throw new HttpError(400, 'bad path');
  const segments = rawPath.slice(1).split('/');
  const decoded = segments.map((segment) => {
    let value: string;
    try {
      value = decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, 'bad path');
    }
    if (value === '.' || value === '..' || value.includes('/') || value.includes('\\') || value.includes('\0')) throw new HttpError(400, 'bad path');
    return value;
  });
  // A trailing slash leaves one empty segment; empty segments anywhere else mean "//".
  if (decoded.slice(0, -1).some((segment) => segment === '')) throw new HttpError(400, 'bad path');
  return decoded;
}

/** A catalogued photo id as it appears in a URL: a positive decimal integer, nothing else. */
function parsePhotoId(text: string | undefined): number {
  if (!text || !/^[1-9][0-9]{0,15}$/.test(text)) throw new HttpError(404, 'not found');
  const id = Number(text);
  if (!Number.isSafeInteger(id)) throw new HttpError(404, 'not found');
  return id;
}

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}


function send(res: http.ServerResponse, status: number, body: string | Buffer, contentType: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', { 'cache-control': 'no-store' });
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const { api } = options;
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(32).toString('base64url');
  const rendererRoot = await realpath(options.rendererDir).catch(() => {
    throw new Error(`the UI is not built (no ${options.rendererDir}): run npm run build:renderer`);
  });
  const eventStreams = new Set<http.ServerResponse>();
  let allowedHosts = new Set<string>();

  function requireToken(req: http.IncomingMessage, url: URL, allowQuery: boolean): void {
    const header = req.headers[TOKEN_HEADER];
    const given = typeof header === 'string' ? header : allowQuery ? url.searchParams.get('token') : null;
    if (!given) throw new HttpError(401, 'missing access token');
    if (!tokensEqual(given, token)) throw new HttpError(403, 'wrong access token');
  }

  /** Browsers send Origin on cross-origin and on POST requests: only our own page may call the API. */
  function requireSameOrigin(req: http.IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpError(403, 'foreign origin');
    }
    if (!allowedHosts.has(originHost)) throw new HttpError(403, 'foreign origin');
  }

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string): Promise<void> {
    if (method === 'events') return handleEvents(req, res, url);
    requireToken(req, url, false);
    requireSameOrigin(req);
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const body = await readBody(req);
    let args: unknown = [];
    if (body.trim()) {
      try {
        args = JSON.parse(body);
      } catch {
        throw new HttpError(400, 'request body is not JSON');
      }
    }
    if (!Array.isArray(args)) throw new HttpError(400, 'request body must be a JSON array of arguments');
    let call: ReturnType<typeof parseApiCall>;
    try {
      call = parseApiCall(method, args);
    } catch (error) {
      if (error instanceof ApiInputError) throw new HttpError(400, error.message);
      throw error;
    }
    try {
      const fn = api[call.method] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn.apply(api, call.args);
      sendJson(res, 200, { ok: true, result: result ?? null });
    } catch (error) {
      // The API's own errors (a folder that does not exist…) are for the user to read.
      const status = error instanceof ApiInputError ? 400 : 500;
      sendJson(res, status, { ok: false, error: (error as Error)?.message ?? String(error) });
    }
  }

  function handleEvents(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    requireToken(req, url, true);
    requireSameOrigin(req);
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    eventStreams.add(res);
    const unsubscribe = api.onEvent((event) => {
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), SSE_HEARTBEAT_MS);
    heartbeat.unref();
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe();
      eventStreams.delete(res);
    };
    req.on('close', stop);
    res.on('error', stop);
  }

  async function handleMedia(req: http.IncomingMessage, res: http.ServerResponse, url: URL, segments: string[]): Promise<void> {
    requireToken(req, url, true);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
    const [, kind, idText, ...rest] = segments;
    if ((kind !== 'thumb' && kind !== 'full') || rest.length > 0) throw new HttpError(404, 'not found');
    const photoId = parsePhotoId(idText);
    const media = await api.resolveMedia(kind, photoId);
    if (!media) throw new HttpError(404, 'not found');
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': media.contentType,
      // Photo bytes are keyed by id; a re-indexed photo keeps its id, so caches revalidate after a while.
      'cache-control': kind === 'thumb' ? 'private, max-age=3600' : 'private, max-age=300',
    };
    const file = media.path;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new HttpError(404, 'not found');
    res.writeHead(200, { ...headers, 'content-length': String(info.size) });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  async function handleStatic(req: http.IncomingMessage, res: http.ServerResponse, segments: string[]): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
    const relative = segments.length === 1 && segments[0] === '' ? 'index.html' : segments.join('/');
    if (relative.endsWith('/')) throw new HttpError(404, 'not found');
    const candidate = path.join(rendererRoot, relative);
    const real = await realpath(candidate).catch(() => null);
    if (!real || !isInside(real, rendererRoot)) throw new HttpError(404, 'not found');
    const info = await stat(real);
    if (!info.isFile()) throw new HttpError(404, 'not found');
    const type = CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream';
    // index.html is tiny and must never be stale; hashed assets can be cached.
    const cache = relative === 'index.html' ? 'no-store' : relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(info.size), 'cache-control': cache });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(real).on('error', () => res.destroy()).pipe(res);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example.
    if (!allowedHosts.has(req.headers.host ?? '')) throw new HttpError(403, 'unexpected Host header');
    const rawUrl = req.url ?? '';
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const segments = safePathSegments(rawPath);
    const url = new URL(rawUrl, `http://${req.headers.host}`);
    if (segments[0] === 'api') {
      if (segments.length !== 2 || !segments[1]) throw new HttpError(404, 'not found');
      return handleApi(req, res, url, segments[1]);
    }
    if (segments[0] === 'media') return handleMedia(req, res, url, segments);
    return handleStatic(req, res, segments);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : 'internal error';
      if (!(error instanceof HttpError)) console.error('web server:', error);
      if (res.headersSent) return void res.destroy();
      if (status === 413) res.setHeader('connection', 'close');
      sendJson(res, status, { ok: false, error: message });
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 0; // the event stream stays open

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostName = host.includes(':') ? `[${host}]` : host;
  allowedHosts = new Set([`${hostName}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]);

  return {
    url: `http://${hostName}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of eventStreams) stream.end();
        eventStreams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
