// Threat model (b), the folder writer, against the persisted search index (issue 13): someone who
// can write the vault folder but holds no key puts back an older sealed index file (and delta) of
// the same vault. It is sealed and of this vault, so it is taken; the test asserts the index then
// answers for the database as it is (an edit and a purge made after the copy are not undone).
import { afterEach, describe, expect, test } from 'vitest';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { DELTA_FILE, INDEX_FILE } from './indexFile.ts';

const vaults: TempVault[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function vault(): Promise<TempVault> {
  const v = await tempVault();
  vaults.push(v);
  return v;
}

describe('folder writer against the persisted search index', { timeout: 120_000 }, () => {
  test('an older sealed index (and delta) put back: searches answer for the database as it is', async () => {
    const v = await vault();
    const c0 = v.custody;
    await c0.indexKeeper.start();
    const keep = await c0.createRecord({ kind: 'note', title: 'alphaword kept', body: 'x' });
    const edited = await c0.createRecord({ kind: 'note', title: 'alphaword edited', body: 'x' });
    const purged = await c0.createRecord({ kind: 'note', title: 'alphaword purged', body: 'x' });
    let c = await v.reopen();
    await c.unlock(PASSWORD);
    await c.indexKeeper.start();
    expect(existsSync(join(v.dir, INDEX_FILE))).toBe(true);
    const saved = tempDir();
    dirs.push(saved);
    for (const f of [INDEX_FILE, DELTA_FILE]) if (existsSync(join(v.dir, f))) copyFileSync(join(v.dir, f), join(saved, f));
    await c.updateRecord(edited.id, edited.version, { title: 'bravoword edited' });
    await c.deleteRecord(purged.id);
    await c.purgeRecord(purged.id);
    c = await v.reopen();
    await c.unlock(PASSWORD);
    await c.indexKeeper.start();
    // The folder writer puts the older files back (and removes a newer delta it has no copy of).
    c = await v.reopen();
    for (const f of [INDEX_FILE, DELTA_FILE]) {
      rmSync(join(v.dir, f), { force: true });
      if (existsSync(join(saved, f))) copyFileSync(join(saved, f), join(v.dir, f));
    }
    await c.unlock(PASSWORD);
    await c.indexKeeper.start();
    const ids = async (text: string) => (await c.search({ text })).hits.map((h) => h.id).sort();
    expect(await ids('alphaword')).toEqual([keep.id]);
    expect(await ids('bravoword')).toEqual([edited.id]);
    // Not vacuous: the older file was taken (it is sealed and of this vault) and caught up from the database.
    expect(c.indexKeeper.origin).toMatchObject({ source: 'file', rejected: null });
    expect(c.indexKeeper.origin.caughtUp).toBeGreaterThanOrEqual(2);
  });
});
