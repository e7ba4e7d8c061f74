import { request as httpRequest } from 'node:http';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, Events } from '../shared/contract.ts';
import { createCore, type CoreApi } from '../core/api/handlers.ts';
import { settingsFileFor } from '../core/api/settings.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { Custody } from '../core/custody.ts';
import { PASSWORD, tempDir } from '../core/testing/tempVault.ts';
import { CSP } from './csp.ts';
import { startWebShell, type WebShell } from './webShell.ts';

type Listener = <E extends EventName>(event: E, payload: Events[E]) => void;

let root: string;
let core: CoreApi;
let shell: WebShell;
const listeners = new Set<Listener>();

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP, so the test controls Host, Origin and paths exactly as an attacker could. */
function send(opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: shell.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const auth = () => ({ authorization: `Bearer ${shell.token}` });
const json = { 'content-type': 'application/json' };
const api = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  send({ method: 'POST', path: `/api/call/${method}`, headers: { ...json, ...auth(), origin: shell.origin, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const value = (r: Reply) => (JSON.parse(r.body) as { ok: boolean; value?: unknown; error?: { code: string; message: string } });

beforeAll(async () => {
  root = tempDir();
  const vaultDir = join(root, 'vault');
  await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
  const staticDir = join(root, 'renderer');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Custody</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'export {};');
  writeFileSync(join(root, 'secret.txt'), 'outside the renderer');
  core = createCore({
    vaultDir,
    settingsFile: settingsFileFor(vaultDir),
    emit: (event, payload) => listeners.forEach((l) => l(event, payload)),
    dialogs: null,
    shell: 'web',
    appVersion: 'test',
  });
  const backend = {
    call: (m: Parameters<CoreApi['invoke']>[0], r: unknown) => core.invoke(m, r),
    onEvent: (l: Listener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  shell = await startWebShell({ backend, staticDir });
});

afterAll(async () => {
  await shell?.close();
  await core?.close();
  rmSync(root, { recursive: true, force: true });
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
