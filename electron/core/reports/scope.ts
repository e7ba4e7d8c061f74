// A report's first step: which records it covers (by case, ids and captured-at range), what the
// PDF says about each (decrypted here, in core), and the audit targets that concern them.
import { CustodyError } from '../../shared/errors.ts';
import type { RecordSummary } from '../../shared/records.ts';
import { AttachmentRows } from '../attachments/rows.ts';
import { target } from '../audit/entry.ts';
import type { Custody } from '../custody.ts';
import type { Record as RecordRow } from '../db/generated/client.ts';
import type { ReportRecord } from './pdf/model.ts';

/** What a report covers; no field set means every record and the whole log. */
export interface ReportScope {
  case?: string;
  recordIds?: string[];
  /** Captured-at range of the records, and time range of the vault-level events. */
  from?: string;
  to?: string;
}

export interface RecordsInScope {
  /** In captured-at order. */
  chosen: { summary: RecordSummary; row: RecordRow }[];
  /** Every audit target that concerns a chosen record: the record and its attachments. */
  targets: Set<string>;
  /** Per record id: its own targets. */
  targetsOf: Map<string, string[]>;
  attachmentsOf: Map<string, ReportRecord['attachments']>;
  /** The chosen records' earlier versions. */
  versions: { recordId: string; version: number; savedAt: Date }[];
}

/** A scope that names records or a range: only their entries, and the vault's in that span. */
export function isRecordScoped(s: ReportScope): boolean {
  return s.case !== undefined || s.recordIds !== undefined || s.from !== undefined || s.to !== undefined;
}

/** The scope's bounds in epoch milliseconds (open ends are infinite). */
export function timeBounds(s: ReportScope): { from: number; to: number } {
  return { from: s.from ? Date.parse(s.from) : -Infinity, to: s.to ? Date.parse(s.to) : Infinity };
}

export async function recordsInScope(custody: Custody, s: ReportScope): Promise<RecordsInScope> {
  const vault = custody.vault;
  const { from, to } = timeBounds(s);
  const rows = s.recordIds
    ? (await inChunks([...new Set(s.recordIds)], (ids) => vault.db.prisma.record.findMany({ where: { id: { in: ids } } }))).sort((a, b) => a.capturedAt.getTime() - b.capturedAt.getTime())
    : await vault.db.prisma.record.findMany({ orderBy: { capturedAt: 'asc' } });
  if (s.recordIds && rows.length !== new Set(s.recordIds).size) throw new CustodyError('NOT_FOUND', 'some of the records asked for do not exist');
  const chosen: RecordsInScope['chosen'] = [];
  for (const row of rows) {
    const summary = custody.records.decryptSummary(row);
    if (s.case !== undefined && summary.case.toLowerCase() !== s.case.toLowerCase()) continue;
    const t = row.capturedAt.getTime();
    if (t < from || t > to) continue;
    chosen.push({ summary, row });
  }
  const targets = new Set<string>();
  const attachmentsOf = new Map<string, ReportRecord['attachments']>();
  const targetsOf = new Map<string, string[]>();
  // Most records have no attachment: a quick look at the table first spares them a Prisma query each.
  const attachmentRows = new AttachmentRows(vault.db.sql);
  for (const { summary } of chosen) {
    const atts = attachmentRows.idsOf(summary.id).length > 0 ? await custody.attachments.list(summary.id) : [];
    attachmentsOf.set(summary.id, atts.map((a) => ({ name: a.name, size: a.size, sha256: a.sha256 })));
    const mine = [target.record(summary.id), ...atts.map((a) => target.attachment(a.id))];
    targetsOf.set(summary.id, mine);
    for (const t of mine) targets.add(t);
  }
  const versions = await inChunks(
    chosen.map((c) => c.summary.id),
    (ids) => vault.db.prisma.recordVersion.findMany({ where: { recordId: { in: ids } }, select: { recordId: true, version: true, savedAt: true } }),
  );
  return { chosen, targets, targetsOf, attachmentsOf, versions };
}

/** The scope in words, for the PDF's cover. */
export function describeScope(s: ReportScope, records: number): string {
  const parts = [s.case !== undefined ? `case "${s.case}"` : s.recordIds ? 'chosen records' : 'all records'];
  if (s.from || s.to) parts.push(`captured ${s.from ?? '…'} to ${s.to ?? '…'}`);
  return `${parts.join(', ')} (${records} record${records === 1 ? '' : 's'})`;
}

/** SQLite caps bound parameters; large id lists go in slices. */
async function inChunks<T>(ids: string[], query: (ids: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 500) out.push(...(await query(ids.slice(i, i + 500))));
  return out;
}
