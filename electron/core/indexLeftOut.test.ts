// A folder writer who tampers with one record must not take search away from all the others:
// the index build leaves that record out and reports it, and opening it still fails as TAMPERED.
import { afterEach, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { tempVault, type TempVault } from './testing/tempVault.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

test('one tampered record is left out of the search index and reported; the rest are searchable', async () => {
  tv = await tempVault();
  const c = tv.custody;
  const good = [];
  for (let i = 0; i < 3; i++) good.push(await c.createRecord({ kind: 'note', title: `kept ${i}`, body: 'needle' }));
  const bad = await c.createRecord({ kind: 'note', title: 'tampered', body: 'needle' });

  // The attack: flip one byte of one record's sealed content in the database file.
  const d = new Database(join(tv.dir, 'custody.db'));
  const { content } = d.prepare('SELECT content FROM record WHERE id = ?').get(bad.id) as { content: Buffer };
  content[content.length - 1]! ^= 0xff;
  d.prepare('UPDATE record SET content = ? WHERE id = ?').run(content, bad.id);
  d.close();

  // A fresh build (a new unlock) reads every record again.
  await c.lock();
  await c.unlock('correct horse battery staple', { buildIndex: false });
  await c.buildIndex();

  expect(c.index.ready).toBe(true);
  expect(c.indexLeftOut()).toEqual([bad.id]);
  const found = await c.search({ text: 'needle' });
  expect(found.hits.map((r) => r.id).sort()).toEqual(good.map((r) => r.id).sort());
  await expect(c.getRecord(bad.id)).rejects.toMatchObject({ code: 'TAMPERED' });

  // Locking forgets the report with the index.
  await c.lock();
  expect(c.indexLeftOut()).toEqual([]);
});
