// Retention: entry bodies older than the policy are removed, their leaf hashes kept, so the
// tree and every old checkpoint still verify; the run is itself an audit entry, in the same
// transaction. A body may be missing only where a signed retention run says it removed it.
//
// A run removes the bodies of the oldest entries in log order, up to the first entry newer than
// the cutoff, and records both the cutoff and that sequence number (`prunedBelowSeq`): the
// sequence number is what the signed log authenticates (a pruned row's time column is no longer
// covered by any hash), so it is what verification checks.
import type Database from 'better-sqlite3';
import { CustodyError } from '../../shared/errors.ts';
import type { AuditEntry } from '../../shared/audit.ts';
import type { Vault } from '../vault/vault.ts';
import { setMetaValue } from '../vault/meta.ts';
import { leafHashOfText } from './tlog/hash.ts';
import type { Problem } from './verifyLog.ts';

export interface PruneResult {
  /** Bodies removed by this run. */
  pruned: number;
  /** ISO 8601: entries whose time is before this were due. */
  cutoff: string;
  /** After the run, no entry before this sequence number has a body. */
  prunedBelowSeq: number;
  /** The run's own audit entry. */
  retentionSeq: number;
}

export async function pruneAuditBodies(vault: Vault, opts: { olderThanDays?: number; now?: Date } = {}): Promise<PruneResult> {
  vault.keys();
  const days = opts.olderThanDays ?? vault.meta.retentionDays;
  if (!Number.isInteger(days) || days < 1) throw new CustodyError('BAD_REQUEST', 'retention must be a whole number of days, at least 1');
  const now = opts.now ?? new Date();
  const cutoffMs = now.getTime() - days * 86_400_000;
  const cutoff = new Date(cutoffMs).toISOString();
  // Never prune a log that does not verify: removing bodies would destroy the evidence of
  // whatever was changed (e.g. a time column made to look old so the entry gets pruned).
  const check = await vault.verifyAudit();
  if (!check.ok) throw new CustodyError('TAMPERED', `the audit log does not verify (${check.problems[0]?.message ?? 'see custody audit verify'}); retention will not remove anything until it is examined`);
  const sql = vault.db.sql;
  const result = await vault.db.writeSync((): PruneResult => {
    const first = (sql.prepare('SELECT seq FROM audit_entry WHERE entry IS NOT NULL ORDER BY seq LIMIT 1').get() as { seq: number } | undefined)?.seq ?? vault.audit.size();
    // The due prefix, by each entry's own (hashed) time; each body is checked against its leaf
    // hash first, so nothing is removed that differs from what was signed.
    let below = first;
    const rows = sql.prepare('SELECT seq, entry, leaf_hash FROM audit_entry WHERE seq >= ? ORDER BY seq').iterate(first) as IterableIterator<{ seq: number; entry: string | null; leaf_hash: Buffer }>;
    for (const row of rows) {
      if (row.entry !== null) {
        if (!leafHashOfText(row.entry).equals(row.leaf_hash)) throw new CustodyError('TAMPERED', `audit entry ${row.seq} does not match its hash; retention stopped`);
        if (Date.parse((JSON.parse(row.entry) as AuditEntry).time) >= cutoffMs) break;
      }
      below = row.seq + 1;
    }
    // Event and time stay (statistics count them) and so does the target, an id (a report on a
    // record lists its pruned entries); who and the details go with the body.
    const pruned = sql.prepare("UPDATE audit_entry SET entry = NULL, actor = '', pruned_at = ? WHERE seq >= ? AND seq < ? AND entry IS NOT NULL").run(now.getTime(), first, below).changes;
    const [entry] = vault.audit.appendSync(vault.meta, [{ event: 'retention.run', details: { pruned, cutoff, prunedBelowSeq: below, policyDays: days } }], now);
    return { pruned, cutoff, prunedBelowSeq: below, retentionSeq: entry!.seq };
  });
  // The run covers the removed bodies only once it is under a signed checkpoint.
  await vault.checkpointNow('batch');
  // secure_delete zeroes the pages in custody.db, but the WAL still holds copies of the old
  // pages until it is checkpointed: fold it in and truncate it so the bodies leave the disk now.
  vault.db.sql.pragma('wal_checkpoint(TRUNCATE)');
  return result;
}

/** Sets how long entry bodies are kept (days); the change is itself audited. */
export async function setRetentionPolicy(vault: Vault, days: number): Promise<void> {
  vault.keys();
  if (!Number.isInteger(days) || days < 1 || days > 100 * 365) throw new CustodyError('BAD_REQUEST', 'retention must be a whole number of days between 1 and 36500');
  const before = vault.meta.retentionDays;
  await vault.db.writeSync(() => {
    setMetaValue(vault.db.sql, 'retentionDays', String(days));
    vault.audit.appendSync(vault.meta, [{ event: 'settings.changed', details: { changed: ['retentionDays'], retentionDays: days, previous: before } }]);
  });
  vault.setMeta({ retentionDays: days });
}

/** A retention run as its own (intact) audit entry states it. */
export interface RetentionRun {
  seq: number;
  cutoff: string;
  cutoffMs: number;
  /**
   * Every entry before this one has no body after the run. Absent in runs logged before it was
   * recorded: those cover an entry before the run whose time column is before the cutoff.
   */
  prunedBelowSeq?: number;
}

