// Migration 0008_disclosure: the issued-grant, acknowledgement and received-area tables, with
// acknowledgements and received material going with their grant.
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { MIGRATIONS, migrate } from '../db/migrate.ts';

test('0008_disclosure adds the grant and received tables; deleting a grant removes what hangs on it', () => {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  const upTo = MIGRATIONS.filter((m) => m.id < 8);
  migrate(db, upTo);
  const m = MIGRATIONS.find((x) => x.name === 'disclosure')!;
  expect(m.id).toBe(8);
  expect(migrate(db, [...upTo, m])).toEqual([8]);
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('grant_issued', 'grant_ack', 'received_grant', 'received_record', 'received_attachment') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  expect(tables).toEqual(['grant_ack', 'grant_issued', 'received_attachment', 'received_grant', 'received_record']);
  db.prepare("INSERT INTO grant_issued VALUES ('g', 0, NULL, '2026-01-01', '2026-01-02', 'days', 1, '[]', 'p', 'h', x'00')").run();
  db.prepare("INSERT INTO grant_ack VALUES ('g', 'k', 0, 0, 'note')").run();
  db.prepare("INSERT INTO received_grant VALUES ('r', 'v', 'k', 0, NULL, '2026-01-01', '2026-01-02', 1, 'h', x'00')").run();
  db.prepare("INSERT INTO received_record VALUES ('r', 'rec', x'00')").run();
  db.prepare("INSERT INTO received_attachment VALUES ('r', 'a', 'rec', x'00', x'00')").run();
  expect(() => db.prepare("INSERT INTO received_record VALUES ('nope', 'rec', x'00')").run()).toThrow(/FOREIGN KEY/);
  db.prepare("DELETE FROM grant_issued WHERE id = 'g'").run();
  db.prepare("DELETE FROM received_grant WHERE id = 'r'").run();
  expect(db.prepare('SELECT (SELECT count(*) FROM grant_ack) + (SELECT count(*) FROM received_record) + (SELECT count(*) FROM received_attachment) AS n').get()).toEqual({ n: 0 });
});
