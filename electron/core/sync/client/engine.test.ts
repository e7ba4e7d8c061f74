// Devices of one vault syncing through a real PostgreSQL: creates, edits, trash, purges and
// attachments travel; offline edits on several devices merge or become conflicts; nothing is
// lost; the server never sees plaintext.
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { PASSWORD, tempDir } from '../../testing/tempVault.ts';
import { describePg } from '../testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, snapshot, syncAll } from '../testing/devices.ts';
import { dumpServer, type TestServer } from '../testing/pg.ts';
import { SyncEngine } from './engine.ts';

let server: TestServer;

describePg('sync between devices', (testServer) => {
  beforeEach(() => {
    server = testServer();
  });
  afterEach(closeDevices);

  test('creates, edits, trash, restore, purge and attachments reach the other device', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const file = join(tempDir(), 'photo.jpg');
    writeFileSync(file, Buffer.alloc(1024 * 1024 + 17, 7)); // two 1 MiB chunks on the server
    const r1 = await a.custody.createRecord({ kind: 'note', title: 'Checkpoint visit', body: 'Arrived 09:10', tags: ['field'] });
    const att = await a.custody.addAttachment(r1.id, file);
    const r2 = await a.custody.createRecord({ kind: 'observation', title: 'Gate count', fields: [{ name: 'vehicles', type: 'number', value: 12 }] });
    const r3 = await a.custody.createRecord({ kind: 'note', title: 'To be purged' });
    await a.custody.addAttachment(r3.id, file);
    const pushed = await a.engine.syncNow();
    expect(pushed.pushed).toMatchObject({ records: 3, attachments: 2 });
    expect(a.engine.status()).toMatchObject({ configured: true, pending: 0, online: true, lastError: null, conflicts: 0 });

    const b = await joinDevice(url, 'B');
    expect(await snapshot(b)).toEqual(await snapshot(a));
    const out = join(tempDir(), 'out.jpg');
    await b.custody.extractAttachment(att.id, out);
    expect(readFileSync(out).equals(readFileSync(file))).toBe(true);

    await a.custody.buildIndex(); // pulled changes must reach a search index in use
    await b.custody.updateRecord(r1.id, 1, { body: 'Arrived 09:10, left 11:00' });
    await b.custody.deleteRecord(r2.id);
    await a.custody.deleteRecord(r3.id);
    await a.custody.purgeRecord(r3.id);
    await syncAll([b, a, b]);
    const [sa, sb] = [await snapshot(a), await snapshot(b)];
    expect(sa).toEqual(sb);
    expect(sa.map((r) => [r.title, r.version, r.deleted])).toEqual([
      ['Checkpoint visit', 2, false],
      ['Gate count', 1, true],
    ]);
    expect(sa[0]!.body).toBe('Arrived 09:10, left 11:00');
    expect((await a.custody.search({ text: 'left' })).hits.map((h) => h.id)).toEqual([r1.id]);
    expect((await a.custody.search({ text: 'gate', deleted: 'only' })).hits.map((h) => h.id)).toEqual([r2.id]);
    // The purged record's attachment blob is gone on B too; A's history holds the old version.
    expect(readdirSync(join(b.dir, 'attachments'))).toEqual([`${att.id}.cce`]);
    expect((await a.custody.history(r1.id)).map((v) => [v.version, v.record.body])).toEqual([
      [2, 'Arrived 09:10, left 11:00'],
      [1, 'Arrived 09:10'],
    ]);

    await a.custody.restoreRecord(r2.id);
    await syncAll([a, b]);
    expect((await snapshot(b)).find((r) => r.id === r2.id)?.deleted).toBe(false);
    const events = (await b.custody.auditQuery({ event: 'sync.', limit: 100 })).map((r) => r.event);
    expect(events).toEqual(expect.arrayContaining(['sync.pushed', 'sync.pulled']));
  });

  test('offline edits on both sides merge field by field; overlapping edits become conflicts; nothing is lost', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const r = await a.custody.createRecord({ kind: 'note', title: 'Interview', body: 'v1', case: 'C-1', tags: ['x'] });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');

    // Different fields: merged, on both devices, with the base kept in history.
    await a.custody.updateRecord(r.id, 1, { title: 'Interview (A)' });
    await a.custody.updateRecord(r.id, 2, { tags: ['x', 'a'] });
    await b.custody.updateRecord(r.id, 1, { case: 'C-2', tags: ['x', 'b'] });
    await syncAll([a, b]);
    const merged = (await snapshot(a)).find((s) => s.id === r.id)!;
    expect(merged).toMatchObject({ title: 'Interview (A)', case: 'C-2', body: 'v1', version: 4 });
    expect(merged.tags.sort()).toEqual(['a', 'b', 'x']);
    expect(await snapshot(b)).toEqual(await snapshot(a));
    expect(b.engine.conflicts()).toEqual([]);
    expect(b.engine.conflicts({ all: true }).map((c) => c.status)).toEqual(['merged']);

    // Same field: a conflict on the device that syncs second; its version is kept. The
    // field only it changed (title) still merges.
    await a.custody.updateRecord(r.id, 4, { body: 'body by A' });
    await b.custody.updateRecord(r.id, 4, { body: 'body by B', title: 'Interview (B)' });
    await a.engine.syncNow();
    const result = await b.engine.syncNow();
    expect(result.conflicts).toBe(1);
    const [conflict] = b.engine.conflicts();
    expect(conflict).toMatchObject({ recordId: r.id, fields: ['body'], status: 'open' });
    expect(b.engine.status().conflicts).toBe(1);
    const detail = await b.engine.conflict(conflict!.id);
    expect(detail.mine).toEqual({ body: 'body by B' });
    expect(detail.theirs).toEqual({ body: 'body by A' });
    expect((await snapshot(b)).find((s) => s.id === r.id)).toMatchObject({ body: 'body by A', title: 'Interview (B)', version: 6 });
    expect((await b.custody.auditQuery({ event: 'sync.conflict', limit: 10 })).some((e) => e.success === false)).toBe(true);

    // Keep mine: B's values become a new version, which reaches A.
    await b.engine.resolveConflict(conflict!.id, 'mine');
    await syncAll([b, a]);
    expect((await snapshot(a)).find((s) => s.id === r.id)).toMatchObject({ body: 'body by B', title: 'Interview (B)', version: 7 });
    await expect(b.engine.resolveConflict(conflict!.id, 'theirs')).rejects.toMatchObject({ code: 'CONFLICT' });

    // Keep theirs: nothing changes, the conflict is closed.
    await a.custody.updateRecord(r.id, 7, { body: 'again A' });
    await b.custody.updateRecord(r.id, 7, { body: 'again B' });
    await syncAll([a, b]);
    const [second] = b.engine.conflicts();
    await b.engine.resolveConflict(second!.id, 'theirs');
    await syncAll([a, b]);
    expect(b.engine.conflicts()).toEqual([]);
    expect(await snapshot(b)).toEqual(await snapshot(a));
    expect((await snapshot(a)).find((s) => s.id === r.id)?.body).toBe('again A');
    // Every version anyone saved is still readable: in the history, or in a conflict.
    const bodies = new Set((await a.custody.history(r.id)).map((v) => v.record.body));
    for (const c of b.engine.conflicts({ all: true })) if (c.status !== 'merged') bodies.add((await b.engine.conflict(c.id)).mine.body!);
    expect([...bodies].sort()).toEqual(['again A', 'again B', 'body by A', 'body by B', 'v1']);
  });

  test('three devices converge after offline creates, edits and deletes everywhere', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const shared = await a.custody.createRecord({ kind: 'note', title: 'Shared', body: 'b0', case: 'c0' });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    const c = await joinDevice(url, 'C');
    const all = [a, b, c];
    // Offline: each device creates records, and edits its own field of the shared one.
    for (const d of all) for (let k = 0; k < 5; k++) await d.custody.createRecord({ kind: 'note', title: `${d.name}-${k}`, body: `from ${d.name}` });
    await a.custody.updateRecord(shared.id, 1, { title: 'Shared (A)' });
    await b.custody.updateRecord(shared.id, 1, { body: 'b1 (B)' });
    await c.custody.updateRecord(shared.id, 1, { case: 'c1 (C)' });
    const doomed = (await a.custody.list()).find((s) => s.title === 'A-0')!;
    await a.custody.deleteRecord(doomed.id);
    await syncAll(all, 3);
    const [sa, sb, sc] = [await snapshot(a), await snapshot(b), await snapshot(c)];
    expect(sb).toEqual(sa);
    expect(sc).toEqual(sa);
    expect(sa).toHaveLength(16);
    expect(sa.find((s) => s.id === shared.id)).toMatchObject({ title: 'Shared (A)', body: 'b1 (B)', case: 'c1 (C)' });
    expect(sa.find((s) => s.id === doomed.id)?.deleted).toBe(true);
    for (const d of all) expect(d.engine.status()).toMatchObject({ pending: 0, conflicts: 0, lastError: null });
    // Each device verified the other two's signed audit logs.
    const remote = a.custody.vault.db.sql.prepare('SELECT count(*) AS n FROM remote_device WHERE verified_size > 0 AND problem IS NULL').get() as { n: number };
    expect(remote.n).toBe(2);
  });

  test('an edit and a delete on two devices: the record ends in the trash with the edit', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const r = await a.custody.createRecord({ kind: 'note', title: 'Edit vs delete' });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    await a.custody.deleteRecord(r.id);
    await b.custody.updateRecord(r.id, 1, { body: 'written offline' });
    await syncAll([a, b]);
    expect(await snapshot(a)).toEqual(await snapshot(b));
    expect((await snapshot(a))[0]).toMatchObject({ deleted: true, body: 'written offline', version: 2 });
  });

  test('a record purged on one device while edited on another comes back as a conflict, and as a new record if kept', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const r = await a.custody.createRecord({ kind: 'note', title: 'Purge vs edit' });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    await a.custody.deleteRecord(r.id);
    await a.custody.purgeRecord(r.id);
    await a.engine.syncNow();
    await b.custody.updateRecord(r.id, 1, { body: 'kept offline' });
    await b.engine.syncNow();
    const [conflict] = b.engine.conflicts();
    expect(conflict).toMatchObject({ recordId: r.id, fields: ['purged'], title: 'Purge vs edit' });
    expect(await snapshot(b)).toEqual([]);
    const kept = await b.engine.resolveConflict(conflict!.id, 'mine');
    expect(kept.recordId).not.toBe(r.id);
    await syncAll([b, a]);
    expect((await snapshot(a)).map((s) => [s.title, s.body])).toEqual([['Purge vs edit', 'kept offline']]);
  });

  test('joining: with the recovery key a new password is set; a wrong password creates nothing', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    await a.custody.createRecord({ kind: 'note', title: 'joined' });
    await a.engine.syncNow();
    const dir = join(tempDir(), 'vault');
    await expect(SyncEngine.join(dir, { url, password: 'not the password' })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    expect(existsSync(dir)).toBe(false);
    const c = await joinDevice(url, 'C', { password: undefined, recoveryKey: a.recoveryKey, newPassword: 'a new password for C' });
    expect((await snapshot(c)).map((s) => s.title)).toEqual(['joined']);
    expect(c.custody.vault.meta.deviceId).not.toBe(a.custody.vault.meta.deviceId);
    await c.custody.lock();
    await expect(c.custody.unlock(PASSWORD)).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    await c.custody.unlock('a new password for C', { buildIndex: false });
  });

  test('no plaintext reaches the server, and the server address is stored sealed', async () => {
    const { url } = await server.analyst();
    const a = await firstDevice(url);
    const CANARY = 'CANARY-7f3a9b';
    const file = join(tempDir(), `${CANARY}.txt`);
    writeFileSync(file, `${CANARY} attachment text `.repeat(100));
    const r = await a.custody.createRecord({
      kind: 'observation',
      title: `${CANARY} title`,
      body: `${CANARY} body`,
      case: `${CANARY} case`,
      tags: [`${CANARY}-tag`],
      fields: [{ name: `${CANARY} field`, type: 'text', value: `${CANARY} value` }],
    });
    await a.custody.addAttachment(r.id, file);
    await a.custody.updateRecord(r.id, 1, { body: `${CANARY} second body` });
    await a.engine.syncNow();
    const dump = await dumpServer(server.admin);
    expect(dump).toContain(r.id); // the dump does hold the rows
    expect(dump).not.toContain(CANARY);
    expect(dump).not.toContain(Buffer.from(CANARY).toString('hex'));
    expect(dump).not.toContain(Buffer.from(CANARY).toString('base64').slice(0, 12));
    const password = /:\/\/[^:]+:([^@]+)@/.exec(url)![1]!;
    expect(readFileSync(join(a.dir, 'custody.db')).includes(Buffer.from(password))).toBe(false);
    expect(a.engine.status().server).not.toContain(password);
  });
});
