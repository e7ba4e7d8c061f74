// Per-database settings kept in the meta table (plain values, no secrets).
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import type { PrismaTx } from '../db/database.ts';

const MetaSchema = z.object({
  vaultId: z.string(),
  deviceId: z.string(),
  actor: z.string(),
  retentionDays: z.coerce.number().int().positive(),
});
export type VaultMeta = z.infer<typeof MetaSchema>;

/** Read at every open: a prepared statement, not a Prisma query (db/keyRows.ts says why). */
export function readMeta(sql: Database.Database): VaultMeta {
  const rows = sql.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  const parsed = MetaSchema.safeParse(Object.fromEntries(rows.map((r) => [r.key, r.value])));
  if (!parsed.success) throw new CustodyError('VAULT_CORRUPT', 'the vault database is missing its settings');
  return parsed.data;
}

export async function writeMeta(tx: PrismaTx, meta: Partial<VaultMeta>): Promise<void> {
  for (const [key, value] of Object.entries(meta)) {
    await tx.meta.upsert({ where: { key }, create: { key, value: String(value) }, update: { value: String(value) } });
  }
}

/** One meta value by key (the sealed ones, e.g. settings, are opened by their owner). */
export function metaValue(sql: Database.Database, key: string): string | undefined {
  return (sql.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

/** Sets one meta value, in the caller's transaction (VaultDb.writeSync). */
export function setMetaValue(sql: Database.Database, key: string, value: string): void {
  sql.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Removes one meta value, in the caller's transaction. */
export function deleteMetaValue(sql: Database.Database, key: string): void {
  sql.prepare('DELETE FROM meta WHERE key = ?').run(key);
}

/** Every meta value by key (a backup's database checked without opening the vault). */
export function allMetaValues(sql: Database.Database): Record<string, string> {
  return Object.fromEntries((sql.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
}
