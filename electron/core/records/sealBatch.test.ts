// A large import on two cores (sealBatch.ts): a helper thread seals the records and computes
// their audit entries while the import's transaction writes them. What the helper seals must be
// what codec.ts writes and reads: every record reads back through the normal path, the log
// verifies (every leaf and node recomputed), and a folder writer who changes a clear column or
// swaps wrapped keys is caught (TAMPERED), as for records sealed one by one. A helper that fails
// or exits at a known chunk fails the import whole: nothing is written and nothing waits forever.
import { afterEach, beforeEach, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { RecordData } from '../../shared/records.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { insertRecords } from './importer.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

const records: RecordData[] = Array.from({ length: 40 }, (_, i) => ({
  kind: (['note', 'observation', 'file'] as const)[i % 3]!,
  title: `Title ${i} — é`,
  body: `body ${i} `.repeat(i + 1),
  fields: i % 3 === 1 ? [{ name: 'count', type: 'number', value: i }] : [],
  case: `Case ${i % 4}`,
  tags: [`t${i % 5}`],
  classification: (['public', 'internal', 'confidential', 'restricted'] as const)[i % 4]!,
  capturedAt: new Date(Date.UTC(2026, 0, 1 + (i % 9), 23, 59, 59, 999)).toISOString(),
}));

test('records sealed on the helper thread, in chunks of 3, read back through the normal path, one audit entry each', async () => {
  const c = tv.custody;
  // An odd log size first, so the helper's first entries complete tree nodes left of the batch.
  await c.vault.record({ event: 'record.viewed', target: 'record:x' });
  // From 2 records on, the helper thread seals; chunks of 3 cross many chunk and tree-node edges.
  const out = await insertRecords(c.vault, records, { sealThreadFrom: 2, sealChunk: 3, via: 'import', extra: [{ event: 'import', target: 'import:x', details: { records: records.length } }] });
  // The extra entry comes after the records' own.
  expect((await c.auditQuery({ limit: 1 }))[0]!.event).toBe('import');
  expect(out).toHaveLength(records.length);
  for (const [i, { id }] of out.entries()) {
    const r = await c.getRecord(id);
    expect(r, `record ${i}`).toMatchObject({ kind: records[i]!.kind, title: records[i]!.title, body: records[i]!.body, case: records[i]!.case, tags: records[i]!.tags, classification: records[i]!.classification, fields: records[i]!.fields, capturedAt: records[i]!.capturedAt });
  }
  const created = await c.auditQuery({ event: 'record.created', limit: 1000, order: 'asc' });
  expect(created.map((e) => e.target)).toEqual(out.map((r) => `record:${r.id}`));
  expect(created.map((e) => e.entry?.details)).toEqual(records.map((r) => ({ kind: r.kind, via: 'import' })));
  expect((await c.verifyAudit()).ok).toBe(true);
});

for (const how of ['throw', 'exit'] as const) {
  test(`a helper that ${how === 'throw' ? 'throws' : 'exits'} at its third chunk fails the import with nothing written, and the next import works`, async () => {
    const c = tv.custody;
    const before = await c.auditQuery({ limit: 1000 });
    await expect(insertRecords(c.vault, records, { sealThreadFrom: 2, sealChunk: 4, fault: { chunk: 2, how } })).rejects.toThrow(how === 'throw' ? /sealing on the helper thread failed: a fault forced by a test/ : /the sealing thread stopped/);
    expect(c.vault.db.sql.prepare('SELECT count(*) FROM record').pluck().get()).toBe(0);
    // Only what the failure itself logged: no record.created entry.
    expect((await c.auditQuery({ limit: 1000 })).filter((e) => e.event === 'record.created')).toHaveLength(0);
    expect((await c.auditQuery({ limit: 1000 })).length).toBeGreaterThanOrEqual(before.length);
    const out = await insertRecords(c.vault, records, { sealThreadFrom: 2, sealChunk: 4 });
    expect(out).toHaveLength(records.length);
    expect((await c.getRecord(out.at(-1)!.id)).title).toBe(records.at(-1)!.title);
    expect((await c.verifyAudit()).ok).toBe(true);
  });
}

test('a changed kind, or swapped wrapped keys, on a thread-sealed record is TAMPERED', async () => {
  const out = await insertRecords(tv.custody.vault, records, { sealThreadFrom: 2 });
  // The last records were sealed on the helper thread.
  const [a, b, d] = [out.at(-1)!.id, out.at(-2)!.id, out.at(-4)!.id];
  await tv.custody.close();
  const db = new Database(join(tv.dir, 'custody.db'));
  db.prepare("UPDATE record SET kind = CASE kind WHEN 'note' THEN 'file' ELSE 'note' END WHERE id = ?").run(a);
  const wb = db.prepare('SELECT wrapped_dek FROM record WHERE id = ?').pluck();
  const [x, y] = [wb.get(b), wb.get(d)];
  db.prepare('UPDATE record SET wrapped_dek = ? WHERE id = ?').run(y, b);
  db.prepare('UPDATE record SET wrapped_dek = ? WHERE id = ?').run(x, d);
  db.close();
  const c = await tv.reopen();
  await c.unlock('correct horse battery staple', { buildIndex: false });
  for (const id of [a, b, d]) await expect(c.getRecord(id), id).rejects.toMatchObject({ code: 'TAMPERED' });
  await expect(c.getRecord(out[0]!.id)).resolves.toMatchObject({ title: records[0]!.title });
});
