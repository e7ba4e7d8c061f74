// Security of the desktop shell's boundary, exercised through the real renderer build and the
// real main-process handlers (the loopback web shell and its core worker) in Chromium.
import { expect, test, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METHOD_NAMES } from '../electron/shared/contract.ts';
import { launchWebShell, type PrivateShell } from './support/webShell.ts';

const PASSWORD = 'e2e correct horse battery staple';

interface Answer {
  status: number;
  body: { ok: boolean; value?: unknown; error?: { code: string; message: string } };
}

/** A call exactly as the page's client makes it: same origin, token from sessionStorage. */
function callFromPage(page: Page, method: string, body: string): Promise<Answer> {
  return page.evaluate(
    async ({ method, body }) => {
      const token = sessionStorage.getItem('custody.token');
      const res = await fetch(`/api/call/${encodeURIComponent(method)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { ok: false, error: { code: 'NOT_JSON', message: text.slice(0, 200) } };
      }
      return { status: res.status, body: parsed as Answer['body'] };
    },
    { method, body },
  );
}

async function ok(page: Page, method: string, request: unknown = {}): Promise<unknown> {
  const a = await callFromPage(page, method, JSON.stringify(request));
  expect(a.body, `${method}: ${JSON.stringify(a.body.error)}`).toMatchObject({ ok: true });
  return a.body.value;
}

/** Deterministic fuzz input (mulberry32), so a failure can be replayed. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stands for {"text": "AAAA…"} with 5 million characters, built in the page to keep the run fast. */
const HUGE = '<huge>';

function hostilePayloads(seed: number): { method: string; body: string }[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const junk = (): unknown => pick<() => unknown>([() => rnd() * 1e9, () => -1, () => 'x'.repeat(Math.floor(rnd() * 300)), () => true, () => null, () => [1, 'a', null], () => ({ nested: { deeper: [rnd()] } }), () => ({ $bytes: 'AAAA' })])();
  const out: { method: string; body: string }[] = [];
  for (const method of METHOD_NAMES) {
    // Not an object at all (every request is one).
    out.push({ method, body: JSON.stringify(pick([42, 'vault', [], [{}], null, true, -0.5])) });
    // An object with a key no schema has (every schema is strict), holding junk.
    out.push({ method, body: JSON.stringify({ [`k${Math.floor(rnd() * 1e6)}`]: junk() }) });
    // Prototype pollution, at the top and nested.
    out.push({ method, body: `{"__proto__":{"polluted":true,"isAdmin":true}}` });
    out.push({ method, body: `{"id":"0190f3a2-7b1c-7def-8a12-3456789abcde","patch":{"constructor":{"prototype":{"polluted":true}}}}` });
    // Wrong types in the fields the contract knows.
    out.push({ method, body: JSON.stringify({ id: junk(), password: 12345, text: { $ne: null }, recordId: ['x'], data: 'not bytes', version: '1' }) });
    // Huge: 5 million characters (built in the page: see HUGE). The size check comes before
    // any schema, so a few methods stand for all (each upload takes a quarter second).
    if (['vault.create', 'vault.unlock', 'records.create', 'records.search', 'attachments.addBytes'].includes(method)) out.push({ method, body: HUGE });
  }
  for (const method of ['vault.nuke', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'records', 'vault.', '../vault.status', 'vault.status/../x', 'db.exec', 'fs.readFile'])
    out.push({ method, body: '{}' });
  for (const body of ['', '{', 'not json', '{"password":', '[1,2', '{"$bytes":"!!!"}', '\u0000'.repeat(10)]) out.push({ method: 'vault.unlock', body });
  let deep = '"x"';
  for (let i = 0; i < 2000; i++) deep = `{"a":${deep}}`;
  out.push({ method: 'records.search', body: deep });
  return out;
}

test.describe('the page, against its own vault', () => {
  let shell: PrivateShell;
  test.beforeAll(async () => {
    shell = await launchWebShell();
  });
  test.afterAll(async () => {
    await shell?.stop();
  });

  async function open(page: Page): Promise<void> {
    await page.goto(shell.url);
    await page.waitForFunction(() => sessionStorage.getItem('custody.token') !== null);
    // The client takes the token out of the address bar.
    expect(page.url()).not.toContain('token=');
  }

  test('cannot reach Node, and never sees any key', async ({ page }) => {
    await open(page);

    // Code run through page.evaluate may eval (DevTools is exempt from CSP), so string code is
    // scheduled to run later, as the page's own would: the CSP must refuse it.
    const globals = await page.evaluate(async () => {
      const w = window as unknown as Record<string, unknown>;
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      (setTimeout as unknown as (code: string, ms: number) => void)('window.__timerEval = true', 0);
      const s = document.createElement('script');
      s.textContent = 'window.__inline = true';
      document.head.appendChild(s);
      // Both refusals are reported (asynchronously): wait for them, not for a fixed time.
      await new Promise<void>((resolve) => {
        const deadline = performance.now() + 20_000;
        const poll = () => (violations.length >= 2 || performance.now() > deadline ? resolve() : setTimeout(poll, 20));
        poll();
      });
      return {
        require: typeof w.require,
        process: typeof w.process,
        module: typeof w.module,
        Buffer: typeof w.Buffer,
        global: typeof w.global,
        custody: typeof w.custody,
        ipcRenderer: typeof w.ipcRenderer,
        stringCodeRan: w.__timerEval === true,
        inlineRan: w.__inline === true,
        violations: [...new Set(violations)].sort(),
      };
    });
    expect(globals).toEqual({
      require: 'undefined',
      process: 'undefined',
      module: 'undefined',
      Buffer: 'undefined',
      global: 'undefined',
      custody: 'undefined',
      ipcRenderer: 'undefined',
      stringCodeRan: false,
      inlineRan: false,
      violations: expect.arrayContaining([expect.stringMatching(/^script-src/)]),
    });

    // Use the vault from the page the way the UI does, keeping every answer the page got.
    const seen: string[] = [];
    const keep = async (method: string, request: unknown = {}) => {
      const a = await callFromPage(page, method, JSON.stringify(request));
      seen.push(JSON.stringify(a.body));
      expect(a.body, `${method}: ${JSON.stringify(a.body.error)}`).toMatchObject({ ok: true });
      return a.body.value as Record<string, unknown>;
    };
    await keep('vault.create', { password: PASSWORD, actor: 'e2e' });
    await keep('vault.unlock', { password: PASSWORD });
    const rec = await keep('records.create', { kind: 'note', title: 'Interview 7', body: 'Met at the river.', tags: ['e2e'] });
    const att = await keep('attachments.addBytes', { recordId: rec.id, name: 'note.txt', data: { $bytes: Buffer.from('attached words').toString('base64') } });
    await keep('records.get', { id: rec.id });
    await keep('attachments.read', { id: att.id });
    await keep('records.search', { text: 'river' });
    await keep('records.history', { id: rec.id });
    await keep('audit.query', { limit: 1000 });
    await keep('audit.stats', {});
    await keep('vault.status', {});
    await keep('app.info', {});
    await keep('settings.get', {});
    seen.push(await page.content());
    seen.push(await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })));
    const pageText = seen.join('\n');

    // Every piece of key material on disk, in the encodings it could leak in.
    const header = JSON.parse(readFileSync(join(shell.vaultDir, 'vault.json'), 'utf8')) as { kdf: { salt: string }; wrappedVaultKey: { password: string; recovery: string } };
    const db = new Database(join(shell.vaultDir, 'custody.db'), { readonly: true, fileMustExist: true });
    const blobs = [
      ...db.prepare('SELECT wrapped AS b FROM key_registry WHERE wrapped IS NOT NULL').all(),
      ...db.prepare('SELECT wrapped_dek AS b FROM record').all(),
      ...db.prepare('SELECT wrapped_key AS b FROM attachment').all(),
    ].map((r) => (r as { b: Buffer }).b);
    db.close();
    const secrets = [header.kdf.salt, header.wrappedVaultKey.password, header.wrappedVaultKey.recovery, ...blobs.flatMap((b) => [b.toString('base64'), b.toString('hex'), b.toString('base64url')])];
    expect(blobs.length).toBeGreaterThanOrEqual(4);
    for (const s of secrets) expect(pageText.includes(s), 'key material reached the page').toBe(false);
    expect(pageText.split(PASSWORD).length - 1, 'the password came back to the page').toBe(0);
  });

  test('a lock reloads the page (dropping its decrypted views), which keeps its token', async ({ page }) => {
    await open(page);
    const status = (await callFromPage(page, 'vault.status', '{}')).body.value as { exists: boolean };
    if (!status.exists) await ok(page, 'vault.create', { password: PASSWORD });
    await ok(page, 'vault.unlock', { password: PASSWORD });
    await page.evaluate(() => ((window as unknown as Record<string, unknown>).__beforeLock = true));
    const reloaded = page.waitForEvent('load');
    // Sent without waiting for the answer in the page: the reload this test expects may come
    // first and take the page's script context (and the pending fetch) with it.
    await page.evaluate(() => {
      void fetch('/api/call/vault.lock', { method: 'POST', headers: { authorization: `Bearer ${sessionStorage.getItem('custody.token')}`, 'content-type': 'application/json' }, body: '{}' });
    });
    await reloaded;
    expect(await page.evaluate(() => (window as unknown as Record<string, unknown>).__beforeLock)).toBeUndefined();
    expect(await ok(page, 'vault.status')).toMatchObject({ exists: true, unlocked: false });
  });

  test('hostile and malformed calls are refused with BAD_REQUEST, change nothing and crash nothing', async ({ page }) => {
    test.setTimeout(120_000);
    await open(page);
    const status = (await callFromPage(page, 'vault.status', '{}')).body.value as { exists: boolean };
    if (!status.exists) await ok(page, 'vault.create', { password: PASSWORD });
    await ok(page, 'vault.unlock', { password: PASSWORD });
    await ok(page, 'records.create', { kind: 'note', title: 'baseline' });
    const snapshot = async () => ({
      status: await ok(page, 'vault.status'),
      settings: await ok(page, 'settings.get'),
      records: ((await ok(page, 'records.search', { deleted: 'include' })) as { total: number }).total,
      writes: ((await ok(page, 'audit.query', { limit: 10_000 })) as { event: string }[]).filter((e) => e.event !== 'search').length,
    });
    const before = await snapshot();

    const payloads = hostilePayloads(20261122);
    expect(payloads.length).toBeGreaterThan(150);
    // One evaluate for all of them: the calls still go one by one, from the page, like the client's.
    const answers = await page.evaluate(
      async ({ payloads, huge }) => {
        const token = sessionStorage.getItem('custody.token');
        const bigBody = JSON.stringify({ text: 'A'.repeat(5_000_000) });
        const out: { status: number; text: string }[] = [];
        for (const p of payloads) {
          const res = await fetch(`/api/call/${encodeURIComponent(p.method)}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: p.body === huge ? bigBody : p.body,
          });
          out.push({ status: res.status, text: await res.text() });
        }
        return out;
      },
      { payloads, huge: HUGE },
    );
    answers.forEach((a, i) => {
      const what = `${payloads[i]!.method} ${payloads[i]!.body.slice(0, 80)}`;
      expect(a.status, what).toBe(400);
      expect((JSON.parse(a.text) as Answer['body']).error?.code, what).toBe('BAD_REQUEST');
      expect(a.text, what).not.toContain('polluted');
      expect(a.text.length, `${what}: the answer echoes the payload`).toBeLessThan(500);
    });

    expect(await snapshot()).toEqual(before);
    expect(shell.process.exitCode).toBeNull();
    expect(await ok(page, 'app.info')).toMatchObject({ shell: 'web' });
  });
});

