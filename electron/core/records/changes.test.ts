// Migrations 0010 and 0011 and the change counter: every path that changes a record row moves
// the counter in the same transaction, from any connection; a rolled-back change moves nothing.
// A bulk import numbers its records itself (numberInserted), exactly as the trigger would.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, migrate } from '../db/migrate.ts';
import { openDatabase } from '../db/database.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { changeCounter, changedAt, changesSince, numberInserted } from './changes.ts';
import { insertRecords } from './importer.ts';
import type { RecordData } from '../../shared/records.ts';

const MIGRATION = MIGRATIONS.find((m) => m.name === 'record_changes')!;
const HOLD = MIGRATIONS.find((m) => m.name === 'bulk_record_changes')!;

/** Inserts a minimal record row with the given id (its other columns do not matter here). */
const recordInsert = (db: Database.Database) => db.prepare("INSERT INTO record VALUES (?, 'note', 0, '1970-01-01', 0, 0, 1, NULL, x'00', x'00', x'00')");

/** An in-memory database migrated up to just before `m`, and the migrations that bring it to `m`. */
function before(m: (typeof MIGRATIONS)[number]): { db: Database.Database; insert: Database.Statement; upTo: () => number[] } {
  const db = new Database(':memory:');
  migrate(db, MIGRATIONS.filter((x) => x.id < m.id));
  return { db, insert: recordInsert(db), upTo: () => migrate(db, MIGRATIONS.filter((x) => x.id <= m.id)) };
}

describe('migration 0010_record_changes', () => {
  test('numbers the records of an existing vault once, then every insert, update and delete', () => {
    const { db, insert, upTo } = before(MIGRATION);
    insert.run('b');
    insert.run('a');
    expect(upTo()).toEqual([MIGRATION.id]);
    // Existing records count as changed once, in id order.
    expect(changesSince(db, 0)).toEqual({ counter: 2, ids: ['a', 'b'], rewound: false });
    insert.run('c');
    db.prepare("UPDATE record SET version = 2 WHERE id = 'a'").run();
    db.prepare("DELETE FROM record WHERE id = 'b'").run();
    // Each record once, at its last change; the purged one too.
    expect(changesSince(db, 2)).toEqual({ counter: 5, ids: ['c', 'a', 'b'], rewound: false });
    expect(changesSince(db, 4)).toEqual({ counter: 5, ids: ['b'], rewound: false });
    expect(changesSince(db, 5)).toEqual({ counter: 5, ids: [], rewound: false });
    expect(changedAt(db, 4)).toBe('a');
    // A rolled-back change gives no number.
    expect(() => db.transaction(() => {
      insert.run('d');
      throw new Error('rolled back');
    })()).toThrow('rolled back');
    expect(changeCounter(db)).toBe(5);
    // A reader ahead of the database (an older copy put in place) is told so.
    expect(changesSince(db, 9)).toEqual({ counter: 9, ids: [], rewound: true });
  });
});

describe('migration 0011_bulk_record_changes', () => {
  test('the insert trigger stands aside only while a transaction holds it; numberInserted gives the numbers the trigger gives', () => {
    const { db, insert, upTo } = before(HOLD);
    insert.run('a');
    expect(upTo()).toEqual([HOLD.id]);
    // Unheld, every insert is numbered by the trigger, as before.
    insert.run('b');
    expect(changesSince(db, 0)).toEqual({ counter: 2, ids: ['a', 'b'], rewound: false });
    // A purge keeps the purged record's row: the highest rowid is gone, numbering must not care.
    db.prepare("DELETE FROM record WHERE id = 'b'").run();
    expect(changeCounter(db)).toBe(3);
    // Held: the rows are numbered once, at the end, in insertion order, after every number given.
    db.transaction(() =>
      numberInserted(db, () => {
        for (const id of ['z', 'c', 'y']) insert.run(id);
        // The trigger stood aside: nothing numbered yet.
        expect(changeCounter(db)).toBe(3);
      }),
    )();
    expect(changesSince(db, 3)).toEqual({ counter: 6, ids: ['z', 'c', 'y'], rewound: false });
    // The hold is gone with the transaction: the next insert is the trigger's again.
    expect(db.prepare('SELECT count(*) FROM record_change_hold').pluck().get()).toBe(0);
    insert.run('d');
    expect(changesSince(db, 6)).toEqual({ counter: 7, ids: ['d'], rewound: false });
    // A held insert that fails rolls back the hold and its rows; nothing is numbered.
    expect(() =>
      db.transaction(() =>
        numberInserted(db, () => {
          insert.run('e');
          throw new Error('rolled back');
        }),
      )(),
    ).toThrow('rolled back');
    expect(db.prepare('SELECT count(*) FROM record_change_hold').pluck().get()).toBe(0);
    insert.run('f');
    expect(changesSince(db, 7)).toEqual({ counter: 8, ids: ['f'], rewound: false });
    // Outside a transaction the hold would be committed: refused.
    expect(() => numberInserted(db, () => insert.run('g'))).toThrow(/inside a write transaction/);
    expect(db.prepare("SELECT count(*) FROM record WHERE id = 'g'").pluck().get()).toBe(0);
  });
});

