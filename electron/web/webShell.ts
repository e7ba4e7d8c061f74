// The loopback web shell: the IPC contract over HTTP on 127.0.0.1, for tests and for using
// Custody from a browser where Electron cannot run. Same renderer build, same validation,
// same core worker (the parts of electron/main both shells share; never electron itself).
// Who may call: a page of this origin holding the per-launch token.
//   - every request: the Host must be this server (DNS rebinding), no foreign Origin;
//   - /api/*: `Authorization: Bearer <token>` (compared in constant time), else 401;
//     POST /api/call/<method>: a JSON body (application/json, at most MAX_BODY);
//     POST /api/upload/<method>: raw bytes (application/octet-stream, a content-length of at
//     most MAX_UPLOAD_BYTES) streamed into the vault's encryption, the rest of the call as
//     URI-encoded JSON in the X-Custody-Request header;
//   - anything else: GET/HEAD of the renderer's static files, no token needed.
// No CORS headers are ever sent, so other origins can neither read answers nor preflight.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { MAX_UPLOAD_BYTES, type Envelope, type EventName, type Events } from '../shared/contract.ts';
import { parseWire, stringifyWire } from '../shared/wire.ts';
import { SECURITY_HEADERS } from '../main/csp.ts';
import { failure, type CoreBackend, type UploadSource } from '../main/dispatch.ts';
import { Session, type LockReason } from '../main/session.ts';
import { contentTypeOf, resolveStatic } from '../main/staticFiles.ts';

export interface WebShellOptions {
  backend: CoreBackend & { onEvent?(listener: <E extends EventName>(event: E, payload: Events[E]) => void): () => void };
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** At least 32 URL-safe characters; a fresh random one when absent. */
  token?: string;
  /** 0 (default) picks a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** How often the idle auto-lock looks (tests use less). */
  idleCheckMs?: number;
  /** Largest JSON call body (default MAX_BODY; tests use less). */
  maxBody?: number;
}

export interface WebShell {
  /** The address to open, with the token in the fragment (never sent to the server). */
  url: string;
  origin: string;
  port: number;
  token: string;
  session: Session;
  close(): Promise<void>;
}

/** A base64 upload of 256 MiB plus JSON framing. */
export const MAX_BODY = 360 * 1024 * 1024;
const TOKEN_RE = /^[A-Za-z0-9_-]{32,256}$/;
const HEARTBEAT_MS = 20_000;

export const newToken = (): string => randomBytes(32).toString('base64url');