test.describe('the shared web server', () => {
  const token = process.env.CUSTODY_WEB_TOKEN!;

  test('refuses a missing or wrong token (401) and a foreign Origin or Host (403)', async ({ request, baseURL }) => {
    const origin = new URL(baseURL!).origin;
    const call = (headers: Record<string, string>) => request.post(`${origin}/api/call/vault.status`, { headers: { 'content-type': 'application/json', ...headers }, data: '{}' });
    expect((await call({ origin })).status()).toBe(401);
    expect((await call({ origin, authorization: 'Bearer ' + 'x'.repeat(43) })).status()).toBe(401);
    expect((await call({ origin, authorization: `Basic ${token}` })).status()).toBe(401);
    expect((await request.get(`${origin}/api/events`)).status()).toBe(401);
    expect((await call({ origin: 'http://evil.example', authorization: `Bearer ${token}` })).status()).toBe(403);
    expect((await call({ origin: 'null', authorization: `Bearer ${token}` })).status()).toBe(403);
    expect((await call({ host: 'evil.example', authorization: `Bearer ${token}` })).status()).toBe(403);
    const good = await call({ origin, authorization: `Bearer ${token}` });
    expect(good.status()).toBe(200);
    expect(await good.json()).toMatchObject({ ok: true, value: { exists: expect.any(Boolean) } });
  });

  test('a page of another origin cannot call it, even knowing the token', async ({ page, baseURL }) => {
    const target = new URL(baseURL!).origin;
    // localhost:<other port> is another origin; nothing listens there, so serve a blank page ourselves.
    await page.route('http://localhost:1/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>elsewhere</title>' }));
    await page.goto('http://localhost:1/');
    const result = await page.evaluate(
      async ({ target, token }) => {
        try {
          const res = await fetch(`${target}/api/call/vault.status`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
          return `read ${res.status}`;
        } catch {
          return 'blocked';
        }
      },
      { target, token },
    );
    expect(result).toBe('blocked');
  });

  test('serves the renderer without a token, with a strict CSP', async ({ page, request, baseURL }) => {
    const origin = new URL(baseURL!).origin;
    const res = await request.get(`${origin}/`);
    expect(res.status()).toBe(200);
    const csp = res.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain("'unsafe-inline'");
    expect(res.headers()['access-control-allow-origin']).toBeUndefined();
    await page.goto(baseURL!);
    await expect(page).toHaveTitle(/Custody/);
  });
});

