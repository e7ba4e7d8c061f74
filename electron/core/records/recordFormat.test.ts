// Record metadata is authenticated (codec.ts, format 2): kind and captured-at (and so the epoch
// day) are bound into every record ciphertext, so someone who can write the vault folder but
// has no password cannot change or swap them between rows unnoticed. A record moved to another
// UTC day gets a new data key under that day's key. Vaults made by 0.1.0 (format 1) still open.
import { afterEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ad, open, seal } from '../crypto/aead.ts';
import { randomKey } from '../crypto/keys.ts';
import { tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { Custody } from '../custody.ts';
import { fieldFormat, unwrapKeys, wrapDek } from './codec.ts';

let tv: TempVault | undefined;
let opened: Custody | undefined;
afterEach(async () => {
  await opened?.close().catch(() => undefined);
  opened = undefined;
  await tv?.cleanup();
  tv = undefined;
});

const db = (dir: string) => new Database(join(dir, 'custody.db'));
/**
 * The database as a folder writer has it: the consistency triggers of migration 0005 are only a
 * guard against bugs, and an attacker with the folder drops them first.
 */
function asFolderWriter(dir: string): Database.Database {
  const d = db(dir);
  for (const t of d.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%epoch_day%'").pluck().all() as string[]) d.exec(`DROP TRIGGER "${t}"`);
  return d;
}
type Row = { id: string; kind: string; captured_at: number; epoch_day: string; wrapped_dek: Buffer; summary: Buffer; content: Buffer };
const rowOf = (d: Database.Database, id: string) => d.prepare('SELECT * FROM record WHERE id = ?').get(id) as Row;

describe('record metadata is bound to the ciphertext', () => {
  test('new versions are written in format 2, in the record and in its history', async () => {
    tv = await tempVault();
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'note', title: 'one' });
    await c.updateRecord(r.id, 1, { title: 'two' });
    const d = db(tv.dir);
    const cur = rowOf(d, r.id);
    const old = d.prepare('SELECT summary, content FROM record_version WHERE record_id = ?').get(r.id) as { summary: Buffer; content: Buffer };
    d.close();
    expect([cur.summary, cur.content, old.summary, old.content].map(fieldFormat)).toEqual([2, 2, 2, 2]);
  });

  test('a folder writer who swaps or changes kind, captured_at or epoch_day makes the record fail as TAMPERED', async () => {
    tv = await tempVault();
    const c = tv.custody;
    const t = '2026-05-01T10:00:00.000Z';
    const note = await c.createRecord({ kind: 'note', title: 'note', capturedAt: t });
    const obs = await c.createRecord({ kind: 'observation', title: 'obs', capturedAt: t });
    const file = await c.createRecord({ kind: 'file', title: 'file', capturedAt: '2026-05-01T11:00:00.000Z' });
    const other = await c.createRecord({ kind: 'note', title: 'other day', capturedAt: '2026-06-01T10:00:00.000Z' });
    const d = asFolderWriter(tv.dir);
    const set = (id: string, col: string, v: unknown) => d.prepare(`UPDATE record SET ${col} = ? WHERE id = ?`).run(v, id);
    const snapshot = new Map([note, obs, file, other].map((r) => [r.id, rowOf(d, r.id)]));
    const restore = () => {
      for (const [id, r] of snapshot) d.prepare('UPDATE record SET kind = ?, captured_at = ?, epoch_day = ? WHERE id = ?').run(r.kind, r.captured_at, r.epoch_day, id);
    };
    const tampered = async (id: string) => {
      await expect(c.getRecord(id)).rejects.toMatchObject({ code: 'TAMPERED' });
      // Listings and the search index read the same way.
      expect(() => c.records.decrypt(c.records.scan('', 100).find((r) => r.id === id)!)).toThrow(expect.objectContaining({ code: 'TAMPERED' }));
    };

    // Kind swapped between two rows of the same day (same epoch key): both fail.
    set(note.id, 'kind', 'observation');
    set(obs.id, 'kind', 'note');
    await tampered(note.id);
    await tampered(obs.id);
    restore();
    // Kind changed alone.
    set(file.id, 'kind', 'note');
    await tampered(file.id);
    restore();
    // Captured-at moved within the same day (the epoch key still opens the data key).
    set(note.id, 'captured_at', Date.parse(t) + 3_600_000);
    await tampered(note.id);
    restore();
    // Captured-at and epoch_day swapped between rows of different days.
    set(note.id, 'captured_at', snapshot.get(other.id)!.captured_at);
    set(note.id, 'epoch_day', snapshot.get(other.id)!.epoch_day);
    set(other.id, 'captured_at', snapshot.get(note.id)!.captured_at);
    set(other.id, 'epoch_day', snapshot.get(note.id)!.epoch_day);
    await tampered(note.id);
    await tampered(other.id);
    restore();
    // Epoch day changed alone; captured-at moved to another day alone.
    set(obs.id, 'epoch_day', '2026-05-02');
    await tampered(obs.id);
    restore();
    set(obs.id, 'captured_at', Date.parse('2026-05-02T10:00:00.000Z'));
    await tampered(obs.id);
    restore();
    // Whole metadata copied from another row with its ciphertexts left: fails too.
    set(file.id, 'kind', 'observation');
    set(file.id, 'captured_at', snapshot.get(obs.id)!.captured_at);
    await tampered(file.id);
    restore();
    // Put back, everything reads again (the checks are about the change, nothing else).
    for (const r of [note, obs, file, other]) expect((await c.getRecord(r.id)).title).toBe(r.title);

    // The history rows are bound the same way.
    await c.updateRecord(note.id, 1, { title: 'note v2' });
    d.prepare("UPDATE record_version SET kind = 'file' WHERE record_id = ?").run(note.id);
    await expect(c.history(note.id)).rejects.toMatchObject({ code: 'TAMPERED' });
    d.prepare("UPDATE record_version SET kind = 'note', captured_at = captured_at + 1 WHERE record_id = ?").run(note.id);
    await expect(c.history(note.id)).rejects.toMatchObject({ code: 'TAMPERED' });
    d.close();
    const failedViews = await c.auditQuery({ event: 'record.viewed', success: false, limit: 100 });
    expect(failedViews.length).toBeGreaterThanOrEqual(8);
  });

  test('a format-2 ciphertext stripped of its format byte, or given a format byte, fails', async () => {
    tv = await tempVault();
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'note', title: 'x' });
    const d = db(tv.dir);
    const row = rowOf(d, r.id);
    d.prepare('UPDATE record SET summary = ? WHERE id = ?').run(row.summary.subarray(1), r.id);
    await expect(c.getRecord(r.id)).rejects.toMatchObject({ code: 'TAMPERED' });
    d.prepare('UPDATE record SET summary = ? WHERE id = ?').run(Buffer.concat([Buffer.of(2), row.summary]), r.id);
    await expect(c.getRecord(r.id)).rejects.toMatchObject({ code: 'TAMPERED' });
    d.close();
  });
});

