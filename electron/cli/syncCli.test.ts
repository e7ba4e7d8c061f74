// The sync commands end to end: the built CLI against a real PostgreSQL, from provisioning
// the server to resolving a conflict between two devices. Each run of the CLI costs a second
// or two (start-up, unlock), so steps whose logic core tests cover run in-process.
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { SyncEngine } from '../core/sync/client/engine.ts';
import { describePg } from '../core/sync/testing/describePg.ts';
import type { TestServer } from '../core/sync/testing/pg.ts';
import { SERVER_MIGRATIONS } from '../core/sync/server/provision.ts';
import { cli } from './testing.ts';

let server: TestServer;
let root: string;
const PASSWORD = 'cli sync password';
const env = { CUSTODY_PASSWORD: PASSWORD };
const ok = (r: { status: number; stdout: string; stderr: string }) => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
};

/** Opens a vault in-process, runs fn, closes it. */
async function inProcess<T>(dir: string, fn: (c: Custody) => Promise<T>): Promise<T> {
  const c = await Custody.open(dir);
  try {
    await c.unlock(PASSWORD, { buildIndex: false });
    return await fn(c);
  } finally {
    await c.close();
  }
}

describePg(
  'custody server, sync and conflicts commands',
  (testServer) => {
    beforeAll(() => {
      root = tempDir('custody-sync-cli-');
    });
    beforeEach(() => {
      server = testServer();
      writeFileSync(join(root, 'admin-url'), server.adminUrl);
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    test('provision, add an analyst, configure, join, sync, resolve a conflict, verify', { timeout: 240_000 }, async () => {
      const admin = ['--admin-url-file', join(root, 'admin-url')];
      const none = join(root, 'none');
      expect(ok(cli(none, ['server', 'init', ...admin]))).toMatch(new RegExp(`^applied migrations ${SERVER_MIGRATIONS.map((m) => m.id).join(', ')} in database custody_t`));
      const name = `cli_${randomBytes(4).toString('hex')}`;
      server.track(name);
      const { url } = JSON.parse(ok(cli(none, ['server', 'add-analyst', name, ...admin, '--host', '127.0.0.1', '--sslmode', 'disable', '--json']))) as { url: string };
      writeFileSync(join(root, 'url'), url);
      const password = /:([^:@/]+)@/.exec(url)![1]!;

      const a = join(root, 'a');
      const b = join(root, 'b');
      await Custody.create(a, { password: PASSWORD, kdf: KDF_FLOOR });
      const id = await inProcess(a, async (c) => (await c.createRecord({ kind: 'note', title: 'Dock log', body: 'start' })).id);
      // Certificate files come as flags (made absolute; only the command line and the desktop's file dialog may name files).
      writeFileSync(join(root, 'ca.pem'), 'not needed on loopback, carried along');
      const configured = ok(cli(a, ['sync', 'configure', '--url-file', join(root, 'url'), '--ssl-root-cert', join(root, 'ca.pem')], env));
      expect(configured).toContain('Sync configured with postgresql://');
      expect(configured).toContain(`sslrootcert=${encodeURIComponent(join(root, 'ca.pem'))}`);
      expect(configured).toContain('pushed 1 records');
      expect(configured).not.toContain(password);
      expect(ok(cli(b, ['sync', 'join'], { ...env, CUSTODY_SYNC_URL: url }))).toMatch(/^Joined vault [0-9a-f-]{36} as device/);

      await inProcess(a, (c) => c.updateRecord(id, 1, { body: 'from A' }));
      await inProcess(b, (c) => c.updateRecord(id, 1, { body: 'from B' }));
      expect(ok(cli(b, ['sync'], env))).toContain('pushed 1 records');
      await inProcess(a, async (c) => {
        const engine = new SyncEngine(c);
        await engine.syncNow().finally(() => engine.close());
      });
      const [conflict] = JSON.parse(ok(cli(a, ['conflicts', '--json'], env))) as { id: string; fields: string[] }[];
      expect(conflict!.fields).toEqual(['body']);
      const shown = ok(cli(a, ['conflicts', 'show', conflict!.id], env));
      expect(shown).toContain('mine:   from A');
      expect(shown).toContain('theirs: from B');
      expect(ok(cli(a, ['conflicts', 'resolve', conflict!.id, '--keep', 'mine'], env))).toContain('kept mine (record');
      expect(await inProcess(a, async (c) => (await c.getRecord(id)).body)).toBe('from A');
      expect(ok(cli(b, ['sync', 'verify'], env))).toContain("ok: the server's audit copies match");
    });

    test('a server not on this machine needs sslmode=verify-full (or verify-ca with --ssl-root-cert): anything weaker is refused with the reason', async () => {
      const a = join(root, 'tls');
      await Custody.create(a, { password: PASSWORD, kdf: KDF_FLOOR });
      const refused = (args: string[], why: RegExp) => {
        const r = cli(a, ['sync', 'configure', ...args], env);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(why);
        expect(r.stderr + r.stdout).not.toContain('pw@');
      };
      refused(['--url', 'postgresql://alice:pw@db.example.org/custody'], /db\.example\.org is not on this machine, and the connection string has no sslmode/);
      refused(['--url', 'postgresql://alice:pw@db.example.org/custody?sslmode=require'], /sslmode=require encrypts but does not check the server's certificate/);
      refused(['--url', 'postgresql://alice:pw@db.example.org/custody?sslmode=verify-ca'], /give the CA certificate/);
      refused(['--url', 'postgresql://alice:pw@db.example.org/custody?sslmode=verify-ca', '--ssl-root-cert', join(root, 'missing.pem')], /cannot read the CA certificate file/);
      // Nothing was configured.
      expect(JSON.parse(ok(cli(a, ['sync', 'status', '--json'], env)))).toMatchObject({ configured: false });
    });
  },
  { provision: false },
);
