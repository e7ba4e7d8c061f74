import { describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { MIGRATIONS, migrate, type Migration } from './migrate.ts';

const fresh = () => new Database(':memory:');
const tables = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('migrations', () => {
  test('are numbered 0001.. without gaps', () => {
    expect(MIGRATIONS.map((m) => m.id)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  test('0001_init creates the vault schema and is recorded with its checksum', () => {
    const db = fresh();
    expect(migrate(db, MIGRATIONS.slice(0, 1))).toEqual([1]);
    expect(tables(db)).toEqual(['_custody_migrations', 'attachment', 'audit_checkpoint', 'audit_entry', 'audit_node', 'key_registry', 'meta', 'record', 'record_version']);
    expect(db.prepare('SELECT id, name, checksum FROM _custody_migrations').get()).toEqual({ id: 1, name: 'init', checksum: MIGRATIONS[0]!.checksum });
    // Deleting a record cascades to its versions and attachments.
    db.pragma('foreign_keys = ON');
    db.prepare("INSERT INTO record VALUES ('r', 'note', 0, '1970-01-01', 0, 0, 2, NULL, x'00', x'00', x'00')").run();
    db.prepare("INSERT INTO record_version VALUES ('r', 1, 'note', 0, '1970-01-01', 0, x'00', x'00', x'00')").run();
    db.prepare("INSERT INTO attachment VALUES ('a', 'r', 0, x'00', x'00')").run();
    db.prepare("DELETE FROM record WHERE id = 'r'").run();
    expect(db.prepare('SELECT (SELECT count(*) FROM record_version) + (SELECT count(*) FROM attachment) AS n').get()).toEqual({ n: 0 });
  });

  test('0002_sync adds the sync tables, and triggers that queue changes only once sync is configured', () => {
    const db = fresh();
    migrate(db, MIGRATIONS.slice(0, 1));
    expect(migrate(db, MIGRATIONS.slice(0, 2))).toEqual([2]);
    expect(tables(db)).toEqual(expect.arrayContaining(['remote_audit_entry', 'remote_device', 'sync_conflict', 'sync_outbox', 'sync_record', 'sync_state']));
    const triggers = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(triggers).toEqual(['sync_outbox_attachment_insert', 'sync_outbox_record_delete', 'sync_outbox_record_insert', 'sync_outbox_record_update']);
    const outbox = () => db.prepare('SELECT kind, target_id AS id FROM sync_outbox ORDER BY rowid').all();
    const insert = (id: string) => db.prepare("INSERT INTO record VALUES (?, 'note', 0, '1970-01-01', 0, 0, 1, NULL, x'00', x'00', x'00')").run(id);
    insert('before');
    expect(outbox()).toEqual([]);
    db.prepare("INSERT INTO meta VALUES ('sync_url', 'sealed')").run();
    insert('r');
    db.prepare("UPDATE record SET version = 2 WHERE id = 'r'").run();
    db.prepare("INSERT INTO attachment VALUES ('a', 'r', 0, x'00', x'00')").run();
    db.prepare("DELETE FROM record WHERE id = 'r'").run();
    expect(outbox()).toEqual([
      { kind: 'record', id: 'r' },
      { kind: 'record', id: 'r' },
      { kind: 'attachment', id: 'a' },
      { kind: 'purge', id: 'r' },
    ]);
    // What a pull applies is not queued back.
    db.prepare("INSERT INTO sync_state VALUES ('applying', '1')").run();
    insert('pulled');
    expect(outbox()).toHaveLength(4);
  });

  test('0003_listing_order lets a listing of the newest records read an index instead of sorting', () => {
    const db = fresh();
    migrate(db, MIGRATIONS.slice(0, 2));
    const insert = db.prepare("INSERT INTO record VALUES (?, 'note', ?, '1970-01-01', 0, 0, 1, ?, x'00', x'00', x'00')");
    insert.run('a', 1, null);
    insert.run('b', 2, 5);
    insert.run('c', 2, null);
    expect(migrate(db, MIGRATIONS.filter((m) => m.id <= 3))).toEqual([3]);
    const listing = 'SELECT id FROM record WHERE deleted_at IS NULL ORDER BY captured_at DESC, id DESC';
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${listing}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan).toContain('record_deleted_at_captured_at_id_idx');
    expect(plan).not.toContain('TEMP B-TREE');
    expect(db.prepare(listing).pluck().all()).toEqual(['c', 'a']);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'record_deleted_at_idx'").get()).toBeUndefined();
  });

  test('0004_key_attestation adds the attestation column to the key registry; existing keys keep NULL until their first unlock', () => {
    const db = fresh();
    migrate(db, MIGRATIONS.slice(0, 3));
    db.prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, public_key, wrapped) VALUES ('k', 'device_signing', 'Ed25519', 'active', 0, 'f', x'01', x'02')").run();
    expect(migrate(db, MIGRATIONS.filter((m) => m.id <= 4))).toEqual([4]);
    expect(db.prepare("SELECT id, attestation FROM key_registry").all()).toEqual([{ id: 'k', attestation: null }]);
    db.prepare("UPDATE key_registry SET attestation = x'0a0b' WHERE id = 'k'").run();
    expect(db.prepare("SELECT attestation FROM key_registry").pluck().get()).toEqual(Buffer.from([10, 11]));
  });

  test('0005_record_epoch_day refuses a record or version whose epoch_day is not the UTC day of its captured_at', () => {
    const db = fresh();
    migrate(db, MIGRATIONS.filter((m) => m.id < 5));
    const row = db.prepare("INSERT INTO record VALUES (?, 'note', ?, ?, 0, 0, 1, NULL, x'00', x'00', x'00')");
    row.run('old', 0, '1999-09-09'); // written before: left as it is (reads check it)
    expect(migrate(db, MIGRATIONS.filter((m) => m.id <= 5))).toEqual([5]);
    const day = Date.parse('2026-03-04T23:59:59.999Z');
    row.run('a', day, '2026-03-04');
    row.run('b', -1, '1969-12-31');
    row.run('c', Date.parse('2026-03-05T00:00:00.000Z'), '2026-03-05');
    expect(() => row.run('d', day, '2026-03-05')).toThrow(/epoch_day must be the UTC day of captured_at/);
    expect(() => row.run('e', -1, '1970-01-01')).toThrow(/epoch_day/);
    expect(() => db.prepare("UPDATE record SET captured_at = captured_at + 1 WHERE id = 'a'").run()).toThrow(/epoch_day/);
    expect(() => db.prepare("UPDATE record SET epoch_day = '2026-03-03' WHERE id = 'a'").run()).toThrow(/epoch_day/);
    db.prepare("UPDATE record SET captured_at = captured_at + 1, epoch_day = '2026-03-05' WHERE id = 'a'").run();
    db.prepare("UPDATE record SET deleted_at = 5 WHERE id = 'old'").run();
    const version = db.prepare("INSERT INTO record_version VALUES ('a', ?, 'note', ?, ?, 0, x'00', x'00', x'00')");
    version.run(1, day, '2026-03-04');
    expect(() => version.run(2, day, '2026-03-05')).toThrow(/record_version: epoch_day/);
    expect(() => db.prepare("UPDATE record_version SET captured_at = captured_at + 86400000").run()).toThrow(/record_version: epoch_day/);
    expect(db.prepare('SELECT id, epoch_day FROM record ORDER BY id').all()).toEqual([
      { id: 'a', epoch_day: '2026-03-05' },
      { id: 'b', epoch_day: '1969-12-31' },
      { id: 'c', epoch_day: '2026-03-05' },
      { id: 'old', epoch_day: '1999-09-09' },
    ]);
  });

  test('0006_sync_evidence indexes the record events of other devices\' entries pulled before it, and keeps refusals', () => {
    const db = fresh();
    migrate(db, MIGRATIONS.filter((m) => m.id < 6));
    db.prepare("INSERT INTO remote_device (id, public_key) VALUES ('d', x'00')").run();
    const entry = db.prepare("INSERT INTO remote_audit_entry (device_id, seq, time, entry, leaf_hash) VALUES ('d', ?, 0, ?, x'00')");
    const e = (seq: number, event: string, target: string | null, details: object = {}) => entry.run(seq, JSON.stringify({ seq, device: 'd', event, target, details }));
    e(0, 'record.created', 'record:r1');
    e(1, 'record.updated', 'record:r1', { version: 2, fields: ['body'] });
    e(2, 'record.deleted', 'record:r1');
    e(3, 'record.viewed', 'record:r1');
    e(4, 'record.purged', 'record:r2', { attachments: 0 });
    e(5, 'record.deleted', 'attachment:x');
    entry.run(6, null); // pruned by retention: nothing to read
    expect(migrate(db, MIGRATIONS.filter((m) => m.id <= 6))).toEqual([6]);
    expect(db.prepare('SELECT device_id, seq, record_id, event, version, applied FROM remote_record_event ORDER BY seq').all()).toEqual([
      { device_id: 'd', seq: 1, record_id: 'r1', event: 'record.updated', version: 2, applied: 0 },
      { device_id: 'd', seq: 2, record_id: 'r1', event: 'record.deleted', version: null, applied: 0 },
      { device_id: 'd', seq: 4, record_id: 'r2', event: 'record.purged', version: null, applied: 0 },
    ]);
    const plan = (db.prepare("EXPLAIN QUERY PLAN SELECT * FROM remote_record_event WHERE record_id = 'r1'").all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan).toContain('remote_record_event_record_id_idx');
    db.pragma('foreign_keys = ON');
    db.prepare("DELETE FROM remote_device WHERE id = 'd'").run();
    expect(db.prepare('SELECT count(*) AS n FROM remote_record_event').get()).toEqual({ n: 0 });
    db.prepare("INSERT INTO sync_refusal VALUES ('r1', 'unsigned', 'why', 0)").run();
    expect(() => db.prepare("INSERT INTO sync_refusal VALUES ('r1', 'other', 'why', 0)").run()).toThrow(/UNIQUE/);
  });

  test('0007_sharing adds the address book: unique name tags and fingerprints, known recipient types only', () => {
    const db = fresh();
    migrate(db, MIGRATIONS.filter((m) => m.id < 7));
    expect(tables(db)).not.toContain('recipient');
    expect(migrate(db, MIGRATIONS.filter((m) => m.id <= 7))).toEqual([7]);
    const add = db.prepare("INSERT INTO recipient (id, name_tag, fingerprint, type, sealed, created_at) VALUES (?, ?, ?, ?, x'00', 0)");
    add.run('a', Buffer.from('tag-a'), 'aaaa-aaaa-aaaa-aaaa-aaaa', 'hybrid');
    add.run('b', Buffer.from('tag-b'), 'bbbb-bbbb-bbbb-bbbb-bbbb', 'x25519');
    expect(() => add.run('c', Buffer.from('tag-a'), 'cccc-cccc-cccc-cccc-cccc', 'hybrid')).toThrow(/UNIQUE.*name_tag/);
    expect(() => add.run('d', Buffer.from('tag-d'), 'aaaa-aaaa-aaaa-aaaa-aaaa', 'hybrid')).toThrow(/UNIQUE.*fingerprint/);
    expect(() => add.run('e', Buffer.from('tag-e'), 'eeee-eeee-eeee-eeee-eeee', 'ssh-rsa')).toThrow(/CHECK/);
    expect(db.prepare('SELECT id FROM recipient ORDER BY id').pluck().all()).toEqual(['a', 'b']);
  });

  test('0012_record_version_captured_at lets a day of earlier versions be read through an index, on a vault that has versions', () => {
    const db = fresh();
    migrate(db, MIGRATIONS.filter((m) => m.id < 12));
    const day = Date.parse('2026-03-04T00:00:00Z');
    db.prepare("INSERT INTO record VALUES ('a', 'note', ?, '2026-03-04', 0, 0, 3, NULL, x'00', x'00', x'00')").run(day + 5);
    const version = db.prepare("INSERT INTO record_version VALUES ('a', ?, 'note', ?, ?, 0, x'00', x'00', x'00')");
    version.run(1, day + 5, '2026-03-04');
    version.run(2, day + 86_400_000, '2026-03-05');
    const oneDay = 'SELECT record_id, version FROM record_version WHERE captured_at >= ? AND captured_at < ?';
    const plan = () => (db.prepare(`EXPLAIN QUERY PLAN ${oneDay}`).all(day, day + 86_400_000) as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan()).toMatch(/^SCAN record_version$/);
    expect(migrate(db, MIGRATIONS.filter((m) => m.id <= 12))).toEqual([12]);
    expect(plan()).toContain('USING INDEX record_version_captured_at_idx');
    expect(db.prepare(oneDay).all(day, day + 86_400_000)).toEqual([{ record_id: 'a', version: 1 }]);
  });

  test('running again applies nothing', () => {
    const db = fresh();
    migrate(db);
    expect(migrate(db)).toEqual([]);
  });

  test('a database migrated by a newer app is refused, not misread', () => {
    const db = fresh();
    migrate(db);
    db.prepare("INSERT INTO _custody_migrations VALUES (9999, 'future', 'x', 0)").run();
    expect(() => migrate(db)).toThrow(expect.objectContaining({ code: 'DATABASE_TOO_NEW' }));
  });

  test('a migration whose SQL changed after it was applied is refused', () => {
    const db = fresh();
    migrate(db);
    const edited = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
    expect(() => migrate(db, edited)).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
  });

  test('a failing migration rolls back entirely and is not recorded', () => {
    const db = fresh();
    const bad: Migration = { id: MIGRATIONS.length + 1, name: 'bad', sql: 'CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);', checksum: 'c' };
    expect(() => migrate(db, [...MIGRATIONS, bad])).toThrow();
    expect(tables(db)).not.toContain('half');
    expect((db.prepare('SELECT max(id) AS n FROM _custody_migrations').get() as { n: number }).n).toBe(MIGRATIONS.length);
  });
});

// ---- the applied schema is exactly what prisma/schema.prisma describes ---------------------

interface Col {
  type: string;
  notNull: boolean;
  pk: number;
}
interface Table {
  columns: Record<string, Col>;
  indexes: string[];
  foreignKeys: string[];
}

const SQLITE_TYPES: Record<string, string> = { String: 'TEXT', Int: 'INTEGER', Boolean: 'BOOLEAN', DateTime: 'DATETIME', Bytes: 'BLOB', Float: 'REAL', BigInt: 'BIGINT' };

/** Reads the subset of the Prisma schema language this project uses into SQLite terms. */
function fromPrismaSchema(text: string): Record<string, Table> {
  const models = [...text.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)];
  const dbName = new Map(models.map(([, name, body]) => [name!, /@@map\("(\w+)"\)/.exec(body!)?.[1] ?? name!]));
  const out: Record<string, Table> = {};
  for (const [, , body] of models) {
    const t: Table = { columns: {}, indexes: [], foreignKeys: [] };
    const colName = new Map<string, string>();
    const lines = body!.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('//') && !l.startsWith('///'));
    for (const line of lines.filter((l) => !l.startsWith('@@'))) {
      const [field, type, ...rest] = line.split(/\s+/);
      const attrs = rest.join(' ');
      const base = type!.replace(/[?[\]]/g, '');
      const relation = /@relation\(fields: \[(\w+)\], references: \[(\w+)\], onDelete: (\w+)\)/.exec(attrs);
      if (relation) {
        t.foreignKeys.push(`${relation[1]}->${dbName.get(base)}.${relation[2]} ${relation[3]!.toUpperCase()}`);
        continue;
      }
      if (type!.endsWith('[]')) continue;
      const name = /@map\("(\w+)"\)/.exec(attrs)?.[1] ?? field!;
      colName.set(field!, name);
      t.columns[name] = { type: SQLITE_TYPES[base]!, notNull: !type!.endsWith('?'), pk: attrs.includes('@id') ? 1 : 0 };
    }
    t.foreignKeys = t.foreignKeys.map((fk) => fk.replace(/^(\w+)->/, (_, f: string) => `${colName.get(f)}->`).replace('CASCADE', 'CASCADE'));
    for (const line of lines.filter((l) => l.startsWith('@@'))) {
      const cols = (/\[([^\]]+)\]/.exec(line)?.[1] ?? '').split(',').map((f) => colName.get(f.trim())!);
      if (line.startsWith('@@id')) cols.forEach((c, i) => (t.columns[c]!.pk = i + 1));
      if (line.startsWith('@@index')) t.indexes.push(`${cols.join(',')}`);
      if (line.startsWith('@@unique')) t.indexes.push(`unique ${cols.join(',')}`);
    }
    t.indexes.sort();
    t.foreignKeys.sort();
    out[dbName.get(models.find(([, , b]) => b === body)![1]!)!] = t;
  }
  return out;
}

