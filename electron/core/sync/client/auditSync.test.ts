// Audit sync against a server operator who tampers: the superuser disables the append-only
// triggers (session_replication_role = replica) and edits, deletes or forges rows. Devices
// must notice, report it, and log it once as sync.server_misbehaved.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { leafHash } from '../../audit/tlog/hash.ts';
import { signNote } from '../../audit/tlog/note.ts';
import { formatCheckpoint } from '../../audit/tlog/checkpoint.ts';
import { logOrigin } from '../../audit/checkpoints.ts';
import { generateEd25519 } from '../../crypto/ed25519.ts';
import { describePg } from '../testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, type Device } from '../testing/devices.ts';
import type { TestServer } from '../testing/pg.ts';

let server: TestServer;

/** A first device with a few records, synced: its audit entries and checkpoint are on the server. */
async function deviceWithLog(): Promise<{ a: Device; url: string; device: string }> {
  const { url } = await server.analyst();
  const a = await firstDevice(url);
  for (let i = 0; i < 5; i++) await a.custody.createRecord({ kind: 'note', title: `r${i}` });
  await a.engine.syncNow();
  return { a, url, device: a.custody.vault.meta.deviceId };
}

/** The position of the first record.created entry of a device's log on the server. */
async function firstCreated(device: string): Promise<number> {
  const r = await server.admin.query("SELECT min(seq)::int AS seq FROM custody.audit_entry WHERE device_id = $1 AND entry LIKE '%record.created%'", [device]);
  return (r.rows[0] as { seq: number }).seq;
}

/** Runs SQL as the superuser with the append-only triggers out of the way. */
async function tamper(sql: string, params: unknown[]): Promise<number> {
  await server.admin.query('SET session_replication_role = replica');
  try {
    return (await server.admin.query(sql, params)).rowCount ?? 0;
  } finally {
    await server.admin.query('SET session_replication_role = DEFAULT');
  }
}

const misbehaved = async (d: Device) => (await d.custody.auditQuery({ event: 'sync.server_misbehaved', limit: 100 })).map((e) => e.entry!.details);

