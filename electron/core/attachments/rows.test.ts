// The attachment table's rows as other modules get them (sync, purge, IPC), on a real vault.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { uuidv7 } from '../util/ids.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { AttachmentRows } from './rows.ts';

let tv: TempVault;
let scratch: string;
beforeEach(async () => {
  tv = await tempVault();
  scratch = mkdtempSync(join(tmpdir(), 'custody-rows-'));
});
afterEach(async () => {
  await tv.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const file = (name: string, text: string) => {
  const p = join(scratch, name);
  writeFileSync(p, text);
  return p;
};

test('rows of a record, by id, every id; a pulled row is stored once', async () => {
  const c = tv.custody;
  const r = await c.createRecord({ kind: 'note', title: 'with files' });
  const other = await c.createRecord({ kind: 'note', title: 'another' });
  const a = await c.addAttachment(r.id, file('a.txt', 'alpha'));
  const b = await c.addAttachment(r.id, file('b.txt', 'beta'));
  const x = await c.addAttachment(other.id, file('x.txt', 'other'));
  const rows = new AttachmentRows(c.vault.db.sql);

  expect(rows.rowsOf(r.id).map((row) => row.id)).toEqual([a.id, b.id]);
  expect(rows.idsOf(r.id).sort()).toEqual([a.id, b.id].sort());
  expect(rows.allIds()).toEqual([a.id, b.id, x.id].sort());
  expect(rows.recordOf(x.id)).toBe(other.id);
  expect(rows.recordOf(uuidv7())).toBeUndefined();
  expect(rows.has(a.id)).toBe(true);

  const sealed = rows.get(a.id)!;
  expect(sealed).toMatchObject({ id: a.id, recordId: r.id });
  expect(Buffer.isBuffer(sealed.wrappedKey) && Buffer.isBuffer(sealed.meta)).toBe(true);
  // Sealed: the name is not in the row.
  expect(sealed.meta.includes(Buffer.from('a.txt'))).toBe(false);
  expect(rows.get(uuidv7())).toBeUndefined();

  // The IPC view finds an attachment by id alone, and says NOT_FOUND for an unknown one.
  expect((await c.attachments.view(b.id)).name).toBe('b.txt');
  await expect(c.attachments.view(uuidv7())).rejects.toMatchObject({ code: 'NOT_FOUND' });

  expect(rows.insertPulled(sealed)).toBe(false);
  const pulled = { ...sealed, id: uuidv7() };
  expect(rows.insertPulled(pulled)).toBe(true);
  expect(rows.get(pulled.id)).toEqual(pulled);
});
