// Pruned audit bodies leave the file (issue 10, item 11): with PRAGMA secure_delete, SQLite
// zeroes deleted content instead of leaving it in free space, where anyone with a copy of
// custody.db could read it back. Checked on the real file, bytes and all, with the connection
// setting switched off as the control.
import { afterEach, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pruneAuditBodies } from '../audit/retention.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

/** Logs an entry whose body holds `canary`, then prunes every body (which also folds the WAL into the file). */
async function pruneCanary(secureDelete: boolean, canary: string): Promise<{ before: Buffer; after: Buffer; wal: Buffer }> {
  tv = await tempVault();
  const { vault } = tv.custody;
  expect(vault.db.sql.pragma('secure_delete', { simple: true })).toBe(1);
  if (!secureDelete) vault.db.sql.pragma('secure_delete = OFF');
  await vault.record({ event: 'settings.changed', details: { note: canary } });
  vault.db.sql.pragma('wal_checkpoint(TRUNCATE)');
  const before = readFileSync(join(tv.dir, 'custody.db'));
  const r = await pruneAuditBodies(vault, { olderThanDays: 1, now: new Date(Date.now() + 30 * 86_400_000) });
  expect(r.pruned).toBeGreaterThan(0);
  expect((await tv.custody.auditQuery({ event: 'settings.changed' }))[0]).toMatchObject({ pruned: true, entry: null });
  // No checkpoint here: retention folds the WAL in itself, so the bytes are gone when it returns.
  return { before, after: readFileSync(join(tv.dir, 'custody.db')), wal: readFileSync(join(tv.dir, 'custody.db-wal')) };
}

test('a pruned entry body is gone from custody.db and its WAL when retention returns', async () => {
  const canary = `canary-${'7'.repeat(24)}-secure-delete`;
  const { before, after, wal } = await pruneCanary(true, canary);
  expect(before.includes(canary)).toBe(true);
  expect(after.includes(canary)).toBe(false);
  expect(wal.includes(canary)).toBe(false);
});

test('control: without secure_delete the pruned body stays readable in the file', async () => {
  const canary = `canary-${'8'.repeat(24)}-no-secure-delete`;
  const { before, after } = await pruneCanary(false, canary);
  expect(before.includes(canary)).toBe(true);
  expect(after.includes(canary)).toBe(true);
});
