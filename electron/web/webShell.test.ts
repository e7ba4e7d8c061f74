import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_UPLOAD_BYTES } from '../shared/contract.ts';
import type { CoreApi } from '../core/api/handlers.ts';
import { PASSWORD, tempDir } from '../core/testing/tempVault.ts';
import { CSP } from '../main/csp.ts';
import { MAX_BODY, startWebShell, type WebShell } from './webShell.ts';
import { answerOf, startTestShell, type Reply, type TestShell } from './testing/webShellHarness.ts';

let h: TestShell;
let root: string;
let vaultDir: string;
/** TMPDIR of this process (and so of the in-process core) during the tests: must stay empty. */
let watchedTmp: string;
let core: CoreApi;
let shell: WebShell;

/** Raw HTTP, so the test controls Host, Origin and paths exactly as an attacker could. */
const send = (opts: Parameters<TestShell['send']>[0]) => h.send(opts);
const auth = () => ({ authorization: `Bearer ${shell.token}` });
const json = { 'content-type': 'application/json' };
const api = (method: string, body: unknown, headers: Record<string, string> = {}) => h.call(method, body, headers);
const value = answerOf;

beforeAll(async () => {
  root = tempDir();
  watchedTmp = mkdtempSync(join(tmpdir(), 'custody-watched-tmp-'));
  vi.stubEnv('TMPDIR', watchedTmp);
  h = await startTestShell({
    root,
    staticFiles: { 'index.html': '<!doctype html><title>Custody</title><script type="module" src="./assets/app.js"></script>', 'assets/app.js': 'export {};' },
  });
  ({ vaultDir, core, shell } = h);
  writeFileSync(join(root, 'secret.txt'), 'outside the renderer');
});

afterAll(async () => {
  await h?.close();
  vi.unstubAllEnvs();
  rmSync(watchedTmp, { recursive: true, force: true });
});

