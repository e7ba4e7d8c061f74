// The paths every command and every unlock take read and write with prepared statements: Prisma
// is made on first use only, and what the registry reads return is what Prisma returned.
import { afterEach, expect, test } from 'vitest';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { keyRows } from './keyRows.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

test('open, unlock, add a record and lock make no Prisma client; a Prisma read afterwards works on the same connection', async () => {
  tv = await tempVault({ unlock: false });
  const c = await tv.reopen();
  await c.unlock('correct horse battery staple', { buildIndex: false });
  const r = await c.createRecord({ kind: 'note', title: 'one more', body: 'added without Prisma' });
  await c.lock();
  expect(c.vault.db.prismaMade).toBe(false);

  // The row and its audit entry committed together, as the Prisma write did.
  const row = c.vault.db.sql.prepare('SELECT kind, version, deleted_at, typeof(captured_at) AS t FROM record WHERE id = ?').get(r.id);
  expect(row).toEqual({ kind: 'note', version: 1, deleted_at: null, t: 'integer' });
  expect(c.vault.db.sql.prepare("SELECT count(*) FROM audit_entry WHERE event = 'record.created' AND target = ?").pluck().get(`record:${r.id}`)).toBe(1);

  await c.unlock('correct horse battery staple', { buildIndex: false });
  const viaPrisma = await c.vault.db.prisma.record.findUniqueOrThrow({ where: { id: r.id } });
  expect(c.vault.db.prismaMade).toBe(true);
  expect(viaPrisma.createdAt.toISOString()).toBe(r.createdAt);
  expect((await c.getRecord(r.id)).body).toBe('added without Prisma');
  // Prisma's transaction and the raw statements still share the connection: a rollback takes both.
  await expect(
    c.vault.db.write(async (tx) => {
      await tx.meta.create({ data: { key: 'lazy-a', value: '1' } });
      c.vault.db.sql.prepare("INSERT INTO meta (key, value) VALUES ('lazy-b', '2')").run();
      throw new Error('roll back both');
    }),
  ).rejects.toThrow('roll back both');
  expect(c.vault.db.sql.prepare("SELECT count(*) FROM meta WHERE key LIKE 'lazy-%'").pluck().get()).toBe(0);
});

test('keyRows returns the registry rows Prisma returns, in the same order', async () => {
  tv = await tempVault();
  const { db } = tv.custody.vault;
  // A second epoch root and a retired device key, with a tie on created_at to order by id.
  const at = Date.now();
  db.sql.prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count, wrapped, from_day) VALUES ('zz-root', 'epoch_root', 'HKDF-SHA-256', 'active', ?, 'fp1', 0, x'0102', '2026-01-01')").run(at);
  db.sql.prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, rotated_at, fingerprint, usage_count, public_key) VALUES ('aa-old', 'device_signing', 'Ed25519', 'retired', ?, ?, 'fp2', 3, x'0a0b')").run(at, at + 5);
  const prisma = await db.prisma.keyEntry.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const raw = keyRows(db.sql, { byId: true });
  expect(raw.length).toBeGreaterThanOrEqual(4);
  expect(raw).toEqual(prisma);
  expect(keyRows(db.sql, { kinds: ['device_signing'], status: 'retired' })).toEqual(await db.prisma.keyEntry.findMany({ where: { kind: 'device_signing', status: 'retired' }, orderBy: { createdAt: 'asc' } }));
  expect(keyRows(db.sql, { kinds: ['epoch_root', 'vault_key'] }).map((k) => k.id)).toEqual(prisma.filter((k) => k.kind === 'epoch_root' || k.kind === 'vault_key').map((k) => k.id));
});
