// A report's PDF: the document model (cover, summary, records, entries) from the same entries
// the other files hold, then rendered and signed in one pass.
import { join } from 'node:path';
import type { StoredCheckpoint } from '../audit/checkpoints.ts';
import type { RetentionRun } from '../audit/retention.ts';
import { resourcesDir } from '../util/resources.ts';
import type { Vault } from '../vault/vault.ts';
import type { IncludedEntry } from './entries.ts';
import { certificateFingerprint, subjectName, type SigningIdentity } from './pdf/certificate.ts';
import type { ReportDocument, ReportEntry, ReportRecord } from './pdf/model.ts';
import { summariseEntries } from './pdf/summary.ts';
import { describeScope, type RecordsInScope, type ReportScope } from './scope.ts';

export interface DocumentInputs {
  scope: ReportScope;
  purpose: string;
  recipient?: string;
  records: RecordsInScope;
  included: readonly IncludedEntry[];
  prunedBy: ReadonlyMap<number, RetentionRun>;
  cp: StoredCheckpoint;
  identity: SigningIdentity;
  generatedAt: Date;
}

/** The PDF's model of the report. */
export function reportDocument(vault: Vault, d: DocumentInputs): ReportDocument {
  const entries = reportEntries(d.included, d.prunedBy);
  const records = reportRecords(d.records, entries);
  const { scope } = d;
  return {
    cover: {
      vaultId: vault.vaultId,
      vaultName: `Custody vault ${vault.vaultId.slice(0, 8)}`,
      analystName: vault.meta.actor,
      deviceId: vault.meta.deviceId,
      scope: describeScope(scope, d.records.chosen.length),
      ...(scope.from || scope.to ? { timeRange: { from: scope.from ?? entries.find((e) => !e.pruned)?.time ?? '', to: scope.to ?? d.generatedAt.toISOString() } } : {}),
      purpose: d.purpose,
      recipient: d.recipient ?? '',
      generatedAt: d.generatedAt.toISOString(),
      checkpoint: d.cp.note,
      signer: { subject: subjectName(d.identity.certificate), certificateSha256: certificateFingerprint(d.identity.certificate) },
    },
    summary: summariseEntries(entries, records),
    records,
    entries,
  };
}

/** The PDF's entry table: a pruned entry by its leaf hash and the run that removed its body. */
function reportEntries(included: readonly IncludedEntry[], prunedBy: ReadonlyMap<number, RetentionRun>): ReportEntry[] {
  return included.map(({ row, entry }) =>
    row.entry === null
      ? { seq: row.seq, time: '', event: 'pruned', actor: '', success: true, target: row.target, leafHash: row.leafHash.toString('hex'), pruned: { retentionSeq: prunedBy.get(row.seq)!.seq } }
      : { seq: row.seq, time: entry.time, event: entry.event, actor: entry.actor, success: entry.success, target: entry.target, leafHash: row.leafHash.toString('hex') },
  );
}

/** Each chosen record with its versions, attachments and the entries about it or them. */
function reportRecords(r: RecordsInScope, entries: readonly ReportEntry[]): ReportRecord[] {
  const byTarget = new Map<string, ReportEntry[]>();
  for (const e of entries) {
    if (!e.target) continue;
    const list = byTarget.get(e.target);
    if (list) list.push(e);
    else byTarget.set(e.target, [e]);
  }
  return r.chosen.map(({ summary, row }) => {
    const atts = r.attachmentsOf.get(summary.id) ?? [];
    return {
      id: summary.id,
      title: summary.title,
      case: summary.case,
      classification: summary.classification,
      kind: summary.kind,
      capturedAt: summary.capturedAt,
      versions: [...r.versions.filter((v) => v.recordId === summary.id).map((v) => ({ version: v.version, time: v.savedAt.toISOString() })), { version: row.version, time: row.updatedAt.toISOString() }].sort((a, b) => a.version - b.version),
      attachments: atts,
      entries: (r.targetsOf.get(summary.id) ?? []).flatMap((t) => byTarget.get(t) ?? []).sort((a, b) => a.seq - b.seq),
    };
  });
}

/** report.pdf: rendered and signed in one pass (signing a finished PDF would rewrite the whole file). */
export async function renderSignedPdf(vault: Vault, doc: ReportDocument, identity: SigningIdentity, o: { purpose: string; fontsDir?: string; signingTime: Date }): Promise<Uint8Array> {
  // Loaded on the first export, not at start-up: importing pdf-lib and fontkit (which unpacks
  // its tables on import) takes a few hundred ms that every launch would otherwise pay.
  const { renderSignedReportPdf } = await import('./pdf/sign.ts');
  return renderSignedReportPdf(doc, identity, { reason: `Chain-of-custody report: ${o.purpose}`.slice(0, 200), name: vault.meta.actor, signingTime: o.signingTime }, { fontsDir: o.fontsDir ?? join(resourcesDir(), 'fonts') });
}
