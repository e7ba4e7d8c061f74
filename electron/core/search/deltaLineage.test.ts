// Security review (issue 13): "a stamp the database does not have (an older custody.db put back)
// is rebuilt" (docs/architecture.md). The whole index carries that stamp (the counter and the
// record whose change had that number); the delta's frames did not. With an older custody.db put
// back and written to again before the next load (here by a process that never loads the index,
// as `custody add` does), the new changes reuse the counters of the abandoned frames: the frames
// were applied as if they were this database's, so search showed a record the vault does not
// hold and missed one it does. The test performs exactly that and compares search with the vault.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Custody } from '../custody.ts';
import { tempVault, PASSWORD, type TempVault } from '../testing/tempVault.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

async function reopen(index: boolean): Promise<Custody> {
  const c = await tv.reopen();
  await c.unlock(PASSWORD, { buildIndex: false });
  if (index) await c.buildIndex();
  return c;
}

test('delta frames of a database that was put back by an older copy are not applied to it', { timeout: 120_000 }, async () => {
  let c = tv.custody;
  await c.indexKeeper.start();
  await c.createRecord({ kind: 'note', title: 'first', body: 'amberword' });
  c.indexKeeper.save();
  await c.close();
  const saved = join(tv.dir, '..', 'older.db');
  copyFileSync(join(tv.dir, 'custody.db'), saved);

  // A record made after the copy: it goes to the delta as a frame.
  c = await reopen(true);
  const ghost = await c.createRecord({ kind: 'note', title: 'made after the copy', body: 'ghostword' });
  expect(c.indexKeeper.origin.source).toBe('file');
  await c.close();

  // The older database is put back, and written to by a process that does not load the index.
  copyFileSync(saved, join(tv.dir, 'custody.db'));
  rmSync(join(tv.dir, 'custody.db-wal'), { force: true });
  rmSync(join(tv.dir, 'custody.db-shm'), { force: true });
  c = await reopen(false);
  const real = await c.createRecord({ kind: 'note', title: 'made after the put-back', body: 'realword' });
  await c.close();

  c = await reopen(true);
  await expect(c.getRecord(ghost.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  expect((await c.search({ text: 'ghostword' })).hits.map((h) => h.id)).toEqual([]);
  expect((await c.search({ text: 'realword' })).hits.map((h) => h.id)).toEqual([real.id]);
  expect((await c.search({ text: 'amberword' })).hits).toHaveLength(1);
});