describePg('audit sync and verification', (testServer) => {
  beforeEach(() => {
    server = testServer();
  });
  afterEach(closeDevices);

  test("devices push their entries and checkpoints and verify each other's", async () => {
    const { a, url, device } = await deviceWithLog();
    const b = await joinDevice(url, 'B');
    await a.engine.syncNow();
    const onServer = await server.admin.query('SELECT device_id, count(*)::int AS n FROM custody.audit_entry GROUP BY device_id ORDER BY 1');
    expect(onServer.rows).toHaveLength(2);
    const localA = a.custody.vault.audit.size();
    expect(onServer.rows.find((r) => r.device_id === device)!.n).toBeLessThanOrEqual(localA);
    for (const [d, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const row = d.custody.vault.db.sql.prepare('SELECT verified_size AS size, problem FROM remote_device WHERE id = ?').get(other.custody.vault.meta.deviceId) as { size: number; problem: string | null };
      expect(row.problem).toBeNull();
      expect(row.size).toBeGreaterThan(0);
    }
    expect(await b.engine.verifyServer()).toEqual([]);
    expect(await misbehaved(b)).toEqual([]);
  });

  test('an entry edited on the server is caught by the device that pulls it, and logged once', async () => {
    const { url, device } = await deviceWithLog();
    const seq = await firstCreated(device);
    expect(await tamper("UPDATE custody.audit_entry SET entry = replace(entry, 'record.created', 'record.viewed') WHERE device_id = $1 AND seq = $2", [device, seq])).toBe(1);
    const b = await joinDevice(url, 'B');
    const r = await b.engine.syncNow();
    expect(r.problems).toEqual([expect.objectContaining({ device, kind: 'modified', seq })]);
    expect(b.engine.status().lastError).toMatch(new RegExp(`server misbehaved: entry ${seq} of device .* was changed`));
    expect(await misbehaved(b)).toEqual([{ device, kind: 'modified', seq }]);
    await b.engine.syncNow();
    expect(await misbehaved(b)).toHaveLength(1);
    // Nothing of that device's log was taken in after the bad entry.
    expect(b.custody.vault.db.sql.prepare('SELECT count(*) AS n FROM remote_audit_entry').get()).toEqual({ n: 0 });
  });

  test('an entry rewritten together with its leaf hash no longer matches the signed checkpoint', async () => {
    const { url, device } = await deviceWithLog();
    const row = (await server.admin.query('SELECT entry FROM custody.audit_entry WHERE device_id = $1 AND seq = 2', [device])).rows[0] as { entry: string };
    const forged = row.entry.replace('"tester"', '"someone else"');
    expect(forged).not.toBe(row.entry);
    await tamper('UPDATE custody.audit_entry SET entry = $2, leaf_hash = $3 WHERE device_id = $1 AND seq = 2', [device, forged, leafHash(Buffer.from(forged))]);
    const b = await joinDevice(url, 'B');
    const r = await b.engine.syncNow();
    expect(r.problems).toEqual([expect.objectContaining({ device, kind: 'checkpoint-root-mismatch' })]);
  });

  test('entries dropped by the server are caught: a gap, a withheld tail, or entries deleted after another device pulled them', async () => {
    const first = await deviceWithLog();
    await tamper('DELETE FROM custody.audit_entry WHERE device_id = $1 AND seq = 1', [first.device]);
    const b = await joinDevice(first.url, 'B');
    expect((await b.engine.syncNow()).problems).toEqual([expect.objectContaining({ kind: 'missing', seq: 1 })]);

    const second = await deviceWithLog();
    await tamper('DELETE FROM custody.audit_entry WHERE device_id = $1 AND seq >= 6', [second.device]);
    const c = await joinDevice(second.url, 'C');
    expect((await c.engine.syncNow()).problems).toEqual([expect.objectContaining({ kind: 'withheld' })]);

    const third = await deviceWithLog();
    const d = await joinDevice(third.url, 'D');
    expect((await d.engine.syncNow()).problems).toEqual([]);
    await tamper('DELETE FROM custody.audit_entry WHERE device_id = $1 AND seq = 0', [third.device]);
    expect((await d.engine.syncNow()).problems).toEqual([expect.objectContaining({ kind: 'rolled-back' })]);
  });

  test("verifyServer compares the server's copies with those held here: edits of entries pulled before, of this device's own entries", async () => {
    const { a, url, device } = await deviceWithLog();
    const b = await joinDevice(url, 'B');
    await a.engine.syncNow();
    expect(await b.engine.verifyServer()).toEqual([]);
    const seq = await firstCreated(device);
    expect(await tamper("UPDATE custody.audit_entry SET entry = replace(entry, 'record.created', 'record.viewed') WHERE device_id = $1 AND seq = $2", [device, seq])).toBe(1);
    expect((await b.engine.syncNow()).problems).toEqual([]); // already pulled: an incremental pull cannot see it
    expect(await b.engine.verifyServer()).toEqual([expect.objectContaining({ device, kind: 'modified', seq })]);
    expect(await a.engine.verifyServer()).toEqual([expect.objectContaining({ device, kind: 'modified', seq })]);
    expect((await a.custody.auditQuery({ event: 'audit.verified', limit: 1 }))[0]!.success).toBe(false);
  });

  test('a checkpoint not signed by the device, or a device key the vault never attested, is refused', async () => {
    const { a, url, device } = await deviceWithLog();
    const intruder = generateEd25519();
    const origin = logOrigin(a.custody.vault.vaultId);
    const fake = signNote(formatCheckpoint({ origin, size: 1_000, rootHash: Buffer.alloc(32) }), [{ name: origin, privateKey: intruder.seed }]);
    // Any holder of the analyst's role could insert it: INSERT is what they may do.
    await server.admin.query('INSERT INTO custody.audit_checkpoint (vault_id, device_id, size, note, owner) SELECT vault_id, id, 1000, $2, owner FROM custody.device WHERE id = $1', [device, fake]);
    const b = await joinDevice(url, 'B');
    expect((await b.engine.syncNow()).problems).toEqual([expect.objectContaining({ device, kind: 'checkpoint-forged' })]);

    const second = await deviceWithLog();
    await tamper('UPDATE custody.device SET public_key = $2 WHERE id = $1', [second.device, intruder.publicKey]);
    const c = await joinDevice(second.url, 'C');
    expect((await c.engine.syncNow()).problems).toEqual([expect.objectContaining({ device: second.device, kind: 'device-key' })]);
  });
});