describe('web shell', () => {
  it('binds to loopback and prints a URL with the token in the fragment', () => {
    expect(shell.url).toBe(`http://127.0.0.1:${shell.port}/#token=${shell.token}`);
    expect(shell.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('serves the renderer without a token, with the CSP and no CORS', async () => {
    const r = await send({ path: '/' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.headers['content-security-policy']).toBe(CSP);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect((await send({ path: '/assets/app.js' })).headers['content-type']).toMatch(/javascript/);
  });

  it('never serves a file outside the renderer build', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%00.js']) {
      const r = await send({ path });
      expect(r.body, path).not.toContain('outside the renderer');
    }
    expect((await send({ method: 'POST', path: '/' })).status).toBe(405);
  });

  it('refuses a missing or wrong token with 401', async () => {
    const noToken = await send({ method: 'POST', path: '/api/call/vault.status', headers: { ...json, origin: shell.origin }, body: '{}' });
    expect(noToken.status).toBe(401);
    expect(value(noToken)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const wrong = await api('vault.status', {}, { authorization: `Bearer ${'A'.repeat(43)}` });
    expect(wrong.status).toBe(401);
    expect((await api('vault.status', {}, { authorization: shell.token })).status).toBe(401);
    expect((await send({ path: '/api/events' })).status).toBe(401);
  });

  it('refuses a foreign Origin, Host or site with 403, even with the token', async () => {
    expect((await api('vault.status', {}, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await api('vault.status', {}, { origin: 'null' })).status).toBe(403);
    expect((await api('vault.status', {}, { origin: `http://127.0.0.1:${shell.port + 1}` })).status).toBe(403);
    expect((await api('vault.status', {}, { host: `evil.example:${shell.port}` })).status).toBe(403);
    expect((await send({ path: '/', headers: { host: 'attacker.test' } })).status).toBe(403);
    expect((await api('vault.status', {}, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('answers a valid call from the page', async () => {
    const r = await api('vault.status', {});
    expect(r.status).toBe(200);
    expect(value(r)).toMatchObject({ ok: true, value: { exists: true, unlocked: false } });
    expect(value(await api('app.info', {}))).toMatchObject({ ok: true, value: { shell: 'web', nativeDialogs: false } });
    // Non-browser clients send no Origin: the token is enough.
    const plain = await send({ method: 'POST', path: '/api/call/vault.status', headers: { ...json, ...auth() }, body: '{}' });
    expect(plain.status).toBe(200);
  });

  it('refuses malformed and hostile calls with BAD_REQUEST and changes nothing', async () => {
    const hostile: [string, string][] = [
      ['vault.status', 'not json'],
      ['vault.status', '{"__proto__":{"polluted":true}}'],
      ['records.search', '{"constructor":{"prototype":{"polluted":true}}}'],
      ['vault.unlock', '{"password":{"$bytes":"!!"}}'],
      ['vault.unlock', '{"password":12}'],
      ['vault.create', JSON.stringify({ password: 'x'.repeat(5_000_000) })],
      ['constructor', '{}'],
      ['__proto__', '{}'],
      ['vault.nuke', '{}'],
    ];
    for (const [method, body] of hostile) {
      const r = await api(method, body);
      expect(r.status, `${method} ${body.slice(0, 40)}`).toBe(400);
      expect(value(r).error?.code).toBe('BAD_REQUEST');
      expect(r.body).not.toContain('polluted');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await api('vault.status', {}, { 'content-type': 'text/plain' })).status).toBe(415);
    expect(value(await api('vault.status', {}))).toMatchObject({ ok: true, value: { exists: true, unlocked: false } });
  });

  it('carries bytes as {"$bytes"} both ways and streams events', async () => {
    const events: string[] = [];
    const stream = new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: shell.port, path: '/api/events', headers: auth() }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          events.push(chunk);
          if (events.join('').includes('event: locked')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (events.join('').includes('event: locked') ? resolve() : reject(e)));
      req.end();
    });

    expect(value(await api('vault.unlock', { password: PASSWORD })).ok).toBe(true);
    const rec = value(await api('records.create', { kind: 'file', title: 'scan' })).value as { id: string };
    const bytes = Buffer.from([0, 1, 2, 250, 251, 255]);
    const added = value(await api('attachments.addBytes', { recordId: rec.id, name: 'scan.bin', data: { $bytes: bytes.toString('base64') } }));
    expect(added).toMatchObject({ ok: true, value: { name: 'scan.bin', size: 6 } });
    const read = value(await api('attachments.read', { id: (added.value as { id: string }).id }));
    expect(read).toMatchObject({ ok: true, value: { name: 'scan.bin', data: { $bytes: bytes.toString('base64') } } });

    expect(value(await api('vault.lock', {}))).toMatchObject({ ok: true, value: { unlocked: false } });
    await stream;
    const text = events.join('');
    expect(text).toContain('event: progress\ndata: {"op":"unlock","done":0,"total":1}');
    expect(text).toContain('event: locked\ndata: {"reason":"user"}');
    expect(text).not.toContain(PASSWORD);
  });
});

// ---- attacker (e): a web page or another local process trying to reach the shell -----------

/** A request the test drives piece by piece (headers, then body chunks), as an attacker could. */
function open(opts: { method?: string; path: string; headers?: Record<string, string>; port?: number }): { req: ClientRequest; reply: Promise<Reply> } {
  let req!: ClientRequest;
  const reply = new Promise<Reply>((resolve, reject) => {
    req = httpRequest({ host: '127.0.0.1', port: opts.port ?? shell.port, method: opts.method ?? 'POST', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // The server may answer and close before the whole body went out: that is a refusal, not an error.
    req.on('error', (e) => reject(e));
  });
  return { req, reply };
}
const uploadHeaders = (request: unknown, extra: Record<string, string> = {}) => ({
  ...auth(),
  origin: shell.origin,
  'content-type': 'application/octet-stream',
  'x-custody-request': encodeURIComponent(typeof request === 'string' ? request : JSON.stringify(request)),
  ...extra,
});
const listTree = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((n) => join(dir, n));
const blobs = () => readdirSync(join(vaultDir, 'attachments'));

describe('web shell under attack', () => {
  let recordId: string;
  let blobsBefore: string[];
  beforeAll(async () => {
    expect(value(await api('vault.unlock', { password: PASSWORD })).ok).toBe(true);
    recordId = (value(await api('records.create', { kind: 'file', title: 'target' })).value as { id: string }).id;
    blobsBefore = blobs();
  });
  /** No attack added a blob (or left a half-written one). */
  const noNewBlobs = () => expect(blobs()).toEqual(blobsBefore);
  const stillUnlocked = async () => expect(value(await api('vault.status', {}))).toMatchObject({ ok: true, value: { unlocked: true } });

  it('listens on 127.0.0.1 only: other loopback and local addresses refuse the connection', async () => {
    const refused = (host: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host, port: shell.port });
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
    const others = ['127.0.0.2', '::1', ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((i) => !i.internal).map((i) => i.address))];
    for (const host of others) expect([host, await refused(host)]).toEqual([host, expect.stringMatching(/^E(CONNREFUSED|ADDRNOTAVAIL|NETUNREACH|AFNOSUPPORT|INVAL)$/)]);
    expect(await refused('127.0.0.1')).toBe('connected');
  });

  it('DNS rebinding: a request naming any other host is refused (403), even with the token, for the page too', async () => {
    const port = shell.port;
    for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `[::1]:${port}`, `0.0.0.0:${port}`, `127.1:${port}`]) {
      const call = await api('vault.status', {}, { host });
      expect([host, call.status], call.body).toEqual([host, 403]);
      expect(call.body).not.toContain('unlocked');
      expect([host, (await send({ path: '/', headers: { host } })).status]).toEqual([host, 403]);
      expect([host, (await send({ path: '/api/events', headers: { ...auth(), host } })).status]).toEqual([host, 403]);
      const { req, reply } = open({ path: '/api/upload/attachments.addBytes', headers: { ...uploadHeaders({ recordId, name: 'x' }), host, 'content-length': '4' } });
      req.end('abcd');
      expect([host, (await reply).status]).toEqual([host, 403]);
    }
    await stillUnlocked();
    noNewBlobs();
  });

  it('a foreign Origin is refused (403) for calls, uploads and the event stream, even with the token', async () => {
    const port = shell.port;
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${port + 1}`, `http://localhost:${port + 1}`, `https://127.0.0.1:${port}`, `http://127.0.0.1:${port}.evil.example`, 'file://']) {
      expect([origin, (await api('vault.lock', {}, { origin })).status]).toEqual([origin, 403]);
      expect([origin, (await send({ path: '/api/events', headers: { ...auth(), origin } })).status]).toEqual([origin, 403]);
      const { req, reply } = open({ path: '/api/upload/attachments.addBytes', headers: { ...uploadHeaders({ recordId, name: 'x' }), origin, 'content-length': '4' } });
      req.end('abcd');
      expect([origin, (await reply).status]).toEqual([origin, 403]);
    }
    // Sites the browser says are other sites (127.0.0.1 on another port is the same site).
    for (const site of ['cross-site', 'same-site']) expect((await api('vault.lock', {}, { 'sec-fetch-site': site })).status).toBe(403);
    await stillUnlocked();
    noNewBlobs();
  });

  it('a CORS preflight from another origin gets no CORS headers: the browser never sends the real call', async () => {
    const preflight = await send({
      method: 'OPTIONS',
      path: '/api/call/vault.lock',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(403);
    const same = await send({ method: 'OPTIONS', path: '/api/call/vault.lock', headers: { origin: shell.origin, 'access-control-request-method': 'POST' } });
    for (const r of [preflight, same]) expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    await stillUnlocked();
  });

  it('the token is the only credential: missing, wrong, near-miss, in a cookie or the URL are all 401', async () => {
    const t = shell.token;
    const near = [t.slice(0, -1), `${t}x`, `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`, t.toLowerCase() === t ? t.toUpperCase() : t.toLowerCase()];
    const attempts: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: `bearer ${t}` },
      { authorization: `Basic ${Buffer.from(`x:${t}`).toString('base64')}` },
      { authorization: `Bearer  ${t}` },
      { authorization: `Bearer ${'A'.repeat(300)}` },
      { cookie: `token=${t}; custody.token=${t}` },
      ...near.map((n) => ({ authorization: `Bearer ${n}` })),
    ];
    const answers: string[] = [];
    for (const headers of attempts) {
      const r = await send({ method: 'POST', path: `/api/call/vault.lock?token=${t}`, headers: { ...json, origin: shell.origin, ...headers }, body: '{}' });
      expect([headers, r.status]).toEqual([headers, 401]);
      answers.push(r.body, JSON.stringify(r.headers));
      const { req, reply } = open({ path: `/api/upload/attachments.addBytes?token=${t}`, headers: { ...uploadHeaders({ recordId, name: 'x' }), authorization: headers.authorization ?? '', 'content-length': '4' } });
      req.end('abcd');
      expect((await reply).status).toBe(401);
    }
    expect(answers.join('\n')).not.toContain(t);
    expect(answers.join('\n')).not.toMatch(/set-cookie/i);
    await stillUnlocked();
    noNewBlobs();
  });

  it('another local process without the token gets nothing (401), and what the shell logs never holds the token', async () => {
    const log = vi.spyOn(console, 'error');
    const script = `
      const base = 'http://127.0.0.1:${shell.port}';
      const out = [];
      for (const [path, init] of [['/api/call/vault.lock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }], ['/api/events', {}], ['/api/call/records.search', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + 'x'.repeat(43) }, body: '{}' }]]) {
        const r = await fetch(base + path, init);
        out.push(r.status);
      }
      console.log(JSON.stringify(out));`;
    // Not spawnSync: this process serves the shell, and must keep answering meanwhile.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual([401, 401, 401]);
    // An unexpected failure inside a request is logged by message only.
    expect(JSON.stringify(log.mock.calls)).not.toContain(shell.token);
    log.mockRestore();
    await stillUnlocked();
  });

  it('form posts and other content types a page can send without a preflight are refused', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      // As a cross-site <form> sends it (a foreign Origin): refused before anything else.
      expect((await send({ method: 'POST', path: '/api/call/vault.lock', headers: { 'content-type': type, origin: 'http://evil.example' }, body: '{}' })).status).toBe(403);
      // Even with the token (no form can carry it), only JSON is a call and only raw bytes an upload.
      expect((await api('vault.lock', '{}', { 'content-type': type })).status).toBe(415);
      const { req, reply } = open({ path: '/api/upload/attachments.addBytes', headers: uploadHeaders({ recordId, name: 'x' }, { 'content-type': type, 'content-length': '4' }) });
      req.end('abcd');
      expect((await reply).status).toBe(415);
    }
    await stillUnlocked();
    noNewBlobs();
  });

  it('oversized bodies are refused (413) without being read; an upload needs its length up front', async () => {
    // Declared too large: answered at once, before a byte of the body is sent.
    const big = open({ path: '/api/call/records.create', headers: { ...json, ...auth(), 'content-length': String(MAX_BODY + 1) } });
    big.req.flushHeaders();
    expect((await big.reply).status).toBe(413);
    big.req.destroy();
    const bigUpload = open({ path: '/api/upload/attachments.addBytes', headers: uploadHeaders({ recordId, name: 'x' }, { 'content-length': String(MAX_UPLOAD_BYTES + 1) }) });
    bigUpload.req.flushHeaders();
    expect((await bigUpload.reply).status).toBe(413);
    bigUpload.req.destroy();
    // No length (chunked): an upload is refused; a call is counted as it arrives.
    const chunkedUpload = open({ path: '/api/upload/attachments.addBytes', headers: uploadHeaders({ recordId, name: 'x' }) });
    chunkedUpload.req.write('abcd');
    expect((await chunkedUpload.reply).status).toBe(411);
    chunkedUpload.req.destroy();
    const small = await startWebShell({ backend: { call: (m, r) => core.invoke(m, r) }, staticDir: join(root, 'renderer'), maxBody: 64 * 1024 });
    try {
      const chunked = open({ port: small.port, path: '/api/call/records.create', headers: { ...json, authorization: `Bearer ${small.token}` } });
      chunked.req.on('error', () => undefined);
      const piece = `{"kind":"note","title":"${'x'.repeat(16 * 1024)}`;
      for (let i = 0; i < 8; i++) chunked.req.write(piece);
      expect((await chunked.reply).status).toBe(413);
    } finally {
      await small.close();
    }
    expect(value(await api('records.search', { text: 'xxxxxxxxxxxxxxxx' })).value).toMatchObject({ total: 0 });
    noNewBlobs();
  });

  it('an upload streams into the encryption: nothing in TMPDIR, no plaintext in the vault, while the body is still arriving', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const data = Buffer.from(`${canary} `.repeat(Math.ceil((6 * 1024 * 1024) / (canary.length + 1))));
    const half = 4 * 1024 * 1024;
    const { req, reply } = open({ path: '/api/upload/attachments.addBytes', headers: uploadHeaders({ recordId, name: 'notes.txt' }, { 'content-length': String(data.length) }) });
    req.write(data.subarray(0, half));
    // A known point: the encryption has written its first batch (2 MiB of ciphertext) into the
    // blob's temp file, and the rest of the body has not been sent.
    await vi.waitFor(
      () => {
        const partial = blobs().filter((n) => !blobsBefore.includes(n));
        expect(partial).toHaveLength(1);
        expect(statSync(join(vaultDir, 'attachments', partial[0]!)).size).toBeGreaterThan(0);
      },
      { timeout: 60_000 },
    );
    expect(listTree(watchedTmp)).toEqual([]);
    for (const f of listTree(root).filter((p) => statSync(p).isFile())) expect([f, readFileSync(f).includes(canary)]).toEqual([f, false]);
    req.end(data.subarray(half));
    const r = await reply;
    expect(r.status).toBe(200);
    const added = value(r);
    expect(added).toMatchObject({ ok: true, value: { name: 'notes.txt', size: data.length, mediaType: 'text/plain' } });
    const id = (added.value as { id: string }).id;
    expect(blobs().sort()).toEqual([...blobsBefore, `${id}.cce`].sort());
    blobsBefore = blobs();
    const read = value(await api('attachments.read', { id }));
    expect(Buffer.from((read.value as { data: { $bytes: string } }).data.$bytes, 'base64').equals(data)).toBe(true);
    expect(listTree(watchedTmp)).toEqual([]);
  });

  it('an upload the vault refuses (no such record, a bad request) is answered without reading the body, and leaves nothing', async () => {
    for (const [request, code] of [
      [{ recordId: '0190f3a2-7b1c-7def-8a12-3456789abcde', name: 'x' }, 'NOT_FOUND'],
      [{ recordId, name: '' }, 'BAD_REQUEST'],
      [{ recordId, name: 'x', data: { $bytes: 'AAAA' } }, 'BAD_REQUEST'],
      [`{"recordId":"${recordId}","name":"x","__proto__":{"polluted":true}}`, 'BAD_REQUEST'],
    ] as const) {
      const { req, reply } = open({ path: '/api/upload/attachments.addBytes', headers: uploadHeaders(request, { 'content-length': String(8 * 1024 * 1024) }) });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(64 * 1024));
      const r = await reply;
      expect([request, value(r).error?.code]).toEqual([request, code]);
      expect(r.body).not.toContain('polluted');
    }
    const noHeader = open({ path: '/api/upload/attachments.addBytes', headers: { ...auth(), 'content-type': 'application/octet-stream', 'content-length': '4' } });
    noHeader.req.end('abcd');
    expect((await noHeader.reply).status).toBe(400);
    const notUpload = open({ path: '/api/upload/records.create', headers: uploadHeaders({ kind: 'note', title: 'x' }, { 'content-length': '4' }) });
    notUpload.req.end('abcd');
    expect(value(await notUpload.reply).error?.code).toBe('BAD_REQUEST');
    noNewBlobs();
    expect(listTree(watchedTmp)).toEqual([]);
  });
});
