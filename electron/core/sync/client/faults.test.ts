// Faults: connections the server ends in the middle of a push or a pull (what a restart looks
// like to a client; pg_terminate_backend, so other test files sharing the cluster are not
// disturbed), replies lost after a commit, and a server that cannot be reached at all.
import net from 'node:net';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { makeRecords } from '../../../../bench/vault.bench.ts';
import { insertRecords } from '../../records/importer.ts';
import { tempVault } from '../../testing/tempVault.ts';
import { describePg } from '../testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, snapshot, type Device } from '../testing/devices.ts';
import { terminateBackends, type TestServer } from '../testing/pg.ts';
import { SyncEngine } from './engine.ts';

let server: TestServer;

const serverCounts = async (vaultId: string) =>
  (
    await server.admin.query<{ records: number; distinct: number; versions: number }>(
      'SELECT count(*)::int AS records, count(DISTINCT id)::int AS "distinct", (SELECT count(*)::int FROM custody.record_version WHERE vault_id = $1) AS versions FROM custody.record WHERE vault_id = $1',
      [vaultId],
    )
  ).rows[0]!;

/** A TCP relay to PostgreSQL that can be cut and restored, like a network link. */
async function relay(): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let srv: net.Server;
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      srv = net.createServer((client) => {
        const upstream = net.connect(5432, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      srv.listen(port, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  return {
    port,
    cut: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
    restore: async () => {
      await listen(port);
    },
  };
}

describePg('sync faults', (testServer) => {
  beforeEach(() => {
    server = testServer();
  });
  afterEach(closeDevices);

  test('connections ended in the middle of a push: the retry completes it, nothing lost or duplicated', async () => {
    const { url, role } = await server.analyst();
    const a = await firstDevice(url);
    await insertRecords(a.custody.vault, makeRecords(2000, 3));
    let killed: Promise<number> | undefined;
    const failed = await a.engine
      .syncNow((p) => {
        if (p.phase === 'push' && !killed) killed = terminateBackends(server.admin, role);
      })
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(await killed).toBeGreaterThan(0);
    expect(failed?.message).toMatch(/unreachable|terminat/i);
    expect(failed?.message).not.toContain(/:([^@:]+)@/.exec(url)![1]);
    expect(a.engine.status()).toMatchObject({ online: false, lastError: expect.stringMatching(/unreachable|terminat/i) });
    const partial = await serverCounts(a.custody.vault.vaultId);
    expect(partial.records % 500).toBe(0); // whole batches or nothing
    expect(partial.records).toBeLessThan(2000);
    expect(a.engine.status().pending).toBe(2000 - partial.records);

    await a.engine.syncNow();
    expect(await serverCounts(a.custody.vault.vaultId)).toEqual({ records: 2000, distinct: 2000, versions: 0 });
    expect(a.engine.status()).toMatchObject({ pending: 0, online: true, lastError: null });
    const b = await joinDevice(url, 'B');
    expect(await snapshot(b)).toEqual(await snapshot(a));
  });

  test('connections ended in the middle of a pull: the next pull resumes from its cursor', async () => {
    const { url, role } = await server.analyst();
    const a = await firstDevice(url);
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    await insertRecords(a.custody.vault, makeRecords(2000, 4));
    await a.engine.syncNow();
    let killed: Promise<number> | undefined;
    await expect(
      b.engine.syncNow((p) => {
        if (p.phase === 'pull' && !killed) killed = terminateBackends(server.admin, role);
      }),
    ).rejects.toThrow(/unreachable|terminat/i);
    const partial = (await snapshot(b)).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(2000);
    expect(partial % 500).toBe(0);
    await b.engine.syncNow();
    expect(await snapshot(b)).toEqual(await snapshot(a));
  });

  test('a push that landed but whose reply was lost is recognised by its ciphertext: no duplicate, no conflict', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const created = await a.custody.createRecord({ kind: 'note', title: 'created' });
    const edited = await a.custody.createRecord({ kind: 'note', title: 'edited' });
    await a.engine.syncNow();
    await a.custody.updateRecord(edited.id, 1, { body: 'v2' });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    // As if the replies had been lost: A believes nothing reached the server, and B builds on it.
    const forget = (d: Device) =>
      d.custody.vault.db.writeSync(() => {
        d.custody.vault.db.sql.exec("DELETE FROM sync_record; INSERT INTO sync_outbox (kind, target_id, created_at) SELECT 'record', id, 0 FROM record");
        d.custody.vault.db.sql.prepare("INSERT INTO sync_record (record_id, version, deleted) VALUES (?, 1, 0)").run(edited.id);
      });
    await forget(a);
    await b.custody.updateRecord(edited.id, 2, { title: 'edited by B' });
    await b.engine.syncNow();
    await a.custody.updateRecord(created.id, 1, { body: 'more' });
    const r = await a.engine.syncNow();
    expect(r).toMatchObject({ conflicts: 0, merged: 0 });
    expect(await serverCounts(a.custody.vault.vaultId)).toEqual({ records: 2, distinct: 2, versions: 3 });
    await b.engine.syncNow();
    expect(await snapshot(a)).toEqual(await snapshot(b));
    expect((await snapshot(a)).map((s) => [s.title, s.body, s.version])).toEqual([
      ['created', 'more', 2],
      ['edited by B', 'v2', 3],
    ]);
  });

  test('with the server unreachable the vault stays usable; the outbox drains once it is back', async () => {
    const link = await relay();
    const { url: direct } = await server.analyst();
    const url = direct.replace(':5432/', `:${link.port}/`);
    const tv = await tempVault();
    const engine = new SyncEngine(tv.custody, { retry: { baseMs: 100, maxMs: 800, threshold: 3 } });
    try {
      await engine.configure({ url });
      await engine.syncNow();
      await link.cut();

      // Working offline: every change queues; syncing fails fast, saying why, without the password.
      for (let i = 0; i < 5; i++) await tv.custody.createRecord({ kind: 'note', title: `offline ${i}` });
      for (let i = 0; i < 3; i++) await expect(engine.syncNow()).rejects.toThrow(/unreachable/);
      const s = engine.status();
      expect(s).toMatchObject({ online: false, pending: 5, lastError: expect.stringMatching(/unreachable.*ECONNREFUSED/) });
      expect(s.lastError).not.toContain(/:([^@:]+)@/.exec(url)![1]);
      const attempts = tv.custody.vault.db.sql.prepare('SELECT min(attempts) AS n FROM sync_outbox').get() as { n: number };
      expect(attempts.n).toBeGreaterThanOrEqual(3);
      // The circuit is open (for about 400 ms): automatic syncs do not even try.
      const tries = () => (tv.custody.vault.db.sql.prepare('SELECT max(attempts) AS n FROM sync_outbox').get() as { n: number }).n;
      const before = tries();
      expect(await engine.requestSync()).toBeNull();
      expect(tries()).toBe(before);

      // Back online: the background loop retries after its backoff and drains the outbox.
      await link.restore();
      engine.start(100);
      const drained = () => engine.status().pending === 0 && engine.status().lastError === null;
      for (let i = 0; i < 100 && !drained(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(engine.status()).toMatchObject({ pending: 0, online: true, lastError: null });
      expect((await serverCounts(tv.vaultId)).records).toBe(5);
    } finally {
      await engine.close();
      await tv.cleanup();
      await link.cut();
    }
  });

  test('configuring a server that cannot be reached fails clearly and changes nothing', async () => {
    const { url } = await server.analyst();
    const tv = await tempVault();
    const engine = new SyncEngine(tv.custody);
    try {
      const wrong = url.replace(':5432/', ':1/');
      const e = await engine.configure({ url: wrong }).then(
        () => null,
        (err: Error) => err,
      );
      expect(e?.message).toMatch(/unreachable.*ECONNREFUSED/);
      expect(e?.message).not.toContain(/:([^@:]+)@/.exec(url)![1]);
      expect(engine.status().configured).toBe(false);
    } finally {
      await engine.close();
      await tv.cleanup();
    }
  });
});
