import { afterEach, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type VaultDb } from './database.ts';

let dir: string;
let db: VaultDb | undefined;
afterEach(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('Prisma and the raw statements share one connection and one transaction', async () => {
  dir = mkdtempSync(join(tmpdir(), 'custody-db-'));
  db = await openDatabase(join(dir, 'v.db'));
  expect(db.sql.pragma('journal_mode', { simple: true })).toBe('wal');
  // Statement journals and sorts in memory: no copies of the vault's pages in temp files.
  expect(db.sql.pragma('temp_store', { simple: true })).toBe(2);
  await expect(
    db.write(async (tx) => {
      await tx.meta.create({ data: { key: 'a', value: '1' } });
      db!.sql.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('b', '2');
      throw new Error('roll back both');
    }),
  ).rejects.toThrow('roll back both');
  expect(await db.prisma.meta.count()).toBe(0);
  await db.write(async (tx) => {
    await tx.meta.create({ data: { key: 'a', value: '1' } });
    db!.sql.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('b', '2');
  });
  expect((await db.prisma.meta.findMany({ orderBy: { key: 'asc' } })).map((m) => m.key)).toEqual(['a', 'b']);
});
