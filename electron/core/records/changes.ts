// "What changed since N": the record change counter kept by the database (migration 0010).
// Triggers on the record table give each changed record the next number in the transaction of
// its change, whichever process or path made it (edit, delete, restore, purge, day move, import,
// sync pull). The counter is the highest number given so far; a reader that knows counter N
// reads the records with a higher number and has seen every change since.
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
