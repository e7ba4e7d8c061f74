// The desktop's sync panel calls: configure, status, sync now, conflicts — against real PostgreSQL.
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { methods, type Envelope, type Method, type RequestOf, type Responses } from '../../shared/contract.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { describePg } from '../sync/testing/describePg.ts';
import { createCore, type CoreApi } from './handlers.ts';
import { settingsFileFor } from './settings.ts';

let core: CoreApi | undefined;
let root: string | undefined;
afterEach(async () => {
  await core?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describePg('sync over the IPC contract', (pg) => {
  it('configures a server (address sealed, password never shown), syncs, reports status and progress', async () => {
    root = tempDir();
    const vaultDir = join(root, 'vault');
    const events: { event: string; payload: unknown }[] = [];
    core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: (event, payload) => events.push({ event, payload }), nativeDialogs: false, shell: 'web', appVersion: 't' });
    const ok = async <M extends Method>(m: M, r: RequestOf<M>): Promise<Responses[M]> => {
      const env = (await core!.invoke(m, r)) as Envelope<Responses[M]>;
      if (!env.ok) throw new Error(`${m}: ${env.error.code} ${env.error.message}`);
      return env.value;
    };
    await ok('vault.create', { password: PASSWORD });
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('sync.status', {})).toMatchObject({ configured: false });
    expect((await core.invoke('sync.configure', { url: 'https://example.org' })).ok).toBe(false);
    const { url } = await pg().analyst();
    const status = await ok('sync.configure', { url });
    expect(status.configured).toBe(true);
    expect(status.server).not.toContain(new URL(url).password);
    await ok('records.create', { kind: 'note', title: 'synced note' });
    expect((await ok('sync.status', {})).pending).toBeGreaterThan(0);
    const result = await ok('sync.now', {});
    expect(result.pushed.records).toBe(1);
    expect(result.problems).toEqual([]);
    expect(await ok('sync.status', {})).toMatchObject({ pending: 0, online: true, lastError: null });
    expect(events.some((e) => e.event === 'progress' && (e.payload as { op: string }).op === 'sync')).toBe(true);
    expect(await ok('sync.conflicts', {})).toEqual([]);
    // Locking stops the engine first; after unlock it works again.
    await ok('vault.lock', {});
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('sync.status', {})).toMatchObject({ configured: true, pending: 0 });
  });
});

describePg('the CA certificate from the desktop file dialog', (pg) => {
  it('is the one file the window may have used: chosen in main\'s dialog before the call, carried as sslrootcert; the web shell has no dialog', async () => {
    root = tempDir();
    const vaultDir = join(root, 'vault');
    const ca = join(root, 'server-ca.pem');
    writeFileSync(ca, 'a CA certificate (unused on loopback without TLS)');
    core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: () => undefined, nativeDialogs: true, shell: 'electron', appVersion: 't' });
    expect((await core.invoke('vault.create', { password: PASSWORD })).ok).toBe(true);
    expect((await core.invoke('vault.unlock', { password: PASSWORD })).ok).toBe(true);
    const { url } = await pg().analyst();
    // Main asks first: the certificate dialog, and the answer should it be cancelled (nothing configured).
    expect(await core.plan('sync.configure', { url, caCertificateFromDialog: true })).toMatchObject({ ok: true, value: { dialog: 'openCertificate', cancelled: { configured: false, cancelled: true } } });
    expect(await core.plan('sync.configure', { url })).toEqual({ ok: true, value: { dialog: null } });
    expect(await core.invoke('sync.status', {})).toMatchObject({ ok: true, value: { configured: false } });
    // The renderer cannot send the file itself; main's call can, with an absolute path only.
    expect(await core.invoke('sync.configure', { url, path: ca } as never)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    for (const path of ['server-ca.pem', `${ca}\0.txt`, ''])
      expect(await core.invokeWithFiles('sync.configure', { url, caCertificateFromDialog: true, path }), path).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await core.invoke('sync.status', {})).toMatchObject({ ok: true, value: { configured: false } });
    const env = await core.invokeWithFiles('sync.configure', { url, caCertificateFromDialog: true, path: ca });
    expect(env).toMatchObject({ ok: true, value: { configured: true } });
    expect((env as { value: { server: string } }).value.server).toContain(`sslrootcert=${encodeURIComponent(ca)}`);
    await core.close();

    // The web shell has no file dialog: it says where to go instead.
    core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 't' });
    expect((await core.invoke('vault.unlock', { password: PASSWORD })).ok).toBe(true);
    expect(await core.invoke('sync.configure', { url, caCertificateFromDialog: true })).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/desktop app's file dialog.*--ssl-root-cert/) } });
  });
});

