// After unlock the persisted search index loads in slices; the first list page (no text, no
// sealed filters) is answered from the database meanwhile instead of waiting for the load.
import { afterEach, expect, test } from 'vitest';
import { PASSWORD, tempVault, type TempVault } from './testing/tempVault.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

async function vaultWithPersistedIndex(): Promise<TempVault> {
  const v = await tempVault();
  for (let i = 0; i < 30; i++) await v.custody.createRecord({ kind: 'note', title: `note ${i}`, body: i % 3 === 0 ? 'walrus tusk' : 'plain text' });
  await v.custody.buildIndex();
  v.custody.indexKeeper.save();
  await v.reopen();
  return v;
}

test('the first list page after unlock is answered from the database while the index loads; text search waits for the loaded index', async () => {
  tv = await vaultWithPersistedIndex();
  const c = tv.custody;
  await c.unlock(PASSWORD);
  const list = await c.search({ text: '', limit: 10 });
  // Answered before the load finished (the index was not ready), complete and in order.
  expect(list.indexReady).toBe(false);
  expect(list.total).toBe(30);
  expect(list.hits).toHaveLength(10);
  const found = await c.search({ text: 'walrus' });
  expect(found.indexReady).toBe(true);
  expect(found.total).toBe(10);
  expect(c.indexKeeper.origin.source).toBe('file');
});

test('a lock while the index loads drops it; the next unlock loads it again', async () => {
  tv = await vaultWithPersistedIndex();
  const c = tv.custody;
  await c.unlock(PASSWORD);
  const loading = c.indexKeeper.start();
  await c.lock();
  await loading;
  expect(c.index.ready).toBe(false);
  expect(c.index.size).toBe(0);
  await c.unlock(PASSWORD);
  expect((await c.search({ text: 'walrus' })).total).toBe(10);
  expect(c.indexKeeper.origin.source).toBe('file');
});

test('the database listing counts the same records as a filter over every row, with records in the trash', async () => {
  tv = await vaultWithPersistedIndex();
  const c = tv.custody;
  await c.unlock(PASSWORD, { buildIndex: false });
  const all = c.records.listPage({ deleted: 'include', limit: 1000, offset: 0 }).rows;
  for (const r of all.slice(0, 7)) await c.deleteRecord(r.id);
  await c.createRecord({ kind: 'observation', title: 'one more', body: 'x' });
  const rows = c.vault.db.sql.prepare('SELECT kind, deleted_at FROM record').all() as { kind: string; deleted_at: number | null }[];
  const expected = { exclude: rows.filter((r) => r.deleted_at === null).length, include: rows.length, only: rows.filter((r) => r.deleted_at !== null).length };
  expect(expected).toEqual({ exclude: 24, include: 31, only: 7 });
  for (const deleted of ['exclude', 'include', 'only'] as const) {
    expect(c.records.listPage({ deleted, limit: 5, offset: 0 }).total, deleted).toBe(expected[deleted]);
    // With a filter besides the trash, counted row by row.
    const notes = rows.filter((r) => r.kind === 'note' && (deleted === 'include' || (deleted === 'only') === (r.deleted_at !== null))).length;
    expect(c.records.listPage({ deleted, kind: 'note', limit: 5, offset: 0 }).total, `${deleted}, notes`).toBe(notes);
  }
});