export async function startWebShell(opts: WebShellOptions): Promise<WebShell> {
  const token = opts.token ?? newToken();
  if (!TOKEN_RE.test(token)) throw new Error('the web shell token must be at least 32 characters of A-Z, a-z, 0-9, "-" or "_"');
  const tokenDigest = createHash('sha256').update(token).digest();
  const streams = new Set<ServerResponse>();
  let lastActivity = Date.now();

  const broadcast = <E extends EventName>(event: E, payload: Events[E]) => {
    const frame = `event: ${event}\ndata: ${stringifyWire(payload)}\n\n`;
    for (const res of streams) res.write(frame);
  };
  const session = new Session({
    backend: opts.backend,
    // A browser gives us no system idle time: idle means no call from any page.
    idleSeconds: () => (Date.now() - lastActivity) / 1000,
    onLocked: (reason: LockReason) => broadcast('locked', { reason }),
    checkEveryMs: opts.idleCheckMs,
  });
  const unsubscribe = opts.backend.onEvent?.((event, payload) => broadcast(event, payload));

  let port = 0;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = () => allowedHosts().map((h) => `http://${h}`);

  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(req.headers.authorization ?? '');
    return !!m?.[1] && timingSafeEqual(createHash('sha256').update(m[1]).digest(), tokenDigest);
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      console.error('[custody] web shell request failed:', e instanceof Error ? e.message : String(e));
      if (!res.headersSent) sendJson(res, 500, failure('INTERNAL', 'the web shell failed to answer'));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (!allowedHosts().includes(host)) return sendJson(res, 403, failure('BAD_REQUEST', 'this server answers only on its loopback address'));
    if (origin !== undefined && !allowedOrigins().includes(origin)) return sendJson(res, 403, failure('BAD_REQUEST', 'requests from other origins are refused'));
    const url = new URL(req.url ?? '/', `http://${host}`);

    if (!url.pathname.startsWith('/api/')) return serveStatic(req, res, url.pathname);
    if (site === 'cross-site' || site === 'same-site') return sendJson(res, 403, failure('BAD_REQUEST', 'requests from other sites are refused'));
    if (!authorized(req)) return sendJson(res, 401, failure('BAD_REQUEST', 'missing or wrong access token; open the address printed by `npm run start:web`'));

    if (url.pathname === '/api/events' && req.method === 'GET') return openStream(req, res);
    const upload = /^\/api\/upload\/([^/]{1,200})$/.exec(url.pathname);
    if (upload && req.method === 'POST') return handleUpload(req, res, safeDecode(upload[1]!));
    const call = /^\/api\/call\/([^/]{1,200})$/.exec(url.pathname);
    if (!call || req.method !== 'POST') return sendJson(res, 404, failure('BAD_REQUEST', 'no such endpoint'));
    const method = safeDecode(call[1]!);
    if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, failure('BAD_REQUEST', 'calls are JSON (content-type: application/json)'));

    const body = await readBody(req, opts.maxBody ?? MAX_BODY);
    if (body === null) {
      res.on('finish', () => req.destroy());
      return sendJson(res, 413, failure('BAD_REQUEST', 'the request is too large'));
    }
    let raw: unknown;
    try {
      raw = parseWire(body);
    } catch (e) {
      return sendJson(res, 400, failure('BAD_REQUEST', (e as Error).message));
    }
    // Reading the status is what a page does on its own (on load, on a timer): it is not use.
    if (method !== 'vault.status' && method !== 'app.info') lastActivity = Date.now();
    const env = await session.call(method, raw);
    sendJson(res, statusOf(env), env);
  }

  async function handleUpload(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    // Refused before the body was read: answer and close the connection (Node discards the
    // unread body meanwhile); a body too large to even discard is cut off instead.
    const refuse = (status: number, message: string) => {
      res.setHeader('connection', 'close');
      if (status === 413) res.on('finish', () => req.destroy());
      sendJson(res, status, failure('BAD_REQUEST', message));
    };
    if (!/^application\/octet-stream(;|$)/.test(req.headers['content-type'] ?? '')) return refuse(415, 'uploads are raw bytes (content-type: application/octet-stream)');
    const declared = req.headers['content-length'];
    if (declared === undefined || !/^\d{1,12}$/.test(declared)) return refuse(411, 'an upload needs a content-length');
    const size = Number(declared);
    if (size > MAX_UPLOAD_BYTES) return refuse(413, `an upload may carry at most ${MAX_UPLOAD_BYTES} bytes`);
    const header = req.headers['x-custody-request'];
    let raw: unknown;
    try {
      if (typeof header !== 'string' || header.length > 8192) throw new Error('missing');
      raw = parseWire(decodeURIComponent(header));
    } catch {
      return refuse(400, 'an upload names its call in X-Custody-Request (URI-encoded JSON)');
    }
    lastActivity = Date.now();
    const env = await session.upload(method, raw, { chunks: bodyChunks(req, size), size } satisfies UploadSource);
    // Answered before the whole body arrived (e.g. no such record): not kept alive.
    if (!req.complete) res.setHeader('connection', 'close');
    sendJson(res, statusOf(env), env);
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD' }).end();
      return;
    }
    const file = resolveStatic(opts.staticDir, path);
    if (!file) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const data = await readFile(file);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': contentTypeOf(file), 'content-length': data.byteLength });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write(': connected\n\n');
    streams.add(res);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      clearInterval(beat);
      streams.delete(res);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  await session.start();
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    session,
    async close() {
      session.stop();
      unsubscribe?.();
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

function statusOf(env: Envelope<unknown>): number {
  if (env.ok) return 200;
  return env.error.code === 'BAD_REQUEST' ? 400 : env.error.code === 'INTERNAL' ? 500 : 200;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = stringifyWire(value);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The body's chunks as they arrive, exactly `size` bytes (the content-length) or an error. The
 * request is not destroyed when the reader stops early: the answer still goes out on it.
 */
async function* bodyChunks(req: IncomingMessage, size: number): AsyncGenerator<Uint8Array> {
  let got = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    got += chunk.length;
    if (got > size) throw new Error('the upload is longer than its content-length');
    yield chunk;
  }
  if (got !== size) throw new Error('the upload ended before its content-length');
}

/** The body as text, or null past `limit` bytes (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