// ---- item 8: no plaintext temp files in the web shell process ---------------------------------

/** Every file under `dir` (recursively). */
const filesUnder = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((n) => join(dir, n)).filter((p) => statSync(p).isFile()) : []);

test.describe('no plaintext temp files (a web shell whose TMPDIR is watched)', () => {
  let shell: PrivateShell;
  let watched: string;
  test.beforeAll(async () => {
    watched = mkdtempSync(join(tmpdir(), 'custody-e2e-watched-tmp-'));
    shell = await launchWebShell({ env: { TMPDIR: watched, TMP: watched, TEMP: watched } });
  });
  test.afterAll(async () => {
    await shell?.stop();
    rmSync(watched, { recursive: true, force: true });
  });

  test('uploads, opened attachments, imports and reports pass through memory or into the encrypted vault', async ({ page }) => {
    test.setTimeout(120_000);
    await page.goto(shell.url);
    await page.waitForFunction(() => sessionStorage.getItem('custody.token') !== null);
    await ok(page, 'vault.create', { password: PASSWORD });
    await ok(page, 'vault.unlock', { password: PASSWORD });
    const rec = (await ok(page, 'records.create', { kind: 'file', title: 'scan', case: 'K' })) as { id: string };
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const attachmentsDir = join(shell.vaultDir, 'attachments');
    const nothingInClear = (where: string) => {
      expect(filesUnder(watched), `temp files during ${where}`).toEqual([]);
      for (const f of filesUnder(shell.vaultDir)) expect(readFileSync(f).includes(canary), `${f} holds plaintext during ${where}`).toBe(false);
    };

    // The upload goes out slowly (DevTools throttling), so the test can look while the body is still arriving.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
    const upload = page.evaluate(
      async ({ recordId, canary }) => {
        const data = new TextEncoder().encode(`${canary} `.repeat(Math.ceil((8 * 1024 * 1024) / (canary.length + 1))));
        const res = await fetch('/api/upload/attachments.addBytes', {
          method: 'POST',
          headers: {
            authorization: `Bearer ${sessionStorage.getItem('custody.token')}`,
            'content-type': 'application/octet-stream',
            'x-custody-request': encodeURIComponent(JSON.stringify({ recordId, name: 'notes.txt' })),
          },
          body: data,
        });
        return { status: res.status, body: (await res.json()) as { ok: boolean; value?: { id: string; size: number } } };
      },
      { recordId: rec.id, canary },
    );
    // A known point inside the upload: the encryption has written ciphertext to the blob's temp file.
    await expect.poll(() => readdirSync(attachmentsDir).filter((n) => n.endsWith('.tmp') && statSync(join(attachmentsDir, n)).size > 0).length, { timeout: 60_000 }).toBe(1);
    nothingInClear('an upload');
    const added = await upload;
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    expect(added).toMatchObject({ status: 200, body: { ok: true, value: { size: expect.any(Number) } } });
    nothingInClear('after the upload');

    const opened = (await ok(page, 'attachments.read', { id: added.body.value!.id })) as { data: { $bytes: string } };
    expect(Buffer.from(opened.data.$bytes, 'base64').includes(canary)).toBe(true);
    nothingInClear('opening an attachment');
    const rows = JSON.stringify([{ kind: 'note', title: `${canary} imported`, case: 'K' }]);
    expect(await ok(page, 'records.importBytes', { name: 'rows.json', format: 'json', data: { $bytes: Buffer.from(rows).toString('base64') } })).toEqual({ imported: 1 });
    nothingInClear('an import');
    const report = (await ok(page, 'reports.export', { purpose: 'review', case: 'K' })) as { data: { $bytes: string } };
    expect(Buffer.from(report.data.$bytes, 'base64').subarray(0, 2).toString()).toBe('PK');
    nothingInClear('a report export');
  });
});

