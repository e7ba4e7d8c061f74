// A large import seals its records on two cores (sealBatch.ts). What the helper thread seals
// must be what codec.ts writes and reads: every record reads back through the normal path,
// and a folder writer who changes a clear column or swaps wrapped keys is caught (TAMPERED),
// as for records sealed one by one.
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

test('records sealed half here, half on the helper thread read back through the normal path, one audit entry each', async () => {
  const c = tv.custody;
  // From 2 records on: the second half is sealed on the helper thread.
  const out = await insertRecords(c.vault, records, { sealThreadFrom: 2 });
  expect(out).toHaveLength(records.length);
  for (const [i, { id }] of out.entries()) {
    const r = await c.getRecord(id);
    expect(r, `record ${i}`).toMatchObject({ kind: records[i]!.kind, title: records[i]!.title, body: records[i]!.body, case: records[i]!.case, tags: records[i]!.tags, classification: records[i]!.classification, fields: records[i]!.fields, capturedAt: records[i]!.capturedAt });
  }
  expect(await c.auditQuery({ event: 'record.created', limit: 1000 })).toHaveLength(records.length);
  expect((await c.verifyAudit()).ok).toBe(true);
});

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
