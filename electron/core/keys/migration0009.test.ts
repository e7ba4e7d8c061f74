// Migration 0009_key_lifecycle: epoch roots get the days they serve, keys what they replaced,
// and re-encryption jobs a table; existing keys keep serving every day (NULL bounds).
import { expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate } from '../db/migrate.ts';

test('0009_key_lifecycle adds from_day, until_day, replaces and key_job; existing roots serve all days', () => {
  const db = new Database(':memory:');
  const before = MIGRATIONS.filter((m) => m.id < 9);
  migrate(db, before);
  db.prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count) VALUES ('k', 'epoch_root', 'HKDF-SHA-256', 'active', 0, 'f', 0)").run();
  expect(migrate(db, MIGRATIONS.filter((m) => m.id <= 9))).toEqual([9]);
  expect(db.prepare("SELECT from_day, until_day, replaces FROM key_registry WHERE id = 'k'").get()).toEqual({ from_day: null, until_day: null, replaces: null });
  const cols = (db.prepare("SELECT name FROM pragma_table_info('key_job') ORDER BY cid").all() as { name: string }[]).map((c) => c.name);
  expect(cols).toEqual(['id', 'kind', 'key_id', 'from_day', 'until_day', 'done_through', 'records_done', 'started_at', 'finished_at']);
  // A job needs its range.
  expect(() => db.prepare("INSERT INTO key_job (id, kind, key_id, started_at) VALUES ('j', 'record-keys', 'k', 0)").run()).toThrow(/NOT NULL/);
});