describe('moving a record to another UTC day', () => {
  test('gives it a new data key, wrapped under the new day and not the old; attachments and history still open', async () => {
    tv = await tempVault();
    const c = tv.custody;
    const { vaultId } = c.vault;
    const keys = c.vault.keys();
    const r = await c.createRecord({ kind: 'note', title: 'v1', body: 'before the move', capturedAt: '2026-03-01T12:00:00.000Z' });
    writeFileSync(join(tv.dir, '..', 'a.txt'), 'added before the move');
    const before = await c.addAttachment(r.id, join(tv.dir, '..', 'a.txt'));
    const d = db(tv.dir);
    const old = rowOf(d, r.id);
    const [oldDek] = unwrapKeys(keys, vaultId, r.id, '2026-03-01', old.wrapped_dek);

    await c.updateRecord(r.id, 1, { capturedAt: '2026-03-09T08:00:00.000Z', body: 'after the move' });
    const moved = rowOf(d, r.id);
    expect(moved.epoch_day).toBe('2026-03-09');
    const dekAd = (day: string) => ad('dek', vaultId, r.id, day);
    // Opens with the new day's epoch key ...
    const chain = open(keys.epochKey('2026-03-09'), moved.wrapped_dek, dekAd('2026-03-09'));
    expect(chain.length).toBe(64);
    // ... and not with the old day's, whatever associated data is tried.
    for (const day of ['2026-03-09', '2026-03-01']) expect(() => open(keys.epochKey('2026-03-01'), moved.wrapped_dek, dekAd(day))).toThrow(expect.objectContaining({ code: 'TAMPERED' }));
    // A new key: the old day's key holder (old DEK) cannot read what was written after the move.
    const [newDek, carried] = unwrapKeys(keys, vaultId, r.id, '2026-03-09', moved.wrapped_dek);
    expect(newDek!.equals(oldDek!)).toBe(false);
    expect(carried!.equals(oldDek!)).toBe(true);
    const contentAd = ad('record/v2', vaultId, r.id, 2, 'content', 'note', moved.captured_at, '2026-03-09');
    expect(open(newDek!, moved.content.subarray(1), contentAd).toString()).toContain('after the move');
    expect(() => open(oldDek!, moved.content.subarray(1), contentAd)).toThrow(expect.objectContaining({ code: 'TAMPERED' }));
    const v1 = d.prepare('SELECT * FROM record_version WHERE record_id = ? AND version = 1').get(r.id) as Row;
    expect(v1.epoch_day).toBe('2026-03-01');
    expect(v1.wrapped_dek.equals(old.wrapped_dek)).toBe(true);
    d.close();

    expect((await c.getRecord(r.id)).body).toBe('after the move');
    expect((await c.history(r.id)).map((v) => v.record.body)).toEqual(['after the move', 'before the move']);
    // The attachment sealed under the old key still opens; a new one uses the new key.
    await c.extractAttachment(before.id, join(tv.dir, '..', 'out1'));
    expect(readFileSync(join(tv.dir, '..', 'out1'), 'utf8')).toBe('added before the move');
    writeFileSync(join(tv.dir, '..', 'b.txt'), 'added after the move');
    const after = await c.addAttachment(r.id, join(tv.dir, '..', 'b.txt'));
    expect((await c.getRecord(r.id)).attachments.map((a) => a.id)).toEqual([before.id, after.id]);
    expect(await c.verifyAttachment(after.id)).toMatchObject({ ok: true });

    // Moving back again adds to the chain; everything still opens.
    await c.updateRecord(r.id, 2, { capturedAt: '2026-03-01T09:00:00.000Z' });
    expect((await c.getRecord(r.id)).attachments).toHaveLength(2);
    await c.verifyAttachment(before.id);
    await c.verifyAttachment(after.id);
    expect((await c.history(r.id)).map((v) => v.version)).toEqual([3, 2, 1]);
  });
});