// ---- attacker (e): pages of other origins, and DNS rebinding, against the loopback shell --------

test.describe('a hostile page on another loopback port', () => {
  let shell: PrivateShell;
  let attacker: Server;
  let attackerOrigin: string;
  test.beforeAll(async () => {
    shell = await launchWebShell();
    // A real server on another port of 127.0.0.1: another origin (and the same site).
    attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title><body></body>'));
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  });
  test.afterAll(async () => {
    await shell?.stop();
    await new Promise((r) => attacker?.close(r));
  });

  test('cannot call, upload, post a form, beacon or listen, even knowing the token; the vault notices nothing', async ({ page, browser }) => {
    test.setTimeout(120_000);
    // The owner's page: an unlocked vault with one record.
    const owner = await browser.newPage();
    await owner.goto(shell.url);
    await owner.waitForFunction(() => sessionStorage.getItem('custody.token') !== null);
    await ok(owner, 'vault.create', { password: PASSWORD });
    await ok(owner, 'vault.unlock', { password: PASSWORD });
    const rec = (await ok(owner, 'records.create', { kind: 'note', title: 'kept' })) as { id: string };
    const state = async () => ({
      status: await ok(owner, 'vault.status'),
      records: ((await ok(owner, 'records.search', { deleted: 'include' })) as { total: number }).total,
      attachments: readdirSync(join(shell.vaultDir, 'attachments')),
    });
    const before = await state();

    await page.goto(attackerOrigin);
    const results = await page.evaluate(
      async ({ target, token, recordId }) => {
        const out: Record<string, string> = {};
        const attempt = async (name: string, run: () => Promise<Response>) => {
          try {
            const res = await run();
            out[name] = res.type === 'opaque' ? 'opaque' : `read ${res.status}`;
          } catch {
            out[name] = 'blocked';
          }
        };
        const auth = { authorization: `Bearer ${token}` };
        await attempt('cors call with token', () => fetch(`${target}/api/call/vault.lock`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' }));
        await attempt('cors upload with token', () =>
          fetch(`${target}/api/upload/attachments.addBytes`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/octet-stream', 'x-custody-request': encodeURIComponent(JSON.stringify({ recordId, name: 'x' })) },
            body: new Uint8Array(16),
          }),
        );
        await attempt('no-cors lock', () => fetch(`${target}/api/call/vault.lock`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }));
        await attempt('no-cors create', () => fetch(`${target}/api/call/records.create`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ kind: 'note', title: 'planted' }) }));
        await attempt('no-cors upload', () => fetch(`${target}/api/upload/attachments.addBytes`, { method: 'POST', mode: 'no-cors', body: 'planted bytes' }));
        await attempt('cors status', () => fetch(`${target}/api/call/vault.status`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' }));
        out.beacon = String(navigator.sendBeacon(`${target}/api/call/vault.lock`, new Blob(['{}'], { type: 'text/plain' })));
        // A form post (the classic CSRF), into a frame so this page stays.
        const frame = document.createElement('iframe');
        frame.name = 'sink';
        document.body.append(frame);
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = `${target}/api/call/vault.lock`;
        form.enctype = 'text/plain';
        form.target = 'sink';
        const field = document.createElement('input');
        field.name = '{"a":"';
        field.value = '"}';
        form.append(field);
        document.body.append(form);
        const loaded = new Promise((r) => frame.addEventListener('load', r, { once: true }));
        form.submit();
        await loaded;
        // The event stream, as an EventSource (which cannot send the token either).
        out.events = await new Promise<string>((resolve) => {
          const es = new EventSource(`${target}/api/events`);
          es.onopen = () => resolve('open');
          es.onerror = () => {
            es.close();
            resolve('error');
          };
        });
        return out;
      },
      { target: shell.origin, token: shell.token, recordId: rec.id },
    );
    expect(results).toEqual({
      'cors call with token': 'blocked',
      'cors upload with token': 'blocked',
      // no-cors requests go out but their answers stay unreadable (opaque; or an error, since
      // the shell's answers are Cross-Origin-Resource-Policy: same-origin).
      'no-cors lock': expect.stringMatching(/^(opaque|blocked)$/),
      'no-cors create': expect.stringMatching(/^(opaque|blocked)$/),
      'no-cors upload': expect.stringMatching(/^(opaque|blocked)$/),
      'cors status': 'blocked',
      beacon: expect.stringMatching(/true|false/),
      events: 'error',
    });
    // Whatever reached the server was refused: nothing changed.
    expect(await state()).toEqual(before);
    expect(before.status).toMatchObject({ unlocked: true });
    await owner.close();
  });

  test('DNS rebinding: a page whose own host name now points at 127.0.0.1 is refused by the shell', async ({ playwright }) => {
    // From Node (another local process that has the token: the owner's own tooling).
    const direct = async (method: string, body: unknown = {}) => {
      const res = await fetch(`${shell.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${shell.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.json()) as { ok: boolean; value?: { exists?: boolean; unlocked?: boolean } };
    };
    if (!(await direct('vault.status')).value?.exists) await direct('vault.create', { password: PASSWORD });
    expect(await direct('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true, value: { unlocked: true } });
    const chromium = process.env.CUSTODY_CHROMIUM ?? '/usr/bin/chromium';
    const browser = await playwright.chromium.launch({
      ...(existsSync(chromium) ? { executablePath: chromium } : {}),
      args: ['--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
    });
    try {
      const rebound = `http://rebind.test:${new URL(shell.origin).port}`;
      const tryFromPage = (page: Page) =>
        page.evaluate(async (token) => {
          const call = async (method: string) => {
            try {
              const res = await fetch(`/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
              return `${res.status} ${(await res.text()).includes('unlocked') ? 'with vault data' : 'without vault data'}`;
            } catch {
              return 'blocked by the browser';
            }
          };
          return { status: await call('vault.status'), lock: await call('vault.lock') };
        }, shell.token);

      // 1. The classic: the attacker's server served the page for rebind.test (simulated by a
      // route), then the name resolves to 127.0.0.1. Chromium's Private Network Access may
      // already stop a public page from reaching loopback; if not, the shell's Host check does.
      const first = await browser.newPage();
      await first.route(`${rebound}/`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>rebound</title>' }));
      await first.goto(`${rebound}/`);
      const fromPublic = await tryFromPage(first);
      for (const answer of Object.values(fromPublic)) expect(answer).toMatch(/^(blocked by the browser|403 without vault data)$/);

      // 2. With the browser's guard out of the way (the page itself comes from the rebound name
      // on loopback), every request reaches the shell, which refuses the foreign Host.
      const second = await browser.newPage();
      const nav = await second.goto(`${rebound}/`);
      expect(nav?.status()).toBe(403);
      expect(await tryFromPage(second)).toEqual({ status: '403 without vault data', lock: '403 without vault data' });
    } finally {
      await browser.close();
    }
    expect(await direct('vault.status')).toMatchObject({ ok: true, value: { unlocked: true } });
  });
});
