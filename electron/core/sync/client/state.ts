// Local sync bookkeeping (tables of 0002_sync), read and written with prepared statements on
// the vault's connection. Writers must run inside VaultDb.writeSync: the connection is shared
// with Prisma's interactive transactions, and only the write lock keeps them apart. The
// server URL is kept in meta, sealed with the vault key.
import type Database from 'better-sqlite3';
import { CustodyError } from '../../../shared/errors.ts';
import { ad, open, seal } from '../../crypto/aead.ts';
import type { Vault } from '../../vault/vault.ts';
import { metaValue } from '../../vault/meta.ts';

export const SYNC_URL_KEY = 'sync_url';
export const urlAd = (vaultId: string) => ad('sync-url', vaultId);

/** Keys of sync_state. */
export type StateKey =
  | 'server_vault' // the vault id registered on the server
  | 'cursor_records' // last change number applied, per stream
  | 'cursor_attachments'
  | 'audit_pushed' // next local audit seq to push
  | 'checkpoint_pushed' // largest local checkpoint size pushed
  | 'last_sync_at'
  | 'last_error'
  | 'applying'; // set only inside a pull's transaction: the outbox triggers stand aside

export interface Shadow {
  version: number;
  deleted: boolean;
}

export interface OutboxTarget {
  kind: 'record' | 'purge' | 'attachment';
  targetId: string;
  /** Highest outbox row id for this target when it was read. */
  upTo: number;
  attempts: number;
}

export class SyncState {
  readonly #get: Database.Statement<[string], { value: string }>;
  readonly #set: Database.Statement<[string, string]>;
  readonly #del: Database.Statement<[string]>;

  constructor(private readonly vault: Vault) {
    const sql = vault.db.sql;
    this.#get = sql.prepare('SELECT value FROM sync_state WHERE key = ?');
    this.#set = sql.prepare('INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.#del = sql.prepare('DELETE FROM sync_state WHERE key = ?');
  }

  get sql(): Database.Database {
    return this.vault.db.sql;
  }

  get(key: StateKey): string | undefined {
    return this.#get.get(key)?.value;
  }

  num(key: StateKey): number {
    return Number(this.get(key) ?? 0);
  }

  set(key: StateKey, value: string | number | null): void {
    if (value === null) this.#del.run(key);
    else this.#set.run(key, String(value));
  }

  // ---- the server URL, sealed with the vault key ---------------------------------------------

  get configured(): boolean {
    return metaValue(this.sql, SYNC_URL_KEY) !== undefined;
  }

  /** The URL in clear: needs the vault unlocked. */
  url(): string {
    const value = metaValue(this.sql, SYNC_URL_KEY);
    if (value === undefined) throw new CustodyError('BAD_REQUEST', 'sync is not configured; run "custody sync configure --url ..." or "custody sync join"');
    return open(this.vault.keys().vaultKey, Buffer.from(value, 'base64'), urlAd(this.vault.vaultId), 'the sync server address').toString('utf8');
  }

  sealUrl(url: string): string {
    return seal(this.vault.keys().vaultKey, Buffer.from(url, 'utf8'), urlAd(this.vault.vaultId)).toString('base64');
  }

  // ---- outbox --------------------------------------------------------------------------------

  /** Distinct targets waiting to be pushed. */
  pendingCount(): number {
    return (this.sql.prepare('SELECT count(*) AS n FROM (SELECT DISTINCT kind, target_id FROM sync_outbox)').get() as { n: number }).n;
  }

  /** Queued targets of these kinds, in the order of their first change. */
  targets(kinds: readonly OutboxTarget['kind'][]): OutboxTarget[] {
    return this.sql
      .prepare(
        `SELECT kind, target_id AS targetId, max(id) AS upTo, max(attempts) AS attempts FROM sync_outbox
         WHERE kind IN (${kinds.map(() => '?').join(', ')}) GROUP BY kind, target_id ORDER BY min(id)`,
      )
      .all(...kinds) as OutboxTarget[];
  }

  /** Removes a target's rows up to the ones read (a change made meanwhile stays queued). */
  done(targets: readonly OutboxTarget[]): void {
    const del = this.sql.prepare('DELETE FROM sync_outbox WHERE kind = ? AND target_id = ? AND id <= ?');
    for (const t of targets) del.run(t.kind, t.targetId, t.upTo);
  }

  /** Counts a failed attempt on every queued row, with when to try next and why it failed. */
  failed(nextAttemptAt: number, error: string): void {
    this.sql.prepare('UPDATE sync_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?').run(nextAttemptAt, error.slice(0, 500));
  }

  /** Queues a change from sync's own code (pull writes bypass the triggers). */
  enqueue(kind: OutboxTarget['kind'], targetId: string): void {
    this.sql.prepare('INSERT INTO sync_outbox (kind, target_id, created_at) VALUES (?, ?, ?)').run(kind, targetId, Date.now());
  }

  hasPending(kind: OutboxTarget['kind'], targetId: string): boolean {
    return this.sql.prepare('SELECT 1 FROM sync_outbox WHERE kind = ? AND target_id = ? LIMIT 1').get(kind, targetId) !== undefined;
  }

  // ---- what the server has --------------------------------------------------------------------

  shadow(recordId: string): Shadow | undefined {
    const row = this.sql.prepare('SELECT version, deleted FROM sync_record WHERE record_id = ?').get(recordId) as { version: number; deleted: number } | undefined;
    return row ? { version: row.version, deleted: row.deleted === 1 } : undefined;
  }

  setShadow(recordId: string, s: Shadow | null): void {
    if (s === null) this.sql.prepare('DELETE FROM sync_record WHERE record_id = ?').run(recordId);
    else
      this.sql
        .prepare('INSERT INTO sync_record (record_id, version, deleted) VALUES (?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted')
        .run(recordId, s.version, s.deleted ? 1 : 0);
  }
}
