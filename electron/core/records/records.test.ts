import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { tempVault, type TempVault } from '../testing/tempVault.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

describe('records', () => {
  test('create and read every kind, with case, tags, classification and captured-at', async () => {
    const c = tv.custody;
    const note = await c.createRecord({ kind: 'note', title: 'Interview', body: 'Notes from the interview', case: 'Case 7', tags: ['witness', 'day-1'], classification: 'confidential', capturedAt: '2026-03-04T10:00:00+02:00' });
    const obs = await c.createRecord({
      kind: 'observation',
      title: 'Checkpoint traffic',
      fields: [
        { name: 'vehicles', type: 'number', value: 41 },
        { name: 'seen', type: 'date', value: '2026-03-04' },
        { name: 'where', type: 'location', value: { lat: 50.45, lon: 30.52, label: 'North gate' } },
        { name: 'notes', type: 'text', value: 'steady' },
      ],
    });
    const file = await c.createRecord({ kind: 'file', title: 'Scans' });
    expect(note.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(note.capturedAt).toBe('2026-03-04T08:00:00.000Z');
    const got = await c.getRecord(obs.id);
    expect(got.fields).toEqual(obs.fields);
    expect(got.classification).toBe('internal');
    expect((await c.getRecord(note.id))).toMatchObject({ case: 'Case 7', tags: ['witness', 'day-1'], classification: 'confidential', version: 1 });
    expect((await c.list()).map((r) => r.id).sort()).toEqual([note.id, obs.id, file.id].sort());
    const ev = (await c.auditQuery({ event: 'record.', order: 'asc' })).map((r) => [r.event, r.target]);
    expect(ev).toContainEqual(['record.created', `record:${note.id}`]);
    expect(ev).toContainEqual(['record.viewed', `record:${obs.id}`]);
  });

  test('invalid input is refused with a clear message and writes nothing', async () => {
    const c = tv.custody;
    const size = tv.custody.vault.audit.size();
    await expect(c.createRecord({ kind: 'note', title: '   ' })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('title') });
    await expect(c.createRecord({ kind: 'note', title: 'x', fields: [{ name: 'a', type: 'number', value: 1 }] })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('observations') });
    await expect(c.createRecord({ kind: 'note', title: 'x', classification: 'secret' as 'public' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(c.createRecord({ kind: 'note', title: 'x', extra: 1 } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(c.getRecord('../../etc/passwd')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await c.list()).toEqual([]);
    expect(tv.custody.vault.audit.size()).toBe(size);
  });

  test('update keeps every previous version, readable; a stale version is rejected', async () => {
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'note', title: 'v1', body: 'first' });
    const v2 = await c.updateRecord(r.id, 1, { title: 'v2', tags: ['edited'] });
    expect(v2).toMatchObject({ version: 2, title: 'v2', body: 'first', tags: ['edited'] });
    await expect(c.updateRecord(r.id, 1, { title: 'lost update' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.updateRecord(r.id, 2, { body: 'third', capturedAt: '2025-01-01T00:00:00Z' });
    const h = await c.history(r.id);
    expect(h.map((v) => [v.version, v.record.title, v.record.body, v.current])).toEqual([
      [3, 'v2', 'third', true],
      [2, 'v2', 'first', false],
      [1, 'v1', 'first', false],
    ]);
    // Moving to another day re-wraps the data key under that day's epoch key.
    expect((await c.getRecord(r.id)).capturedAt).toBe('2025-01-01T00:00:00.000Z');
    const failed = await c.auditQuery({ event: 'record.update_rejected' });
    expect(failed[0]).toMatchObject({ success: false, target: `record:${r.id}` });
    const upd = await c.auditQuery({ event: 'record.updated', order: 'asc' });
    expect(upd.map((u) => u.entry?.details.fields)).toEqual([['title', 'tags'], ['body', 'capturedAt']]);
  });

  test('delete to trash, restore, purge', async () => {
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'note', title: 'temp' });
    await expect(c.purgeRecord(r.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.deleteRecord(r.id);
    expect(await c.list()).toEqual([]);
    expect((await c.list({ deleted: 'only' })).map((x) => x.id)).toEqual([r.id]);
    await expect(c.updateRecord(r.id, 1, { title: 'no' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.restoreRecord(r.id);
    expect((await c.list()).map((x) => x.id)).toEqual([r.id]);
    await c.deleteRecord(r.id);
    await c.purgeRecord(r.id);
    await expect(c.getRecord(r.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const ev = (await c.auditQuery({ target: `record:${r.id}`, order: 'asc' })).map((x) => x.event);
    expect(ev).toEqual(['record.created', 'record.deleted', 'record.restored', 'record.deleted', 'record.purged']);
  });

  test('a ciphertext moved to another row, or a flipped byte, fails authentication', async () => {
    const c = tv.custody;
    const a = await c.createRecord({ kind: 'note', title: 'A', body: 'alpha' });
    const b = await c.createRecord({ kind: 'note', title: 'B', body: 'bravo' });
    const db = new Database(join(tv.dir, 'custody.db'));
    const rowB = db.prepare('SELECT content FROM record WHERE id = ?').get(b.id) as { content: Buffer };
    db.prepare('UPDATE record SET content = ? WHERE id = ?').run(rowB.content, a.id);
    await expect(c.getRecord(a.id)).rejects.toMatchObject({ code: 'TAMPERED' });
    const s = db.prepare('SELECT summary FROM record WHERE id = ?').get(b.id) as { summary: Buffer };
    s.summary[20]! ^= 1;
    db.prepare('UPDATE record SET summary = ? WHERE id = ?').run(s.summary, b.id);
    await expect(c.getRecord(b.id)).rejects.toMatchObject({ code: 'TAMPERED' });
    db.close();
    const failed = await c.auditQuery({ event: 'record.viewed', success: false });
    expect(failed.map((f) => f.target).sort()).toEqual([`record:${a.id}`, `record:${b.id}`].sort());
  });
});
