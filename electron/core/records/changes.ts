// "What changed since N": the record change counter kept by the database (migrations 0010, 0011).
// Triggers on the record table give each changed record the next number in the transaction of
// its change, whichever process or path made it (edit, delete, restore, purge, day move, import,
// sync pull). A bulk import numbers its own rows in one statement instead, in the same
// transaction (numberInserted). The counter is the highest number given so far; a reader that
// knows counter N reads the records with a higher number and has seen every change since.
import type Database from 'better-sqlite3';

export interface RecordChanges {
  /** The counter these changes bring the reader to. */
  counter: number;
  /** Ids of the records changed after the counter asked about (each once; purged ones too). */
  ids: string[];
  /**
   * The database's counter is below the one asked about: it was replaced by an older copy (a
   * restored backup), so the reader cannot know what changed and must start over.
   */
  rewound: boolean;
}

const statements = new WeakMap<Database.Database, { counter: Database.Statement<[], number>; since: Database.Statement<[number], [string, number]>; at: Database.Statement<[number], string> }>();

function prepared(sql: Database.Database) {
  let s = statements.get(sql);
  if (!s) {
    s = {
      counter: sql.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM record_change').pluck(),
      since: sql.prepare<[number], [string, number]>('SELECT record_id, seq FROM record_change WHERE seq > ? ORDER BY seq').raw(),
      at: sql.prepare<[number], string>('SELECT record_id FROM record_change WHERE seq = ?').pluck(),
    };
    statements.set(sql, s);
  }
  return s;
}

/** The change counter now (0 for a vault with no record changes yet). */
export function changeCounter(sql: Database.Database): number {
  return prepared(sql).counter.get() ?? 0;
}

/** The record the change numbered `seq` was about, while it is that record's last change. */
export function changedAt(sql: Database.Database, seq: number): string | undefined {
  return prepared(sql).at.get(seq);
}

/**
 * The records changed after `counter`, and the counter they bring the reader to. One statement,
 * so the ids and the counter agree even while another process writes.
 */
export function changesSince(sql: Database.Database, counter: number): RecordChanges {
  const s = prepared(sql);
  const rows = s.since.all(counter);
  if (rows.length > 0) return { counter: rows.at(-1)![1], ids: rows.map((r) => r[0]), rewound: false };
  const now = s.counter.get() ?? 0;
  return { counter: Math.max(now, counter), ids: [], rewound: now < counter };
}

/**
 * Runs `insert` (which adds record rows) inside the caller's write transaction with the insert
 * trigger held (migration 0011), then numbers every row it added in one statement, in the order
 * they were inserted, and lifts the hold: the same numbers the trigger would have given, for a
 * fraction of its cost per row. The hold and the numbers commit or roll back with the rest.
 */
export function numberInserted<T>(sql: Database.Database, insert: () => T): T {
  if (!sql.inTransaction) throw new Error('internal error: numberInserted runs inside a write transaction');
  const lastBefore = sql.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM record').pluck().get() ?? 0;
  // Near the top of the rowid range SQLite picks new rowids at random (and JS numbers lose
  // integers past 2^53): leave the numbering to the trigger there. Only an edited file gets there.
  if (lastBefore >= 2 ** 52) return insert();
  sql.prepare('INSERT INTO record_change_hold (held) VALUES (1)').run();
  const result = insert();
  // New rows take rowids above every row there was (SQLite's rowid for a table whose highest is
  // below 2^63 - 1): exactly the ones `insert` added.
  sql.prepare('DELETE FROM record_change_hold').run();
  numberAfter(sql, lastBefore);
  return result;
}

/** Numbers the records whose rowid is above `rowid` after the counter, in rowid order: the numbers the trigger gives. */
function numberAfter(sql: Database.Database, rowid: number): void {
  sql.prepare('INSERT OR REPLACE INTO record_change (record_id, seq) SELECT id, ? + row_number() OVER (ORDER BY rowid) FROM record WHERE rowid > ?').run(changeCounter(sql), rowid);
}

/**
 * The hold (migration 0011) is only ever taken inside a bulk import's transaction. One found
 * committed when the database opens (the file was edited, or a bug) would keep the trigger from
 * numbering new records, and "what changed since" would miss them: it is lifted, and every
 * record counts as changed once (as migration 0010 numbered a vault's records), so a persisted
 * search index re-reads them all.
 */
export function liftStrayHold(sql: Database.Database): void {
  if (sql.prepare('SELECT 1 FROM record_change_hold LIMIT 1').get() === undefined) return;
  sql
    .transaction(() => {
      sql.prepare('DELETE FROM record_change_hold').run();
      numberAfter(sql, 0);
    })
    .immediate();
}
