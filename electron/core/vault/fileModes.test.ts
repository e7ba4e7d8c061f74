// Owner-only files (issue 10, item 11): custody.db (and its -wal and -shm), vault.json,
// checkpoint.txt, the pending-entry and attempt-count files and attachment blobs are 0600 in a
// 0700 folder, whatever the umask (here 000, the worst case: nothing masked off).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { PENDING_FILE } from './pendingEntries.ts';
import { THROTTLE_FILE } from './unlockThrottle.ts';

let previous: number;
beforeAll(() => {
  previous = process.umask(0o000);
});
afterAll(() => {
  process.umask(previous);
});

const mode = (path: string) => statSync(path).mode & 0o777;

test('every vault file is created 0600 in a 0700 folder with umask 000, and an existing loose vault is tightened at open', async () => {
  const root = tempDir();
  const dir = join(root, 'vault');
  await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
  let c = await Custody.open(dir);
  try {
    expect(await c.unlock('wrong password').catch((e: { code: string }) => e.code)).toBe('WRONG_PASSWORD');
    await c.unlock(PASSWORD, { buildIndex: false });
    const r = await c.createRecord({ kind: 'note', title: 'with a file' });
    const src = join(root, 'evidence.txt');
    writeFileSync(src, 'attached');
    await c.addAttachment(r.id, src);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'attachments'))).toBe(0o700);
    const files = ['custody.db', 'custody.db-wal', 'custody.db-shm', 'vault.json', 'checkpoint.txt', 'reserve.bin'];
    for (const f of files) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
    const blobs = readdirSync(join(dir, 'attachments'));
    expect(blobs).toHaveLength(1);
    expect(mode(join(dir, 'attachments', blobs[0]!))).toBe(0o600);
  } finally {
    await c.close();
  }

  // The attempt count a wrong password leaves, and the entry a lock that cannot write leaves.
  c = await Custody.open(dir);
  await c.unlock('wrong password').catch(() => undefined);
  expect(mode(join(dir, THROTTLE_FILE))).toBe(0o600);
  await c.unlock(PASSWORD, { buildIndex: false });
  c.vault.db.sql.pragma('query_only = ON');
  await c.lock();
  expect(mode(join(dir, PENDING_FILE))).toBe(0o600);
  c.vault.db.sql.pragma('query_only = OFF');
  await c.close();

  // A vault left readable by others (as 0.1.0 left custody.db) is tightened at its next open.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'attachments'), 0o755);
  for (const f of ['custody.db', 'vault.json']) chmodSync(join(dir, f), 0o644);
  c = await Custody.open(dir);
  try {
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'attachments'))).toBe(0o700);
    for (const f of ['custody.db', 'custody.db-wal', 'custody.db-shm', 'vault.json', 'checkpoint.txt']) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
  } finally {
    await c.close();
  }
});
