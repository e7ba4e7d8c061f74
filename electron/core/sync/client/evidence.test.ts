// The sync server cannot destroy or alter evidence. A PostgreSQL superuser (the server's
// operator, or whoever took the server over) writes the rows directly, with the append-only
// triggers out of the way (session_replication_role = replica) and a new change number so
// the devices pull what it wrote. The pulling device must refuse every change no device
// signed, keep its own data as it was, report the server (result and status) and log it once
// (sync.server_misbehaved); genuine changes still go through.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { describePg } from '../testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, snapshot, type Device } from '../testing/devices.ts';
import type { TestServer } from '../testing/pg.ts';
import { pullAudit } from './auditSync.ts';
import type { SyncContext } from './context.ts';
import { pullRecords } from './pull.ts';
import { SyncServer } from './server.ts';
import { SyncState } from './state.ts';

let server: TestServer;

/** Two devices of one vault with three records, everything synced both ways. */
async function twoDevices(): Promise<{ a: Device; b: Device; url: string; vaultId: string; ids: string[] }> {
  const { url } = await server.analyst();
  const a = await firstDevice(url);
  const ids: string[] = [];
  for (const title of ['Witness statement', 'Site photo notes', 'Chain of custody form']) ids.push((await a.custody.createRecord({ kind: 'note', title, body: `${title}: body` })).id);
  await a.engine.syncNow();
  const b = await joinDevice(url, 'B');
  await a.engine.syncNow();
  return { a, b, url, vaultId: a.custody.vault.vaultId, ids };
}

/**
 * Rewrites a record row as the superuser (triggers off), giving it the vault's next change
 * number so every device pulls it. `set` uses $3 onwards for `params`.
 */
async function tamper(vaultId: string, id: string, set: string, params: unknown[] = []): Promise<void> {
  const admin = server.admin;
  await admin.query('SET session_replication_role = replica');
  try {
    await admin.query('BEGIN');
    const seq = (await admin.query<{ s: string }>('UPDATE custody.vault SET change_seq = change_seq + 1 WHERE id = $1 RETURNING change_seq AS s', [vaultId])).rows[0]!.s;
    const r = await admin.query(`UPDATE custody.record SET ${set}, change_seq = ${Number(seq)} WHERE vault_id = $1 AND id = $2`, [vaultId, id, ...params]);
    expect(r.rowCount).toBe(1);
    await admin.query('COMMIT');
  } catch (e) {
    await admin.query('ROLLBACK');
    throw e;
  } finally {
    await admin.query('SET session_replication_role = DEFAULT');
  }
}

const misbehaved = async (d: Device) => (await d.custody.auditQuery({ event: 'sync.server_misbehaved', limit: 100 })).map((e) => ({ target: e.target, kind: e.entry!.details.kind }));

/** Syncs `d`, expects the record refused for that reason, the device's data unchanged, the refusal shown and logged once. */
async function expectRefused(d: Device, id: string, kind: string): Promise<void> {
  const before = await snapshot(d);
  const r = await d.engine.syncNow();
  expect(r.problems.filter((p) => p.record === id)).toEqual([expect.objectContaining({ record: id, kind })]);
  expect(await snapshot(d)).toEqual(before);
  expect(d.engine.status().lastError).toMatch(/^the server misbehaved: /);
  // Looked at again at the next sync (still refused, still shown), logged only once.
  expect((await d.engine.syncNow()).problems.filter((p) => p.record === id)).toEqual([expect.objectContaining({ record: id, kind })]);
  expect(await snapshot(d)).toEqual(before);
  expect((await misbehaved(d)).filter((m) => m.target === `record:${id}`)).toEqual([{ target: `record:${id}`, kind }]);
}