describe('vaults made before format 2', () => {
  const FIXTURE = join(import.meta.dirname, '..', 'testing', 'fixtures', 'vault-0.1.0');
  const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as { password: string; recordId: string; recordTitle: string; recordBody: string; attachmentId: string; attachmentText: string };

  test('a vault made by 0.1.0 opens: its format-1 record, history and attachment read; an edit writes format 2', async () => {
    const dir = join(tempDir(), 'vault');
    cpSync(FIXTURE, dir, { recursive: true });
    opened = await Custody.open(dir);
    await opened.unlock(fixture.password, { buildIndex: false });
    const c = opened;
    const d = asFolderWriter(dir);
    expect(fieldFormat(rowOf(d, fixture.recordId).summary)).toBe(1);
    const rec = await c.getRecord(fixture.recordId);
    expect(rec).toMatchObject({ title: fixture.recordTitle, body: fixture.recordBody });
    expect(rec.attachments.map((a) => a.id)).toEqual([fixture.attachmentId]);
    await c.extractAttachment(fixture.attachmentId, join(dir, '..', 'att'));
    expect(readFileSync(join(dir, '..', 'att'), 'utf8')).toBe(fixture.attachmentText);
    // Its entries from now on carry a commitment, not the plaintext hash (derived from its own key).
    const ev = (await c.auditQuery({ target: `attachment:${fixture.attachmentId}`, event: 'attachment.exported' }))[0]!;
    expect(ev.entry!.details.sha256Commitment).toMatch(/^[0-9a-f]{64}$/);

    // Search index and listings read format 1.
    expect((await c.search({ text: fixture.recordTitle.split(' ')[0]! })).hits.map((h) => h.id)).toContain(fixture.recordId);

    // An edit writes format 2 and keeps the format-1 version readable in the history.
    await c.updateRecord(fixture.recordId, rec.version, { body: 'edited after the upgrade', capturedAt: '2030-01-01T00:00:00.000Z' });
    expect(fieldFormat(rowOf(d, fixture.recordId).summary)).toBe(2);
    expect((await c.history(fixture.recordId)).map((v) => v.record.body)).toEqual(['edited after the upgrade', fixture.recordBody]);
    await c.verifyAttachment(fixture.attachmentId);

    // A format-1 row is still bound to its day: its captured-at moved to another day fails.
    d.prepare('UPDATE record_version SET captured_at = captured_at + 86400000 WHERE record_id = ?').run(fixture.recordId);
    await expect(c.history(fixture.recordId)).rejects.toMatchObject({ code: 'TAMPERED' });
    d.close();
  });

  test('format-1 rows written the way 0.1.0 did read, including a nonce that begins like the format-2 byte', async () => {
    tv = await tempVault();
    const c = tv.custody;
    const keys = c.vault.keys();
    const { vaultId } = c.vault;
    const d = db(tv.dir);
    // 0.1.0's codec: associated data = vault, record, version, field; no format byte.
    const v1 = (dek: Buffer, id: string, field: string, value: unknown, wantFirst?: number) => {
      for (;;) {
        const b = seal(dek, Buffer.from(JSON.stringify(value)), ad('record', vaultId, id, 1, field));
        if (wantFirst === undefined || b[0] === wantFirst) return b;
      }
    };
    const insert = d.prepare('INSERT INTO record (id, kind, captured_at, epoch_day, created_at, updated_at, version, deleted_at, wrapped_dek, summary, content) VALUES (?, ?, ?, ?, ?, ?, 1, NULL, ?, ?, ?)');
    const made: string[] = [];
    for (const [i, first] of [undefined, 2].entries()) {
      const id = `01a23d12-0000-7000-8000-00000000000${i}`;
      const dek = randomKey();
      const at = Date.parse('2025-12-24T18:00:00.000Z');
      const summary = { title: `old ${i}`, case: 'Old case', tags: ['legacy'], classification: 'internal' };
      const content = { body: `old body ${i}`, fields: [{ name: 'n', type: 'number', value: i }] };
      insert.run(id, 'observation', at, '2025-12-24', at, at, wrapDek(keys, vaultId, id, '2025-12-24', dek), v1(dek, id, 'summary', summary, first), v1(dek, id, 'content', content, first));
      made.push(id);
    }
    expect(fieldFormat(rowOf(d, made[1]!).summary)).toBe(2); // looks like format 2, is format 1
    d.close();
    for (const [i, id] of made.entries()) expect(await c.getRecord(id)).toMatchObject({ title: `old ${i}`, body: `old body ${i}`, case: 'Old case', fields: [{ name: 'n', type: 'number', value: i }] });
    await c.buildIndex();
    expect((await c.search({ text: 'old', case: 'Old case' })).total).toBe(2);
  });
});
