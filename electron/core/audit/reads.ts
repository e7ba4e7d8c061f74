// Typed reads of the audit log for the modules that need its rows: reports (the entries in
// scope and the leaves of the in-memory tree), sync (pages to push, leaves to compare with
// the server's copy, this device's own record events), settings, and whoever reads a copy of
// the database (backup). This module owns audit_entry, audit_node and audit_checkpoint;
// nothing outside electron/core/audit/ names them (scripts/tableOwners.test.ts).
// Works on any connection: the vault's (AuditLog extends it) or a copy's.
import type Database from 'better-sqlite3';
import type { AuditEvent } from '../../shared/audit.ts';

/** An audit_entry row as other modules read it. */
export interface StoredEntry {
  seq: number;
  /** The canonical entry text (its leaf hash's input); null once retention removed the body. */
  entry: string | null;
  leafHash: Buffer;
  /** The time column in ms (kept when the body is pruned). */
  time: number;
  target: string | null;
}

const STORED_ENTRY = 'SELECT seq, entry, leaf_hash AS leafHash, time, target FROM audit_entry';
/** Targets per query of entriesAbout (SQLite's bound-parameter limit is far above). */
const TARGETS_PER_QUERY = 500;

export class AuditReads {
  readonly #sql: Database.Database;
  readonly #size: Database.Statement<[], { n: number }>;
  /** Statements prepared on first use (most sessions need few of them). */
  readonly #statements = new Map<string, Database.Statement>();

  constructor(sql: Database.Database) {
    this.#sql = sql;
    // Every append asks for the size: prepared up front.
    this.#size = sql.prepare('SELECT coalesce(max(seq) + 1, 0) AS n FROM audit_entry');
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, (s = this.#sql.prepare(sql)));
    return s;
  }

  /** How many entries the log has (one past the largest sequence number). */
  size(): number {
    return this.#size.get()!.n;
  }

  /**
   * The first `size` entries in log order, streamed (a report reads the whole log). A statement
   * of its own per call: a shared one could not serve two iterations at once.
   */
  entriesBelow(size: number): IterableIterator<StoredEntry> {
    return this.#sql.prepare<[number], StoredEntry>(`${STORED_ENTRY} WHERE seq < ? ORDER BY seq`).iterate(size);
  }

  /** Up to `limit` entries from `seq` on, in log order (a page of a push). */
  entriesFrom(seq: number, limit: number): StoredEntry[] {
    return this.#stmt(`${STORED_ENTRY} WHERE seq >= ? ORDER BY seq LIMIT ?`).all(seq, limit) as StoredEntry[];
  }

  /** The entry at `seq`, if the log has one. */
  entryAt(seq: number): StoredEntry | undefined {
    return this.#stmt(`${STORED_ENTRY} WHERE seq = ?`).get(seq) as StoredEntry | undefined;
  }

  /** The entries before `size` about any of `targets` (record:…, attachment:…), in log order. */
  entriesAbout(targets: readonly string[], size: number): StoredEntry[] {
    const out: StoredEntry[] = [];
    for (let i = 0; i < targets.length; i += TARGETS_PER_QUERY) {
      const part = targets.slice(i, i + TARGETS_PER_QUERY);
      const rows = this.#sql.prepare(`${STORED_ENTRY} WHERE target IN (${part.map(() => '?').join(',')}) AND seq < ?`).all(...part, size) as StoredEntry[];
      for (const r of rows) out.push(r);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** The leaf hashes of the first `size` entries, in order (fewer if the log is shorter). */
  leafHashes(size: number): Buffer[] {
    return this.#stmt('SELECT leaf_hash FROM audit_entry WHERE seq < ? ORDER BY seq').pluck().all(size) as Buffer[];
  }

  /** Every leaf hash in order, streamed (memory stays flat however long the log). */
  streamLeafHashes(): IterableIterator<Buffer> {
    return this.#sql.prepare<[], Buffer>('SELECT leaf_hash FROM audit_entry ORDER BY seq').pluck().iterate();
  }

  /** The time column of the newest entry (ms), or null for an empty log. */
  lastEntryTime(): number | null {
    return this.#stmt('SELECT max(time) FROM audit_entry').pluck().get() as number | null;
  }

  /** The newest entry of `event` that succeeded, if any (the last backup, for status). */
  lastEntryOf(event: AuditEvent): StoredEntry | undefined {
    return this.#stmt(`${STORED_ENTRY} WHERE event = ? AND success = 1 ORDER BY seq DESC LIMIT 1`).get(event) as StoredEntry | undefined;
  }

  /**
   * Whether the log holds an entry of `event`, about `target` if given, whose body contains
   * `bodyContains` if given (compared as SQL LIKE does: ASCII case aside).
   */
  hasEntry(event: AuditEvent, where: { target?: string; bodyContains?: string } = {}): boolean {
    let sql = 'SELECT 1 FROM audit_entry WHERE event = @event';
    const params: Record<string, string> = { event };
    if (where.target !== undefined) {
      sql += ' AND target = @target';
      params.target = where.target;
    }
    if (where.bodyContains !== undefined) {
      sql += " AND entry LIKE @pattern ESCAPE '\\'";
      params.pattern = `%${where.bodyContains.replace(/[\\%_]/g, '\\$&')}%`;
    }
    return this.#stmt(`${sql} LIMIT 1`).get(params) !== undefined;
  }
}