describePg('the sync server cannot destroy or alter evidence', (testServer) => {
  beforeEach(() => {
    server = testServer();
  });
  afterEach(closeDevices);

  test('a purge the server makes up (a tombstone without a signed record.purged) is refused; a genuine purge is applied and logged here', async () => {
    const { a, b, vaultId, ids } = await twoDevices();
    await tamper(vaultId, ids[0]!, 'purged_at = now(), deleted_at = now(), wrapped_dek = NULL, summary = NULL, content = NULL');
    await expectRefused(b, ids[0]!, 'unsigned-purge');
    expect((await b.custody.getRecord(ids[0]!)).title).toBe('Witness statement');

    // A's own purge (with its signed entry) goes through, and B's log says where it came from.
    await a.custody.deleteRecord(ids[1]!);
    await a.custody.purgeRecord(ids[1]!);
    await a.engine.syncNow();
    const r = await b.engine.syncNow();
    expect(r.problems.map((p) => p.kind)).toEqual(['unsigned-purge']); // the made-up one, still refused
    expect((await snapshot(b)).map((s) => s.id)).toEqual([ids[0], ids[2]]);
    const purged = (await b.custody.auditQuery({ event: 'record.purged', limit: 10 })).map((e) => e.entry!);
    expect(purged).toEqual([expect.objectContaining({ target: `record:${ids[1]}`, details: expect.objectContaining({ via: 'sync', device: a.custody.vault.meta.deviceId }) })]);
  });

  test('trash and restore the server makes up are refused, and so is a replay of an old signed one', async () => {
    const { a, b, vaultId, ids } = await twoDevices();
    await tamper(vaultId, ids[0]!, 'deleted_at = now()');
    await expectRefused(b, ids[0]!, 'unsigned-trash');

    // A genuine trash and restore travel; the server then replays A's (older) trash.
    await a.custody.deleteRecord(ids[1]!);
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect((await snapshot(b)).find((s) => s.id === ids[1])?.deleted).toBe(true);
    await a.custody.restoreRecord(ids[1]!);
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect((await snapshot(b)).find((s) => s.id === ids[1])?.deleted).toBe(false);
    await tamper(vaultId, ids[1]!, 'deleted_at = now()');
    const r = await b.engine.syncNow();
    expect(r.problems).toEqual(expect.arrayContaining([expect.objectContaining({ record: ids[1], kind: 'unsigned-trash' })]));
    expect((await snapshot(b)).find((s) => s.id === ids[1])?.deleted).toBe(false);
  });

  test('ciphertext replaced with garbage, or with another record\'s, is refused before it is stored; so is an edit no device signed', async () => {
    const { a, b, url, vaultId, ids } = await twoDevices();
    // Garbage as a "new version".
    await tamper(vaultId, ids[0]!, 'version = 2, content = $3', [randomBytes(120)]);
    await expectRefused(b, ids[0]!, 'altered');
    // Another record's ciphertext (and data key) in place of this one's, same version.
    const other = (await server.admin.query('SELECT wrapped_dek, summary, content FROM custody.record WHERE id = $1', [ids[2]])).rows[0] as { wrapped_dek: Buffer; summary: Buffer; content: Buffer };
    await tamper(vaultId, ids[1]!, 'wrapped_dek = $3, summary = $4, content = $5', [other.wrapped_dek, other.summary, other.content]);
    const r = await b.engine.syncNow();
    expect(r.problems).toEqual(expect.arrayContaining([expect.objectContaining({ record: ids[1], kind: 'altered' })]));
    expect((await b.custody.getRecord(ids[1]!)).title).toBe('Site photo notes');
    // A device joining now takes neither: the records are missing there, not wrong.
    const c = await joinDevice(url, 'C');
    const cr = await c.engine.syncNow();
    expect(cr.problems.map((p) => [p.record, p.kind]).sort()).toEqual([
      [ids[0], 'altered'],
      [ids[1], 'altered'],
    ].sort());
    expect((await snapshot(c)).map((s) => s.title)).toEqual(['Chain of custody form']);
    // A genuine version under a number no device signed: A's own v1 ciphertext is valid for
    // version 1 only (bound by its associated data), so "version 3" of it is refused too.
    const v1 = (await server.admin.query('SELECT summary, content FROM custody.record WHERE id = $1', [ids[2]])).rows[0] as { summary: Buffer; content: Buffer };
    await tamper(vaultId, ids[2]!, 'version = 3, summary = $3, content = $4', [v1.summary, v1.content]);
    expect((await b.engine.syncNow()).problems).toEqual(expect.arrayContaining([expect.objectContaining({ record: ids[2], kind: 'altered' })]));
    expect((await snapshot(a)).map((s) => s.version)).toEqual([1, 1, 1]);
  });

  test('metadata the ciphertext is bound to (kind, capture time) changed on the server is refused', async () => {
    const { b, vaultId, ids } = await twoDevices();
    await tamper(vaultId, ids[0]!, "kind = 'observation'");
    await expectRefused(b, ids[0]!, 'altered');
    await tamper(vaultId, ids[1]!, "captured_at = captured_at - interval '1 minute'");
    await expectRefused(b, ids[1]!, 'altered');
    expect((await snapshot(b)).map((s) => s.version)).toEqual([1, 1, 1]);
    expect((await b.custody.list()).map((r) => r.kind)).toEqual(['note', 'note', 'note']);
  });

  test('a version rolled back to an older one (genuine ciphertext from the history) is refused', async () => {
    const { a, b, vaultId, ids } = await twoDevices();
    await a.custody.updateRecord(ids[0]!, 1, { body: 'corrected statement' });
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect((await b.custody.getRecord(ids[0]!)).body).toBe('corrected statement');
    const old = (await server.admin.query('SELECT wrapped_dek, summary, content, saved_at AS updated_at FROM custody.record_version WHERE record_id = $1 AND version = 1', [ids[0]])).rows[0] as Record<string, unknown>;
    await tamper(vaultId, ids[0]!, 'version = 1, wrapped_dek = $3, summary = $4, content = $5, updated_at = $6', [old.wrapped_dek, old.summary, old.content, old.updated_at]);
    await expectRefused(b, ids[0]!, 'rolled-back');
    await expectRefused(a, ids[0]!, 'rolled-back');
    expect((await b.custody.getRecord(ids[0]!)).body).toBe('corrected statement');
  });

  test('a record row deleted on the server is reported; a purged record brought back is refused', async () => {
    const { a, b, vaultId, ids } = await twoDevices();
    await server.admin.query('SET session_replication_role = replica');
    await server.admin.query('DELETE FROM custody.record WHERE vault_id = $1 AND id = $2', [vaultId, ids[0]]);
    await server.admin.query('SET session_replication_role = DEFAULT');
    await expectRefused(b, ids[0]!, 'missing');
    // An edit here pushes the record again, with its history: once the server holds it, the report stops.
    await b.custody.updateRecord(ids[0]!, 1, { body: 'kept by B' });
    await b.engine.syncNow();
    expect((await b.engine.syncNow()).problems.filter((p) => p.record === ids[0])).toEqual([]);
    await a.engine.syncNow();
    expect((await a.custody.getRecord(ids[0]!)).body).toBe('kept by B');

    // A purges a record; the server keeps a copy and later brings it back from the dead.
    const copy = (await server.admin.query('SELECT wrapped_dek, summary, content FROM custody.record WHERE id = $1', [ids[1]])).rows[0] as { wrapped_dek: Buffer; summary: Buffer; content: Buffer };
    await a.custody.deleteRecord(ids[1]!);
    await a.custody.purgeRecord(ids[1]!);
    await a.engine.syncNow();
    await b.engine.syncNow();
    await tamper(vaultId, ids[1]!, 'purged_at = NULL, deleted_at = NULL, wrapped_dek = $3, summary = $4, content = $5', [copy.wrapped_dek, copy.summary, copy.content]);
    await expectRefused(b, ids[1]!, 'resurrected');
    await expectRefused(a, ids[1]!, 'resurrected');
  });

  test('a genuine change whose signed entry reached the server after this device pulled the audit is taken after one more look', async () => {
    const { a, b, vaultId, ids } = await twoDevices();
    await a.custody.updateRecord(ids[0]!, 1, { title: 'Witness statement (signed)' });
    await a.engine.syncNow();
    // The server shows B a log of A without its newest entries and checkpoints at first: as
    // if A pushed them a moment after B pulled the audit.
    const device = a.custody.vault.meta.deviceId;
    const known = (b.custody.vault.db.sql.prepare('SELECT count(*) AS n FROM remote_audit_entry WHERE device_id = ?').get(device) as { n: number }).n;
    await server.admin.query('SET session_replication_role = replica');
    await server.admin.query('CREATE TEMP TABLE held_e AS SELECT * FROM custody.audit_entry WHERE device_id = $1 AND seq >= $2', [device, known]);
    await server.admin.query('CREATE TEMP TABLE held_c AS SELECT * FROM custody.audit_checkpoint WHERE device_id = $1 AND size > $2', [device, known]);
    await server.admin.query('DELETE FROM custody.audit_entry WHERE device_id = $1 AND seq >= $2', [device, known]);
    await server.admin.query('DELETE FROM custody.audit_checkpoint WHERE device_id = $1 AND size > $2', [device, known]);
    await server.admin.query('SET session_replication_role = DEFAULT');

    const srv = await SyncServer.connect(new SyncState(b.custody.vault).url());
    let looks = 0;
    const ctx: SyncContext = {
      vault: b.custody.vault,
      records: b.custody.records,
      state: new SyncState(b.custody.vault),
      server: srv,
      vaultId,
      deviceId: b.custody.vault.meta.deviceId,
      removeBlobs: () => undefined,
      refreshAudit: async () => {
        looks++;
        await server.admin.query('INSERT INTO custody.audit_entry SELECT * FROM held_e');
        await server.admin.query('INSERT INTO custody.audit_checkpoint SELECT * FROM held_c');
        await pullAudit(ctx);
      },
    };
    try {
      expect((await pullAudit(ctx)).problems).toEqual([]);
      await pullRecords(ctx);
    } finally {
      await srv.close();
    }
    expect(looks).toBe(1);
    expect((await b.custody.getRecord(ids[0]!)).title).toBe('Witness statement (signed)');
    expect(await misbehaved(b)).toEqual([]);
  });
});
