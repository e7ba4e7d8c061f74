// Security review (issues 12 and 13): the persisted search index holds the text of every record,
// sealed under a key derived from the vault key. A vault key rotation re-wraps everything the old
// key protects (keys/rewrap.ts: "a module that seals something new under the vault key, or a key
// derived from it, adds an entry here") but the index was left sealed under the old key, and a
// process holding the index kept writing it under the old key after the key changed. Whoever
// holds the retired key (the reason to rotate) then reads every record's text from the folder.
// The test rotates, as such an attacker opens the files with the OLD key, and checks the index
// still works under the new one.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Custody } from '../custody.ts';
import { tempVault, PASSWORD, type TempVault } from '../testing/tempVault.ts';
import { rotateVaultKey } from '../keys/vaultKeyRotation.ts';
import { indexKey, readBase, readFrames } from './indexFile.ts';

const SECRET = 'xylophonesecretword';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(async () => tv.cleanup());

/** What of the index files opens with the key derived from `vk` (an attacker holding that vault key). */
function readableWith(c: Custody, vk: Buffer): string {
  const key = indexKey(vk, c.vault.vaultId);
  const parts: string[] = [];
  try {
    parts.push(readBase(c.vault.dir, key, c.vault.vaultId).bytes.toString('latin1'));
  } catch {
    // Missing or not sealed under this key.
  }
  for (const f of readFrames(c.vault.dir, key, c.vault.vaultId).frames) parts.push(JSON.stringify(f));
  return parts.join('\n');
}

async function reopen(): Promise<Custody> {
  const c = await tv.reopen();
  await c.unlock(PASSWORD, { buildIndex: false });
  await c.buildIndex();
  return c;
}

describe('the search index across a vault key rotation', { timeout: 120_000 }, () => {
  test('after the rotation nothing in the index files opens with the retired vault key, and the index loads under the new one', async () => {
    let c = tv.custody;
    await c.indexKeeper.start();
    await c.createRecord({ kind: 'note', title: 'before rotation', body: SECRET });
    c.indexKeeper.save();
    await c.createRecord({ kind: 'note', title: 'in the delta', body: `${SECRET} delta` });
    const oldVk = Buffer.from(c.vault.keys().vaultKey);
    // Not vacuous: the old key opens the files before the rotation.
    expect(readableWith(c, oldVk)).toContain(SECRET);

    await rotateVaultKey(c.vault, { password: PASSWORD, recovery: { recoveryKey: tv.recoveryKey } });
    expect(readableWith(c, oldVk)).not.toContain(SECRET);
    // This process goes on writing (a frame, then a merge): under the new key only.
    await c.createRecord({ kind: 'note', title: 'after rotation', body: `${SECRET} after` });
    c.indexKeeper.save();
    await c.createRecord({ kind: 'note', title: 'after save', body: `${SECRET} later` });
    expect(readableWith(c, oldVk)).not.toContain(SECRET);
    expect(readableWith(c, Buffer.from(c.vault.keys().vaultKey))).toContain(SECRET);

    c = await reopen();
    expect(c.indexKeeper.origin).toMatchObject({ source: 'file', rejected: null });
    expect((await c.search({ text: SECRET })).hits).toHaveLength(4);
  });

  test('rotated by a process that never loaded the index (the CLI): the files are re-sealed, not left under the old key', async () => {
    let c = tv.custody;
    await c.indexKeeper.start();
    await c.createRecord({ kind: 'note', title: 'before rotation', body: SECRET });
    c.indexKeeper.save();
    await c.createRecord({ kind: 'note', title: 'in the delta', body: `${SECRET} delta` });
    c = await tv.reopen();
    await c.unlock(PASSWORD, { buildIndex: false });
    const oldVk = Buffer.from(c.vault.keys().vaultKey);
    expect(readableWith(c, oldVk)).toContain(SECRET);
    await rotateVaultKey(c.vault, { password: PASSWORD, recovery: { recoveryKey: tv.recoveryKey } });
    expect(readableWith(c, oldVk)).not.toContain(SECRET);
    c = await reopen();
    expect(c.indexKeeper.origin).toMatchObject({ source: 'file', rejected: null });
    expect((await c.search({ text: SECRET })).hits).toHaveLength(2);
  });
});
