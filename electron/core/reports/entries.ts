// A report's second step: the audit entries it includes, all under the checkpoint it is anchored
// to. Entries about a chosen record or its attachments; vault-level entries (unlocks, settings,
// …) in the time range, or in the span of the records' entries; and, for every entry whose
// body retention removed, the signed retention run that removed it.
import type { AuditEntry } from '../../shared/audit.ts';
import type { StoredEntry } from '../audit/reads.ts';
import { retentionRunsFor, type RetentionRun } from '../audit/retention.ts';
import type { Vault } from '../vault/vault.ts';
import { isRecordScoped, timeBounds, type RecordsInScope, type ReportScope } from './scope.ts';

export interface IncludedEntry {
  row: StoredEntry;
  /** The parsed body; for a pruned entry, only the seq, time and target it keeps. */
  entry: AuditEntry;
}

export interface EntriesInScope {
  /** In log order. */
  included: IncludedEntry[];
  /** Per pruned entry's seq: the retention run that removed its body (itself included). */
  prunedBy: Map<number, RetentionRun>;
}

const RECORD_TARGET = /^(record|attachment):/;

/** The entries before `size` that a report of `scope` (with `records` chosen) includes. */
export function entriesInScope(vault: Vault, size: number, scope: ReportScope, records: Pick<RecordsInScope, 'targets'>): EntriesInScope {
  const all = vault.audit.entriesBelow(size);
  const recordScoped = isRecordScoped(scope);
  const included: IncludedEntry[] = [];
  const vaultLevel: IncludedEntry[] = [];
  for (const row of all) {
    // An entry whose body retention removed is placed by the time and target it keeps, and
    // listed as pruned: a report never drops an entry in its scope silently.
    const entry = row.entry === null ? ({ seq: row.seq, time: new Date(row.time).toISOString(), target: row.target, details: {} } as unknown as AuditEntry) : (JSON.parse(row.entry) as AuditEntry);
    if (entry.target && RECORD_TARGET.test(entry.target)) {
      if (!recordScoped || records.targets.has(entry.target)) included.push({ row, entry });
    } else vaultLevel.push({ row, entry });
  }
  // Vault-level events: those in the time range, or (no range) in the span of the records' entries.
  const { from, to } = timeBounds(scope);
  const times = included.map((x) => Date.parse(x.entry.time));
  const lo = scope.from ? from : recordScoped && times.length ? Math.min(...times) : -Infinity;
  const hi = scope.to ? to : Infinity;
  for (const v of vaultLevel) {
    const t = Date.parse(v.entry.time);
    // A device key handover is always shown: it is how a reader holding an older verifier key
    // learns, signed by that key, which key signs this report (keys/deviceKeyRotation.ts).
    if ((t >= lo && t <= hi) || isHandover(v.entry)) included.push(v);
  }
  // Each pruned entry names the signed retention run that removed its body; that run's entry
  // is part of the report too, so a reader can check the claim.
  const prunedBy = retentionRunsFor(vault.db.sql, included.filter((x) => x.row.entry === null).map((x) => ({ seq: x.row.seq, timeMs: x.row.time })), size);
  const have = new Set(included.map((x) => x.row.seq));
  for (const run of new Set([...prunedBy.values()].map((r) => r.seq))) {
    if (have.has(run)) continue;
    const row = vault.audit.entryAt(run)!;
    included.push({ row, entry: JSON.parse(row.entry!) as AuditEntry });
  }
  included.sort((a, b) => a.row.seq - b.row.seq);
  return { included, prunedBy };
}

const isHandover = (e: AuditEntry) => e.event === 'key.rotated' && e.details?.kind === 'device_signing' && typeof e.details.handover === 'string';