describe('sync connection strings from the window', () => {
  /** A vault, unlocked, served by the handlers as the desktop app and the web shell serve it. */
  async function unlockedCore(): Promise<CoreApi> {
    root = tempDir();
    const vaultDir = join(root, 'vault');
    core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 't' });
    for (const [m, r] of [
      ['vault.create', { password: PASSWORD }],
      ['vault.unlock', { password: PASSWORD }],
    ] as const)
      expect((await core.invoke(m, r)).ok).toBe(true);
    return core;
  }

  /** A TCP listener on loopback that counts connections: a refused string must not reach it. */
  async function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
    let n = 0;
    const srv = net.createServer((socket) => {
      n++;
      socket.destroy();
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    return { port: (srv.address() as net.AddressInfo).port, connections: () => n, close: () => new Promise((r) => srv.close(() => r())) };
  }

  it('a string naming certificate or key files is refused by the contract and by the handler; nothing is read, nothing configured', async () => {
    const c = await unlockedCore();
    const secret = join(root!, 'secret.txt');
    writeFileSync(secret, 'CANARY-not-for-the-server');
    const l = await listener();
    try {
      for (const param of ['sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'SSLCert', 'ssl%6Bey']) {
        const url = `postgresql://a:pw@127.0.0.1:${l.port}/custody?sslmode=require&${param}=${encodeURIComponent(secret)}`;
        // The contract's schema (what main's dispatch and the web shell check first)...
        const parsed = methods['sync.configure'].safeParse({ url });
        expect(parsed.success, param).toBe(false);
        expect(parsed.error!.issues[0]!.message).toMatch(/cannot be set from the window/);
        // ...the full call...
        const env = await c.invoke('sync.configure', { url });
        expect(env).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/cannot be set from the window.*--ssl-root-cert/) } });
        expect(JSON.stringify(env)).not.toContain('CANARY');
        // ...and the handler itself, for a caller that skipped the schema.
        await expect(c.handlers['sync.configure']({ url })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/cannot be set from the window/) });
      }
      expect(l.connections()).toBe(0);
      const status = await c.invoke('sync.status', {});
      expect(status).toMatchObject({ ok: true, value: { configured: false } });
    } finally {
      await l.close();
    }
  });

  it('a server not on this machine without sslmode=verify-full (or verify-ca with a CA) is refused with the reason', async () => {
    const c = await unlockedCore();
    // Accepted by the schema (it is a well-formed string without files); refused before any connection.
    for (const [url, why] of [
      ['postgresql://a:pw@db.example.org/custody', /no sslmode/],
      ['postgresql://a:pw@db.example.org/custody?sslmode=require', /does not check the server's certificate/],
      ['postgresql://a:pw@192.0.2.1/custody?sslmode=prefer', /falls back to an unencrypted connection/],
      ['postgresql://a:pw@localhost/custody?host=db.example.org&sslmode=disable', /db\.example\.org is not on this machine/],
      ['postgresql://a:pw@db.example.org/custody?sslmode=verify-ca', /give the CA certificate/],
    ] as const) {
      expect(methods['sync.configure'].safeParse({ url }).success).toBe(true);
      const env = await c.invoke('sync.configure', { url });
      expect(env).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(why) } });
      expect(JSON.stringify(env)).not.toContain(':pw@');
    }
    expect(await c.invoke('sync.status', {})).toMatchObject({ ok: true, value: { configured: false } });
  });
});