function fromDatabase(db: Database.Database): Record<string, Table> {
  const out: Record<string, Table> = {};
  for (const name of tables(db).filter((n) => n !== '_custody_migrations')) {
    const cols = db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string; type: string; notnull: number; pk: number }[];
    const idx = (db.prepare(`PRAGMA index_list("${name}")`).all() as { name: string; unique: number; origin: string }[]).filter((i) => i.origin === 'c');
    const fks = db.prepare(`PRAGMA foreign_key_list("${name}")`).all() as { table: string; from: string; to: string; on_delete: string }[];
    out[name] = {
      // A single-column INTEGER/TEXT primary key is NOT NULL in Prisma's DDL; SQLite reports notnull from the declaration.
      columns: Object.fromEntries(cols.map((c) => [c.name, { type: c.type, notNull: c.notnull === 1, pk: c.pk }])),
      indexes: idx.map((i) => `${i.unique ? 'unique ' : ''}${(db.prepare(`PRAGMA index_info("${i.name}")`).all() as { name: string }[]).map((x) => x.name).join(',')}`).sort(),
      foreignKeys: fks.map((f) => `${f.from}->${f.table}.${f.to} ${f.on_delete}`).sort(),
    };
  }
  return out;
}

test('the migrations produce exactly the schema in prisma/schema.prisma', () => {
  const db = fresh();
  migrate(db);
  const expected = fromPrismaSchema(readFileSync('prisma/schema.prisma', 'utf8'));
  expect(Object.keys(expected).length).toBeGreaterThanOrEqual(8);
  expect(fromDatabase(db)).toEqual(expected);
});