/**
 * The retention runs whose entry is intact (its body matches its leaf hash) and well-formed,
 * split by whether a checkpoint that verified covers them (`signedSize`: the size of the largest
 * validly signed checkpoint whose root matched the log).
 */
export function retentionRuns(db: Database.Database, signedSize: number): { signed: RetentionRun[]; unsigned: RetentionRun[] } {
  const signed: RetentionRun[] = [];
  const unsigned: RetentionRun[] = [];
  const rows = db.prepare("SELECT seq, entry, leaf_hash FROM audit_entry WHERE event = 'retention.run' AND entry IS NOT NULL ORDER BY seq").all() as { seq: number; entry: string; leaf_hash: Buffer }[];
  for (const row of rows) {
    if (!leafHashOfText(row.entry).equals(row.leaf_hash)) continue;
    const run = parseRetentionRun(row.entry);
    if (!run || run.seq !== row.seq) continue;
    (run.seq < signedSize ? signed : unsigned).push(run);
  }
  return { signed, unsigned };
}

/** A retention.run entry's claim, or undefined when the text is not one. */
export function parseRetentionRun(text: string): RetentionRun | undefined {
  let e: Partial<AuditEntry>;
  try {
    e = JSON.parse(text) as Partial<AuditEntry>;
  } catch {
    return undefined;
  }
  if (e.event !== 'retention.run' || !Number.isSafeInteger(e.seq) || typeof e.details !== 'object' || e.details === null) return undefined;
  const seq = e.seq!;
  // `before` is the cutoff's name in runs logged by earlier versions.
  const cutoff = e.details.cutoff ?? e.details.before;
  const cutoffMs = typeof cutoff === 'string' ? Date.parse(cutoff) : Number.NaN;
  if (Number.isNaN(cutoffMs)) return undefined;
  const below = e.details.prunedBelowSeq;
  if (below !== undefined && !(Number.isSafeInteger(below) && (below as number) >= 0 && (below as number) <= seq)) return undefined;
  return { seq, cutoff: cutoff as string, cutoffMs, ...(below !== undefined ? { prunedBelowSeq: below as number } : {}) };
}

/** Whether `run` covers the entry at `seq` (time column `timeMs`, needed for older runs only). */
export function runCovers(run: RetentionRun, seq: number, timeMs: number): boolean {
  if (seq >= run.seq) return false;
  return run.prunedBelowSeq !== undefined ? seq < run.prunedBelowSeq : timeMs < run.cutoffMs;
}

/** Sequence numbers as sorted [first, last] runs: pruned entries come in long runs. */
export class SeqRuns {
  readonly runs: [number, number][] = [];
  add(seq: number): void {
    const last = this.runs[this.runs.length - 1];
    if (last && last[1] === seq - 1) last[1] = seq;
    else this.runs.push([seq, seq]);
  }
}

/**
 * The entries without a body that no signed retention run covers, as verification problems
 * naming each sequence number (at most `limit`).
 */
export function uncoveredPrunedEntries(db: Database.Database, missing: SeqRuns, signedSize: number, limit = 1000): Problem[] {
  if (missing.runs.length === 0) return [];
  const { signed, unsigned } = retentionRuns(db, signedSize);
  // Runs that name prunedBelowSeq cover a prefix of the log; together, the longest one.
  let prefix = 0;
  for (const r of signed) if (r.prunedBelowSeq !== undefined) prefix = Math.max(prefix, r.prunedBelowSeq);
  const older = signed.filter((r) => r.prunedBelowSeq === undefined);
  const timeOf = db.prepare('SELECT time FROM audit_entry WHERE seq = ?').pluck() as Database.Statement<[number], number>;
  const problems: Problem[] = [];
  const newest = signed[signed.length - 1];
  for (const [a, b] of missing.runs) {
    for (let seq = Math.max(a, prefix); seq <= b; seq++) {
      if (older.length > 0) {
        const t = timeOf.get(seq) ?? Number.POSITIVE_INFINITY;
        if (older.some((r) => runCovers(r, seq, t))) continue;
      }
      const pending = unsigned.find((r) => runCovers(r, seq, timeOf.get(seq) ?? Number.POSITIVE_INFINITY));
      const why = pending
        ? `the retention run that claims it (entry ${pending.seq}) is not under a signed checkpoint`
        : newest
          ? `no signed retention run covers it (the newest, entry ${newest.seq}, removed only bodies${newest.prunedBelowSeq !== undefined ? ` before entry ${newest.prunedBelowSeq},` : ''} older than ${newest.cutoff})`
          : 'no signed retention run covers it';
      problems.push({ kind: 'body-deleted', seq, message: `the body of entry ${seq} was removed, but ${why}` });
      if (problems.length >= limit) return problems;
    }
  }
  return problems;
}

/**
 * For a report: the signed retention run that removed each given entry's body (the earliest
 * intact run covering it). Throws TAMPERED naming an entry no run covers.
 */
export function retentionRunsFor(db: Database.Database, entries: readonly { seq: number; timeMs: number }[], signedSize: number): Map<number, RetentionRun> {
  const out = new Map<number, RetentionRun>();
  if (entries.length === 0) return out;
  const { signed } = retentionRuns(db, signedSize);
  for (const e of entries) {
    const run = signed.find((r) => runCovers(r, e.seq, e.timeMs));
    if (!run) throw new CustodyError('TAMPERED', `the body of audit entry ${e.seq} is missing and no signed retention run covers it; run "custody audit verify"`);
    out.set(e.seq, run);
  }
  return out;
}