test('a hold found committed at open (an edited file) is lifted, and every record counts as changed once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-hold-'));
  try {
    const file = join(dir, 'v.db');
    const first = await openDatabase(file);
    const insert = recordInsert(first.sql);
    insert.run('a');
    const before = changeCounter(first.sql);
    // Committed, as only an edit of the file could: the next insert goes unnumbered.
    first.sql.prepare('INSERT INTO record_change_hold (held) VALUES (1)').run();
    insert.run('b');
    expect(changesSince(first.sql, before).ids).toEqual([]);
    await first.close();
    const db = await openDatabase(file);
    try {
      expect(db.sql.prepare('SELECT count(*) FROM record_change_hold').pluck().get()).toBe(0);
      expect(changesSince(db.sql, before)).toEqual({ counter: before + 2, ids: ['a', 'b'], rewound: false });
      // The trigger numbers again.
      recordInsert(db.sql).run('c');
      expect(changesSince(db.sql, before + 2).ids).toEqual(['c']);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const bulk: RecordData[] = Array.from({ length: 30 }, (_, i) => ({ kind: 'note', title: `bulk ${i}`, body: '', fields: [], case: '', tags: [], classification: 'internal', capturedAt: new Date(Date.UTC(2026, 0, 1 + (i % 5))).toISOString() }));

describe('change counter of a vault', () => {
  let tv: TempVault;
  beforeEach(async () => {
    tv = await tempVault();
  });
  afterEach(async () => tv.cleanup());

  test('create, edit, day move, delete, restore, purge and import each number the record', async () => {
    const c = tv.custody;
    const sql = c.vault.db.sql;
    const start = changeCounter(sql);
    const r = await c.createRecord({ kind: 'note', title: 'one', body: 'first' });
    const created = changesSince(sql, start);
    expect(created.ids).toEqual([r.id]);
    await c.updateRecord(r.id, 1, { body: 'edited' });
    expect(changesSince(sql, created.counter).ids).toEqual([r.id]);
    let at = changeCounter(sql);
    // Moving the record to another day (a new data key under that day's epoch key).
    await c.updateRecord(r.id, 2, { capturedAt: '2020-02-02T10:00:00Z' });
    expect(changesSince(sql, at).ids).toEqual([r.id]);
    for (const step of [() => c.deleteRecord(r.id), () => c.restoreRecord(r.id), () => c.deleteRecord(r.id), () => c.purgeRecord(r.id)]) {
      at = changeCounter(sql);
      await step();
      expect(changesSince(sql, at)).toMatchObject({ counter: at + 1, ids: [r.id] });
    }
    at = changeCounter(sql);
    const file = join(tv.dir, '..', 'import.json');
    writeFileSync(file, JSON.stringify([{ kind: 'note', title: 'a' }, { kind: 'note', title: 'b' }]));
    const imported = await c.importFile(file);
    expect(changesSince(sql, at)).toEqual({ counter: at + 2, ids: imported.ids, rewound: false });
  });

  for (const [path, sealThreadFrom] of [['on this thread', 1000], ['sealed on the helper thread', 2]] as const) {
    test(`a bulk import ${path} numbers its records in order after the counter, and a failed one numbers nothing`, async () => {
      const c = tv.custody;
      const sql = c.vault.db.sql;
      await c.createRecord({ kind: 'note', title: 'before' });
      const at = changeCounter(sql);
      const out = await insertRecords(c.vault, bulk, { sealThreadFrom, sealChunk: 7 });
      expect(changesSince(sql, at)).toEqual({ counter: at + bulk.length, ids: out.map((r) => r.id), rewound: false });
      expect(sql.prepare('SELECT count(*) FROM record_change_hold').pluck().get()).toBe(0);
      // The ids of one batch sort in the order they were made (sealBatch.ts: a counter in the UUIDv7).
      if (sealThreadFrom === 2) expect(out.map((r) => r.id)).toEqual(out.map((r) => r.id).sort());
      const next = changeCounter(sql);
      if (sealThreadFrom === 2) await expect(insertRecords(c.vault, bulk, { sealThreadFrom, sealChunk: 7, fault: { chunk: 2, how: 'throw' } })).rejects.toThrow(/a fault forced by a test/);
      expect(changeCounter(sql)).toBe(next);
      expect(sql.prepare('SELECT count(*) FROM record_change_hold').pluck().get()).toBe(0);
      // And the next single write is numbered by the trigger.
      const r = await c.createRecord({ kind: 'note', title: 'after' });
      expect(changesSince(sql, next)).toEqual({ counter: next + 1, ids: [r.id], rewound: false });
    });
  }

  test('a write from another connection (another process) is seen, and a refused write is not', async () => {
    const c = tv.custody;
    await c.createRecord({ kind: 'note', title: 'mine' });
    const at = changeCounter(c.vault.db.sql);
    const other = new Database(join(tv.dir, 'custody.db'));
    try {
      other.prepare('UPDATE record SET deleted_at = 1').run();
      expect(changesSince(c.vault.db.sql, at).ids).toHaveLength(1);
    } finally {
      other.close();
    }
    const before = changeCounter(c.vault.db.sql);
    // A refused edit (the record is in the trash) numbers nothing.
    await expect(c.updateRecord((await c.list({ deleted: 'include' }))[0]!.id, 1, { title: 'x' })).rejects.toThrow();
    expect(changeCounter(c.vault.db.sql)).toBe(before);
  });
});
