// Faults: connections the server ends in the middle of a push or a pull (what a restart looks
// like to a client; pg_terminate_backend, so other test files sharing the cluster are not
// disturbed), replies lost after a commit, and a server that cannot be reached at all.
// Each fault lands at a known point (during the query after the first batch), not wherever a
// kill sent off asynchronously happens to land on a busy machine.
import net from 'node:net';
import pg from 'pg';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { makeRecords } from '../../../../bench/vault.bench.ts';
import { insertRecords } from '../../records/importer.ts';
import { tempVault } from '../../testing/tempVault.ts';
import { describePg } from '../testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, snapshot, type Device } from '../testing/devices.ts';
import { type TestServer } from '../testing/pg.ts';
import type { SyncProgress } from './context.ts';
import { SyncEngine } from './engine.ts';

let server: TestServer;

/**
 * Ends the analyst's connection in the middle of its next query on custody.record: holds the
 * table's ACCESS EXCLUSIVE lock so that query waits, terminates the backend waiting for it
 * (pg_terminate_backend), then lets the lock go. Resolves once the lock is held, so the caller
 * can let the client go on; `ended` resolves with the number of connections ended.
 */
async function endNextQueryOnRecords(role: string): Promise<{ ended: Promise<number> }> {
  const locker = new pg.Client({ connectionString: server.adminUrl });
  locker.on('error', () => undefined);
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE custody.record IN ACCESS EXCLUSIVE MODE');
  const ended = (async () => {
    try {
      // Waits for the condition (a backend of the role blocked on the lock), however slow the machine.
      for (const deadline = Date.now() + 45_000; Date.now() < deadline; ) {
        const r = await server.admin.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock') t",
          [role],
        );
        if (r.rows[0]!.n > 0) return r.rows[0]!.n;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return 0;
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end().catch(() => undefined);
    }
  })();
  return { ended };
}

/** A progress callback that, after the first batch of `phase`, ends the connection during the next query. */
function faultAfterFirstBatch(phase: SyncProgress['phase'], role: string): { onProgress: (p: SyncProgress) => Promise<void>; ended: () => Promise<number> } {
  let fault: Promise<{ ended: Promise<number> }> | undefined;
  return {
    onProgress: async (p) => {
      if (p.phase !== phase || fault) return;
      fault = endNextQueryOnRecords(role);
      await fault; // the pull or push waits here until the lock is held
    },
    ended: async () => (fault ? (await fault).ended : 0),
  };
}

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
    const fault = faultAfterFirstBatch('push', role);
    const failed = await a.engine.syncNow(fault.onProgress).then(
      () => null,
      (e: Error) => e,
    );
    expect(await fault.ended()).toBe(1);
    expect(failed?.message).toMatch(/unreachable|terminat/i);
    expect(failed?.message).not.toContain(/:([^@:]+)@/.exec(url)![1]);
    expect(a.engine.status()).toMatchObject({ online: false, lastError: expect.stringMatching(/unreachable|terminat/i) });
    // The first batch landed; the second was rolled back whole with its connection.
    expect(await serverCounts(a.custody.vault.vaultId)).toEqual({ records: 500, distinct: 500, versions: 0 });
    expect(a.engine.status().pending).toBe(1500);

    expect((await a.engine.syncNow()).pushed.records).toBe(1500);
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
    const fault = faultAfterFirstBatch('pull', role);
    await expect(b.engine.syncNow(fault.onProgress)).rejects.toThrow(/unreachable|terminat/i);
    expect(await fault.ended()).toBe(1);
    // The first batch is applied with its cursor; the second, cut short, left nothing behind.
    expect(await snapshot(b)).toHaveLength(500);
    const cursor = () => (b.custody.vault.db.sql.prepare("SELECT value FROM sync_state WHERE key = 'cursor_records'").get() as { value: string } | undefined)?.value;
    const afterFault = Number(cursor());
    expect(afterFault).toBeGreaterThan(0);
    // The next pull starts from that cursor: it fetches the other 1500 records, not all 2000.
    expect((await b.engine.syncNow()).pulled.records).toBe(1500);
    expect(Number(cursor())).toBeGreaterThan(afterFault);
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
    // The circuit breaker's clock stands still while the circuit must stay open.
    let frozenAt: number | undefined;
    const engine = new SyncEngine(tv.custody, { retry: { baseMs: 100, maxMs: 800, threshold: 3 }, now: () => frozenAt ?? Date.now() });
    try {
      await engine.configure({ url });
      await engine.syncNow();
      await link.cut();
      frozenAt = Date.now();

      // Working offline: every change queues; syncing fails fast, saying why, without the password.
      for (let i = 0; i < 5; i++) await tv.custody.createRecord({ kind: 'note', title: `offline ${i}` });
      for (let i = 0; i < 3; i++) await expect(engine.syncNow()).rejects.toThrow(/unreachable/);
      const s = engine.status();
      expect(s).toMatchObject({ online: false, pending: 5, lastError: expect.stringMatching(/unreachable.*ECONNREFUSED/) });
      expect(s.lastError).not.toContain(/:([^@:]+)@/.exec(url)![1]);
      const attempts = tv.custody.vault.db.sql.prepare('SELECT min(attempts) AS n FROM sync_outbox').get() as { n: number };
      expect(attempts.n).toBeGreaterThanOrEqual(3);
      // The circuit is open (for about 400 ms of the breaker's clock): automatic syncs do not even try.
      const tries = () => (tv.custody.vault.db.sql.prepare('SELECT max(attempts) AS n FROM sync_outbox').get() as { n: number }).n;
      const before = tries();
      expect(await engine.requestSync()).toBeNull();
      expect(tries()).toBe(before);

      // Back online: the background loop retries after its backoff and drains the outbox.
      await link.restore();
      frozenAt = undefined;
      engine.start(100);
      const drained = () => engine.status().pending === 0 && engine.status().lastError === null;
      for (const deadline = Date.now() + 45_000; Date.now() < deadline && !drained(); ) await new Promise((r) => setTimeout(r, 50));
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
