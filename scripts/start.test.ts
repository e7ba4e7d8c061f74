// `npm start` where Electron's binary cannot be had: it serves the web shell itself (building
// out/ first if needed), prints the address, opens the browser through a private file, and on
// Ctrl+C locks the vault and exits 0. Real processes, a real vault, a real HTTP server.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { KDF_FLOOR } from '../electron/core/crypto/kdf.ts';
import { Custody } from '../electron/core/custody.ts';

const root = mkdtempSync(join(tmpdir(), 'custody-start-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Resolves with what `get` returns once it is truthy (polled); rejects if `exited` settles first or time runs out. */
async function until<T>(what: string, get: () => T | undefined | null | false, exited: Promise<unknown>, timeoutMs: number): Promise<T> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const v = get();
    if (v) return v;
    if (gone) throw new Error(`npm start exited before ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('without Electron, npm start serves the app, opens it through a private file, and locks the vault on Ctrl+C', { timeout: 600_000 }, async () => {
  const password = 'start test password';
  const vault = join(root, 'vault');
  await Custody.create(vault, { password, kdf: KDF_FLOOR, actor: 'tester' });
  // A stand-in for the default browser: records what it was asked to open.
  const opened = join(root, 'opened.txt');
  const browser = join(root, 'browser.sh');
  writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  chmodSync(browser, 0o755);

  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: resolve(import.meta.dirname, '..'),
    // An empty override directory: the Electron binary is absent whatever this machine has.
    env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: join(root, 'no-electron'), CUSTODY_VAULT: vault, BROWSER: browser, CUSTODY_WEB_PORT: '0', CUSTODY_WEB_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a failed test can end the web shell too
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  try {
    // Building the app on a busy machine can take minutes.
    const address = await until('the address', () => /^Open (http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{32,})$/m.exec(stdout)?.[1], exited, 480_000);
    expect(stdout).toContain(`Custody web shell (vault: ${vault})`);
    const why = stderr.split('\n').filter((l) => l.includes('not the desktop app'));
    expect(why).toEqual([expect.stringMatching(/^Custody: not the desktop app: Electron's binary is not available here \(.+\); serving the same app \(same vault\) to your browser instead\.$/)]);

    const url = new URL(address);
    const token = url.hash.slice('#token='.length);
    const page = await fetch(new URL('/', url));
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root">/);
    const call = (method: string, body: unknown) =>
      fetch(new URL(`/api/call/${method}`, url), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: url.origin }, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<{ ok: boolean; value?: { unlocked?: boolean } }>,
      );
    expect(await call('vault.unlock', { password })).toMatchObject({ ok: true, value: { unlocked: true } });

    // The browser got a file readable only by this user that forwards to the address; the
    // token is not on its command line.
    const launch = await until('the browser to be started', () => existsSync(opened) && readFileSync(opened, 'utf8'), exited, 60_000);
    expect(launch).not.toContain(token);
    expect(statSync(launch).mode & 0o077).toBe(0);
    expect(readFileSync(launch, 'utf8')).toContain(`content="0;url=${address}"`);

    child.kill('SIGINT');
    const end = await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000, 'still running'))]);
    expect(end).toEqual({ code: 0, signal: null });
    expect(existsSync(launch)).toBe(false);
    const db = new Database(join(vault, 'custody.db'), { readonly: true });
    try {
      const last = db.prepare('SELECT event FROM audit_entry ORDER BY seq DESC LIMIT 1').get() as { event: string };
      expect(last.event).toBe('vault.locked');
    } finally {
      db.close();
    }
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group has already ended
    }
  }
});
