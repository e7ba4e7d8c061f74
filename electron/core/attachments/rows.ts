// The attachment table as other modules see it: sealed rows they move or remove without
// opening them (sync, a record's purge, routing an IPC call). This module owns the table;
// nothing outside electron/core/attachments/ names it (scripts/tableOwners.test.ts).
import type Database from 'better-sqlite3';

/** An attachment row as stored: its key and metadata sealed with the record's data key. */
export interface SealedAttachment {
  id: string;
  recordId: string;
  /** ms since the epoch */
  createdAt: number;
  wrappedKey: Buffer;
  meta: Buffer;
}

const COLUMNS = 'id, record_id AS recordId, created_at AS createdAt, wrapped_key AS wrappedKey, meta';

/** Reads and writes of the attachment table on one connection; statements prepared on first use. */
export class AttachmentRows {
  readonly #sql: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(sql: Database.Database) {
    this.#sql = sql;
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, (s = this.#sql.prepare(sql)));
    return s;
  }

  /** The sealed row of an attachment, if there is one. */
  get(id: string): SealedAttachment | undefined {
    return this.#stmt(`SELECT ${COLUMNS} FROM attachment WHERE id = ?`).get(id) as SealedAttachment | undefined;
  }

  has(id: string): boolean {
    return this.#stmt('SELECT 1 FROM attachment WHERE id = ?').get(id) !== undefined;
  }

  /** The record an attachment belongs to, if the attachment exists. */
  recordOf(id: string): string | undefined {
    return this.#stmt('SELECT record_id FROM attachment WHERE id = ?').pluck().get(id) as string | undefined;
  }

  /** A record's attachments, oldest first. */
  rowsOf(recordId: string): SealedAttachment[] {
    return this.#stmt(`SELECT ${COLUMNS} FROM attachment WHERE record_id = ? ORDER BY created_at, id`).all(recordId) as SealedAttachment[];
  }

  /** The ids of a record's attachments. */
  idsOf(recordId: string): string[] {
    return this.#stmt('SELECT id FROM attachment WHERE record_id = ?').pluck().all(recordId) as string[];
  }

  /** The ids of every attachment in the vault, in id order. */
  allIds(): string[] {
    return this.#stmt('SELECT id FROM attachment ORDER BY id').pluck().all() as string[];
  }

  /** Stores a row pulled from another device, unless one with its id is here; whether it was stored. */
  insertPulled(a: SealedAttachment): boolean {
    return this.#stmt('INSERT OR IGNORE INTO attachment (id, record_id, created_at, wrapped_key, meta) VALUES (?, ?, ?, ?, ?)').run(a.id, a.recordId, a.createdAt, a.wrappedKey, a.meta).changes > 0;
  }
}
