// Security review (issue 13): a purge removes a record "for good" (docs/cli.md; secure_delete keeps
// its bytes out of the database's free pages). The persisted search index holds the text of
// every record it indexes, sealed under a key derived from the vault key, so whoever later holds
// that key (a thief who copied the folder after the purge and then learns the password) must not
// find a purged record's words or title in search-index or search-index.delta. The test opens
// both files with the real key, as such an attacker would, and looks for the purged record's words.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import type { Custody } from '../custody.ts';
import { tempVault, PASSWORD, type TempVault } from '../testing/tempVault.ts';
import { indexKey, readBase, readFrames } from './indexFile.ts';

const SECRET_TITLE = 'zeppelinpurgetitle';
const SECRET_BODY = 'quokkapurgebody';

/** Everything the two index files hold, opened with the key an attacker with the password derives. */
function indexPlaintext(c: Custody): string {
  const key = indexKey(c.vault.keys().vaultKey, c.vault.vaultId);
  const parts: string[] = [];
  if (existsSync(`${c.vault.dir}/search-index`)) parts.push(readBase(c.vault.dir, key, c.vault.vaultId).bytes.toString('latin1'));
  for (const f of readFrames(c.vault.dir, key, c.vault.vaultId).frames) parts.push(JSON.stringify(f));
  return parts.join('\n');
}

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

async function reopen(buildIndex: boolean): Promise<Custody> {
  const c = await tv.reopen();
  await c.unlock(PASSWORD, { buildIndex: false });
  if (buildIndex) await c.buildIndex();
  return c;
}

describe('a purged record leaves the persisted search index', { timeout: 120_000 }, () => {
  test('purged by the process that holds the index: neither the sealed index nor its delta keeps its words', async () => {
    let c = tv.custody;
    await c.indexKeeper.start();
    await c.createRecord({ kind: 'note', title: 'kept record', body: 'ordinary words' });
    const victim = await c.createRecord({ kind: 'note', title: SECRET_TITLE, body: SECRET_BODY });
    c.indexKeeper.save();
    c = await reopen(true);
    // Not vacuous: the words are in the files before the purge.
    expect(indexPlaintext(c)).toContain(SECRET_BODY);
    await c.deleteRecord(victim.id);
    await c.purgeRecord(victim.id);
    expect((await c.search({ text: SECRET_BODY })).hits).toEqual([]);
    const after = indexPlaintext(c);
    expect(after).toContain('ordinary');
    expect(after).not.toContain(SECRET_BODY);
    expect(after).not.toContain(SECRET_TITLE);
  });

  test('purged by a process that never loaded the index (the CLI): the files on disk lose its words too', async () => {
    let c = tv.custody;
    await c.indexKeeper.start();
    await c.createRecord({ kind: 'note', title: 'kept record', body: 'ordinary words' });
    const victim = await c.createRecord({ kind: 'note', title: SECRET_TITLE, body: SECRET_BODY });
    c.indexKeeper.save();
    // `custody purge` unlocks without building the index.
    c = await reopen(false);
    expect(indexPlaintext(c)).toContain(SECRET_BODY);
    await c.deleteRecord(victim.id);
    await c.purgeRecord(victim.id);
    const after = indexPlaintext(c);
    expect(after).not.toContain(SECRET_BODY);
    expect(after).not.toContain(SECRET_TITLE);
    // The index stays usable: the next unlock loads it (no rebuild) and finds the rest.
    c = await reopen(true);
    expect(c.indexKeeper.origin).toMatchObject({ source: 'file', rejected: null });
    expect((await c.search({ text: 'ordinary' })).hits).toHaveLength(1);
    expect((await c.search({ text: SECRET_BODY })).hits).toEqual([]);
  });
});
