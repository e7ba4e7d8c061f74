// The audit log: appends entries in the caller's transaction, and answers queries.
// Appends use prepared statements on the shared connection (the hot path: every operation
// writes one, imports write thousands); queries use Prisma. The typed reads other modules use
// (reports, sync, settings) are inherited from AuditReads (reads.ts).
import type Database from 'better-sqlite3';
import { CustodyError } from '../../shared/errors.ts';
import type { AuditEntry, AuditQuery, AuditRow, AuditStats } from '../../shared/audit.ts';
import { AuditQuerySchema } from '../../shared/audit.ts';
import { parseRequest } from '../../shared/parseRequest.ts';
import type { VaultDb } from '../db/database.ts';
import { canonicalEntry, type AuditInput } from './entry.ts';
import { AuditReads } from './reads.ts';
import { SqliteSubtreeStore } from './subtreeStore.ts';
import { leafHash } from './tlog/hash.ts';
import { MerkleTree } from './tlog/tree.ts';
import { withRegistryState } from './registryState.ts';

export interface AuditContext {
  deviceId: string;
  actor: string;
}

/**
 * Entries the log owes before anything else is appended (a settled search: searchAudit.ts).
 * They go first, in the transaction of the next append; if it rolls back they are handed back.
 */
export interface OwedEntries {
  take(): AuditInput[];
  settled(entries: AuditInput[], committed: boolean): void;
  /** Hands over for good what is still owed (a lock that could not write keeps it elsewhere). */
  drain(): AuditInput[];
}

export class AuditLog extends AuditReads {
  readonly #db: VaultDb;
  #owed: OwedEntries | null = null;
  readonly #store: SqliteSubtreeStore;
  readonly #insert: Database.Statement;

  constructor(db: VaultDb) {
    super(db.sql);
    this.#db = db;
    this.#store = new SqliteSubtreeStore(db.sql);
    this.#insert = db.sql.prepare(
      'INSERT INTO audit_entry (seq, time, event, actor, target, success, entry, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /** Where owed entries come from (one source: the search audit of the open Custody). */
  owe(source: OwedEntries | null): void {
    this.#owed = source;
  }

  /** What the owed source still owes, handed over for good (OwedEntries.drain). */
  drainOwed(): AuditInput[] {
    return this.#owed?.drain() ?? [];
  }

  /** The tree as committed (or as written so far by the open transaction). */
  tree(): MerkleTree {
    try {
      return new MerkleTree(this.#store, this.size());
    } catch (e) {
      throw new CustodyError('TAMPERED', `the audit log is damaged (${(e as Error).message}); nothing more can be logged until it is examined with "custody audit verify"`);
    }
  }

  /**
   * Appends entries. Must run inside a transaction (VaultDb.write or writeSync), so an entry
   * commits or rolls back with the change it records. Owed entries go first (so the log keeps
   * the order things happened in); only the entries for `inputs` are returned.
   */
  appendSync(ctx: AuditContext, inputs: readonly AuditInput[], now = new Date()): AuditEntry[] {
    if (!this.#db.sql.inTransaction) throw new Error('audit appends must run inside the transaction of the change they record');
    const tree = this.tree();
    const time = now.toISOString();
    const ms = now.getTime();
    const source = this.#owed;
    const owed = source?.take() ?? [];
    if (owed.length) this.#db.afterTransaction((committed) => source!.settled(owed, committed));
    // A key.* entry commits the key registry's state with it (audit/registryState.ts).
    const all = withRegistryState(this.#db.sql, owed.length ? [...owed, ...inputs] : inputs);
    return all.map((input) => {
      const entry: AuditEntry = {
        v: 1,
        seq: tree.size,
        time,
        device: ctx.deviceId,
        actor: input.actor ?? ctx.actor,
        event: input.event,
        target: input.target ?? null,
        success: input.success ?? true,
        ...(input.range ? { range: input.range } : {}),
        details: input.details ?? {},
      };
      const json = canonicalEntry(entry);
      const leaf = leafHash(Buffer.from(json, 'utf8'));
      this.#insert.run(entry.seq, ms, entry.event, entry.actor, entry.target, entry.success ? 1 : 0, json, leaf);
      tree.append(leaf);
      return entry;
    }).slice(owed.length);
  }

  async query(q: AuditQuery = {}): Promise<AuditRow[]> {
    const p = parseRequest(AuditQuerySchema, q);
    const rows = await this.#db.prisma.auditEntry.findMany({
      where: {
        ...(p.from || p.to ? { time: { ...(p.from ? { gte: new Date(p.from) } : {}), ...(p.to ? { lte: new Date(p.to) } : {}) } } : {}),
        ...(p.event ? { event: p.event.endsWith('.') ? { startsWith: p.event } : p.event } : {}),
        ...(p.actor ? { actor: p.actor } : {}),
        ...(p.target ? { target: p.target } : {}),
        ...(p.success !== undefined ? { success: p.success } : {}),
        ...(p.before !== undefined ? { seq: { lt: p.before } } : {}),
      },
      orderBy: { seq: p.order },
      take: p.limit,
    });
    return rows.map((r) => ({
      seq: r.seq,
      time: r.time.toISOString(),
      event: r.event,
      actor: r.actor,
      target: r.target,
      success: r.success,
      pruned: r.prunedAt !== null,
      entry: r.entry === null ? null : (JSON.parse(r.entry) as AuditEntry),
      leafHash: Buffer.from(r.leafHash).toString('hex'),
    }));
  }

  stats(range: { from?: string; to?: string } = {}): AuditStats {
    const from = range.from ? Date.parse(range.from) : 0;
    const to = range.to ? Date.parse(range.to) : Number.MAX_SAFE_INTEGER;
    const rows = this.#db.sql
      .prepare(
        `SELECT strftime('%Y-%m-%d', time / 1000, 'unixepoch') AS day, event, count(*) AS n, sum(success) AS ok,
                sum(pruned_at IS NOT NULL) AS pruned
         FROM audit_entry WHERE time BETWEEN ? AND ? GROUP BY day, event ORDER BY day`,
      )
      .all(from, to) as { day: string; event: string; n: number; ok: number; pruned: number }[];
    const byEvent: Record<string, number> = {};
    const days = new Map<string, AuditStats['byDay'][number]>();
    let total = 0;
    let ok = 0;
    let pruned = 0;
    for (const r of rows) {
      total += r.n;
      ok += r.ok;
      pruned += r.pruned;
      byEvent[r.event] = (byEvent[r.event] ?? 0) + r.n;
      const d = days.get(r.day) ?? { day: r.day, total: 0, byEvent: {} };
      d.total += r.n;
      d.byEvent[r.event] = r.n;
      days.set(r.day, d);
    }
    return { total, pruned, successRate: total === 0 ? 1 : ok / total, byEvent, byDay: [...days.values()] };
  }

  failures(limit = 20): Promise<AuditRow[]> {
    return this.query({ success: false, limit });
  }
}
