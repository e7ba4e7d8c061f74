// Signed audit reports (docs/architecture.md, "Signed reports"; docs/reports.md): one folder (or zip) that anyone can verify offline.
//   report.pdf                 human-readable, PAdES-signed with the vault's certificate
//   events.jsonl               the exact canonical bytes of every included entry, in log order; an entry
//                              whose body retention removed: its leaf hash and that run (prunedLine.ts)
//   inclusion-proofs.jsonl     {"seq", "tlogProof"}: a C2SP tlog-proof per entry against checkpoint.note
//   checkpoint.note            the signed checkpoint the report is anchored to
//   openings.jsonl             {"seq", "target", "key", "sha256"}: openings of the entries' hash commitments (openings.ts)
//   consistency-proof.txt      from an earlier checkpoint the reader holds (--since-checkpoint), with it as since-checkpoint.note
//   verifier.vkey              the device's signed-note verifier key
//   signing-certificate.pem    the certificate that signed report.pdf
//   manifest                   signed note: SHA-256 and path of every file above
import { mkdirSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { CustodyError } from '../../shared/errors.ts';
import type { AuditEntry } from '../../shared/audit.ts';
import type { RecordSummary } from '../../shared/records.ts';
import { target } from '../audit/entry.ts';
import { retentionRunsFor } from '../audit/retention.ts';
import { vkeyFingerprint } from '../audit/vkeyFingerprint.ts';
import { signNote } from '../audit/tlog/note.ts';
import { formatConsistencyProof, formatTlogProof } from '../audit/tlog/proof.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { uuidv7, UUID_RE } from '../util/ids.ts';
import type { Custody } from '../custody.ts';
import { MANIFEST_FILE, manifestText, sha256Hex } from './manifest.ts';
import { memoryTree } from './memoryTree.ts';
import { formatPrunedLine } from './prunedLine.ts';
import { collectOpenings, OPENINGS_FILE } from './openings.ts';
import type { ReportDocument, ReportEntry, ReportRecord } from './pdf/model.ts';
import { summariseEntries } from './pdf/summary.ts';
import { certificateFingerprint, subjectName } from './pdf/certificate.ts';
import { pdfSigningIdentity } from './signingIdentity.ts';
import { resourcesDir } from '../util/resources.ts';

export interface ReportOptions {
  outDir: string;
  purpose: string;
  recipient?: string;
  case?: string;
  recordIds?: string[];
  /** Captured-at range of the records, and time range of the vault-level events. */
  from?: string;
  to?: string;
  /** Write one zip (outDir + '.zip') instead of a folder. */
  zip?: boolean;
  /** Write nothing: return the zip's bytes (the browser shell downloads them; no temp file). outDir is ignored. */
  toMemory?: boolean;
  /** A signed checkpoint the reader already holds: the report adds a consistency proof from it. */
  sinceCheckpoint?: string;
  fontsDir?: string;
  onProgress?: (done: number, total: number, label: string) => void;
}

export interface ReportResult {
  path: string;
  reportId: string;
  records: number;
  entries: number;
  manifestSha256: string;
  checkpointSize: number;
  /** The zip, with toMemory. */
  data?: Uint8Array;
  /** The verifier key the report carries, and its fingerprint, for the analyst to hand to the recipient out of band. */
  vkey: string;
  vkeyFingerprint: string;
}

interface Row {
  seq: number;
  /** null once retention removed the body. */
  entry: string | null;
  leaf_hash: Buffer;
  time: number;
  target: string | null;
}

const RECORD_TARGET = /^(record|attachment):/;

export async function exportReport(custody: Custody, o: ReportOptions): Promise<ReportResult> {
  const vault = custody.vault;
  vault.keys();
  if (!o.purpose.trim()) throw new CustodyError('BAD_REQUEST', 'a report needs a purpose (--purpose)');
  if (o.recordIds?.some((id) => !UUID_RE.test(id))) throw new CustodyError('BAD_REQUEST', 'a record id in --records is malformed');
  const outPath = o.toMemory ? '' : o.zip ? `${o.outDir.replace(/\.zip$/, '')}.zip` : o.outDir;
  if (!o.toMemory && existsSync(outPath) && (o.zip || readdirSync(outPath).length > 0)) throw new CustodyError('CONFLICT', `${outPath} already exists and is not empty`);
  const steps = 5;
  const progress = (step: number, label: string) => o.onProgress?.(step, steps, label);

  // 1. The records in scope and what the PDF says about each (decrypted here, in core).
  progress(0, 'selecting records');
  const from = o.from ? Date.parse(o.from) : -Infinity;
  const to = o.to ? Date.parse(o.to) : Infinity;
  const rows = o.recordIds
    ? (await inChunks([...new Set(o.recordIds)], (ids) => vault.db.prisma.record.findMany({ where: { id: { in: ids } } }))).sort((a, b) => a.capturedAt.getTime() - b.capturedAt.getTime())
    : await vault.db.prisma.record.findMany({ orderBy: { capturedAt: 'asc' } });
  if (o.recordIds && rows.length !== new Set(o.recordIds).size) throw new CustodyError('NOT_FOUND', 'some of the records asked for do not exist');
  const chosen: { summary: RecordSummary; row: (typeof rows)[number] }[] = [];
  for (const row of rows) {
    const summary = custody.records.decryptSummary(row);
    if (o.case !== undefined && summary.case.toLowerCase() !== o.case.toLowerCase()) continue;
    const t = row.capturedAt.getTime();
    if (t < from || t > to) continue;
    chosen.push({ summary, row });
  }
  const targets = new Set<string>();
  const attachmentsOf = new Map<string, ReportRecord['attachments']>();
  /** Every audit target that concerns a record: itself and its attachments. */
  const targetsOf = new Map<string, string[]>();
  for (const { summary } of chosen) {
    const atts = await custody.attachments.list(summary.id);
    attachmentsOf.set(summary.id, atts.map((a) => ({ name: a.name, size: a.size, sha256: a.sha256 })));
    const mine = [target.record(summary.id), ...atts.map((a) => target.attachment(a.id))];
    targetsOf.set(summary.id, mine);
    for (const t of mine) targets.add(t);
  }
  const versions = await inChunks(
    chosen.map((c) => c.summary.id),
    (ids) => vault.db.prisma.recordVersion.findMany({ where: { recordId: { in: ids } }, select: { recordId: true, version: true, savedAt: true } }),
  );

  // 2. A fresh checkpoint; the entries in scope are those it covers.
  progress(1, 'signing a checkpoint');
  const cp = await vault.checkpointNow('report');
  const all = vault.db.sql.prepare('SELECT seq, entry, leaf_hash, time, target FROM audit_entry WHERE seq < ? ORDER BY seq').iterate(cp.size) as IterableIterator<Row>;
  const recordScoped = o.case !== undefined || o.recordIds !== undefined || o.from !== undefined || o.to !== undefined;
  const included: { row: Row; entry: AuditEntry }[] = [];
  const vaultLevel: { row: Row; entry: AuditEntry }[] = [];
  for (const row of all) {
    // An entry whose body retention removed is placed by the time and target it keeps, and
    // listed as pruned: a report never drops an entry in its scope silently.
    const entry = row.entry === null ? ({ seq: row.seq, time: new Date(row.time).toISOString(), target: row.target, details: {} } as unknown as AuditEntry) : (JSON.parse(row.entry) as AuditEntry);
    if (entry.target && RECORD_TARGET.test(entry.target)) {
      if (!recordScoped || targets.has(entry.target)) included.push({ row, entry });
    } else vaultLevel.push({ row, entry });
  }
  // Vault-level events: those in the time range, or (no range) in the span of the records' entries.
  const times = included.map((x) => Date.parse(x.entry.time));
  const lo = o.from ? from : recordScoped && times.length ? Math.min(...times) : -Infinity;
  const hi = o.to ? to : Infinity;
  for (const v of vaultLevel) {
    const t = Date.parse(v.entry.time);
    if (t >= lo && t <= hi) included.push(v);
  }
  // Each pruned entry names the signed retention run that removed its body; that run's entry
  // is part of the report too, so a reader can check the claim.
  const prunedBy = retentionRunsFor(vault.db.sql, included.filter((x) => x.row.entry === null).map((x) => ({ seq: x.row.seq, timeMs: x.row.time })), cp.size);
  const have = new Set(included.map((x) => x.row.seq));
  const runRow = vault.db.sql.prepare<[number], Row>('SELECT seq, entry, leaf_hash, time, target FROM audit_entry WHERE seq = ?');
  for (const run of new Set([...prunedBy.values()].map((r) => r.seq))) {
    if (have.has(run)) continue;
    const row = runRow.get(run)!;
    included.push({ row, entry: JSON.parse(row.entry!) as AuditEntry });
  }
  included.sort((a, b) => a.row.seq - b.row.seq);
  // The hashes the log holds only as commitments, revealed for the reader to check (openings.ts).
  const openings = await collectOpenings(custody, included.map(({ row, entry }) => ({ seq: row.seq, entry })));

  // 3. Inclusion proofs against the checkpoint.
  progress(2, `proving ${included.length} entries`);
  const tree = memoryTree(vault.db.sql, cp.size);
  const proofLines = included.map(({ row }) => JSON.stringify({ seq: row.seq, tlogProof: formatTlogProof({ index: row.seq, proof: tree.inclusionProof(row.seq, cp.size), checkpoint: cp.note }) }));
  let consistency: string | undefined;
  if (o.sinceCheckpoint) {
    let old;
    try {
      old = vault.checkpoints.open(o.sinceCheckpoint);
    } catch (e) {
      throw new CustodyError('BAD_REQUEST', `the earlier checkpoint does not verify with this vault's key: ${(e as Error).message}`);
    }
    if (old.size > cp.size) throw new CustodyError('BAD_REQUEST', 'the earlier checkpoint is newer than the log');
    if (old.size > 0 && !tree.root(old.size).equals(old.rootHash)) throw new CustodyError('TAMPERED', 'the earlier checkpoint does not match this log: it was rewritten since');
    consistency = formatConsistencyProof({ oldSize: old.size, newSize: cp.size, proof: old.size === 0 ? [] : tree.consistencyProof(old.size, cp.size) });
  }

  // 4. The PDF, from the same entries.
  progress(3, 'rendering report.pdf');
  const identity = await pdfSigningIdentity(vault);
  const reportEntries: ReportEntry[] = included.map(({ row, entry }) =>
    row.entry === null
      ? { seq: row.seq, time: '', event: 'pruned', actor: '', success: true, target: row.target, leafHash: row.leaf_hash.toString('hex'), pruned: { retentionSeq: prunedBy.get(row.seq)!.seq } }
      : { seq: row.seq, time: entry.time, event: entry.event, actor: entry.actor, success: entry.success, target: entry.target, leafHash: row.leaf_hash.toString('hex') },
  );
  const byTarget = new Map<string, ReportEntry[]>();
  for (const e of reportEntries) {
    if (!e.target) continue;
    const list = byTarget.get(e.target);
    if (list) list.push(e);
    else byTarget.set(e.target, [e]);
  }
  const records: ReportRecord[] = chosen.map(({ summary, row }) => {
    const atts = attachmentsOf.get(summary.id) ?? [];
    return {
      id: summary.id,
      title: summary.title,
      case: summary.case,
      classification: summary.classification,
      kind: summary.kind,
      capturedAt: summary.capturedAt,
      versions: [...versions.filter((v) => v.recordId === summary.id).map((v) => ({ version: v.version, time: v.savedAt.toISOString() })), { version: row.version, time: row.updatedAt.toISOString() }].sort((a, b) => a.version - b.version),
      attachments: atts,
      entries: (targetsOf.get(summary.id) ?? []).flatMap((t) => byTarget.get(t) ?? []).sort((a, b) => a.seq - b.seq),
    };
  });
  const summary = summariseEntries(reportEntries, records);
  const generatedAt = new Date();
  const scopeText = describeScope(o, chosen.length);
  const doc: ReportDocument = {
    cover: {
      vaultId: vault.vaultId,
      vaultName: `Custody vault ${vault.vaultId.slice(0, 8)}`,
      analystName: vault.meta.actor,
      deviceId: vault.meta.deviceId,
      scope: scopeText,
      ...(o.from || o.to ? { timeRange: { from: o.from ?? reportEntries.find((e) => !e.pruned)?.time ?? '', to: o.to ?? generatedAt.toISOString() } } : {}),
      purpose: o.purpose,
      recipient: o.recipient ?? '',
      generatedAt: generatedAt.toISOString(),
      checkpoint: cp.note,
      signer: { subject: subjectName(identity.certificate), certificateSha256: certificateFingerprint(identity.certificate) },
    },
    summary,
    records,
    entries: reportEntries,
  };
  // Rendered and signed in one pass (signing a finished PDF would rewrite the whole file).
  // Loaded on the first export, not at start-up: importing pdf-lib and fontkit (which unpacks
  // its tables on import) takes a few hundred ms that every launch would otherwise pay.
  const { renderSignedReportPdf } = await import('./pdf/sign.ts');
  const pdf = await renderSignedReportPdf(doc, identity, { reason: `Chain-of-custody report: ${o.purpose}`.slice(0, 200), name: vault.meta.actor, signingTime: generatedAt }, { fontsDir: o.fontsDir ?? join(resourcesDir(), 'fonts') });
  progress(4, 'writing files');

  // 5. The files, the signed manifest, and the folder or zip (written atomically per file).
  const enc = (s: string) => Buffer.from(s, 'utf8');
  const files = new Map<string, Uint8Array>([
    ['report.pdf', pdf],
    ['events.jsonl', enc(included.map((x) => x.row.entry ?? formatPrunedLine({ seq: x.row.seq, leafHash: x.row.leaf_hash.toString('hex'), retentionSeq: prunedBy.get(x.row.seq)!.seq })).join('\n') + (included.length ? '\n' : ''))],
    ['inclusion-proofs.jsonl', enc(proofLines.join('\n') + (proofLines.length ? '\n' : ''))],
    ['checkpoint.note', enc(cp.note)],
    [OPENINGS_FILE, enc(openings)],
    ['verifier.vkey', enc(vault.checkpoints.vkey + '\n')],
    ['signing-certificate.pem', enc(identity.certificate.toString())],
  ]);
  if (consistency && o.sinceCheckpoint) {
    files.set('consistency-proof.txt', enc(consistency));
    files.set('since-checkpoint.note', enc(o.sinceCheckpoint));
  }
  const manifest = signNote(manifestText(files), [{ name: vault.checkpoints.keyName, privateKey: vault.keys().signingSeed }]);
  files.set(MANIFEST_FILE, enc(manifest));
  let data: Uint8Array | undefined;
  if (o.toMemory) data = zipSync(Object.fromEntries(files), { level: 6 });
  else if (o.zip) writeFileAtomic(outPath, zipSync(Object.fromEntries(files), { level: 6 }));
  else {
    mkdirSync(outPath, { recursive: true });
    for (const [name, bytes] of files) writeFileAtomic(join(outPath, name), bytes);
  }
  const reportId = uuidv7();
  const manifestSha256 = sha256Hex(enc(manifest));
  await vault.record({
    event: 'report.exported',
    target: target.report(reportId),
    ...(o.from || o.to ? { range: { from: o.from ?? '', to: o.to ?? '' } } : {}),
    // Purpose, recipient and case name are analyst-written: they stay inside the report, which
    // the log binds through manifestSha256; the log says only what kind of scope it was.
    details: { scope: o.case !== undefined ? 'case' : o.recordIds ? 'records' : 'all', records: chosen.length, entries: included.length, checkpointSize: cp.size, manifestSha256 },
  });
  progress(5, 'done');
  const vkey = vault.checkpoints.vkey;
  return { path: outPath, reportId, records: chosen.length, entries: included.length, manifestSha256, checkpointSize: cp.size, vkey, vkeyFingerprint: vkeyFingerprint(vkey), ...(data ? { data } : {}) };
}

/** SQLite caps bound parameters; large id lists go in slices. */
async function inChunks<T>(ids: string[], query: (ids: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 500) out.push(...(await query(ids.slice(i, i + 500))));
  return out;
}

function describeScope(o: ReportOptions, records: number): string {
  const parts = [o.case !== undefined ? `case "${o.case}"` : o.recordIds ? 'chosen records' : 'all records'];
  if (o.from || o.to) parts.push(`captured ${o.from ?? '…'} to ${o.to ?? '…'}`);
  return `${parts.join(', ')} (${records} record${records === 1 ? '' : 's'})`;
}
