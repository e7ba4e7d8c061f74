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
// The steps, each in its own module: the records in scope (scope.ts), the entries in scope
// (entries.ts), openings (openings.ts), proofs (proofFile.ts, proofs.ts), the signed PDF (document.ts), the
// files, manifest and output (output.ts); then the report's audit entry, here.
import { CustodyError } from '../../shared/errors.ts';
import { target } from '../audit/entry.ts';
import { vkeyFingerprint } from '../audit/vkeyFingerprint.ts';
import { uuidv7, UUID_RE } from '../util/ids.ts';
import type { Custody } from '../custody.ts';
import type { Vault } from '../vault/vault.ts';
import { reportDocument, renderSignedPdf } from './document.ts';
import { entriesInScope } from './entries.ts';
import { sha256Hex } from './manifest.ts';
import { levelsTree, treeLevels } from './memoryTree.ts';
import { collectOpenings } from './openings.ts';
import { addSignedManifest, checkOutputFree, outputPath, reportFiles, writeReport } from './output.ts';
import { inclusionProofsFile } from './proofFile.ts';
import { consistencyProofFrom } from './proofs.ts';
import { recordsInScope, type ReportScope } from './scope.ts';
import { pdfSigningIdentity, startSigningKeys } from './signingIdentity.ts';

export interface ReportOptions extends ReportScope {
  outDir: string;
  purpose: string;
  recipient?: string;
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

export async function exportReport(custody: Custody, o: ReportOptions): Promise<ReportResult> {
  const vault = custody.vault;
  vault.keys();
  checkRequest(o);
  const outPath = outputPath(o);
  checkOutputFree(o, outPath);
  const steps = 5;
  const progress = (step: number, label: string) => o.onProgress?.(step, steps, label);

  // The first report's RSA key pair is found on another core meanwhile.
  const signingKeys = await startSigningKeys(vault);

  // 1. The records in scope and what the PDF says about each (decrypted here, in core).
  progress(0, 'selecting records');
  const records = await recordsInScope(custody, o);

  // 2. A fresh checkpoint; the entries in scope are those it covers.
  progress(1, 'signing a checkpoint');
  const cp = await vault.checkpointNow('report');
  const { included, prunedBy } = entriesInScope(vault, cp.size, o, records);
  // The hashes the log holds only as commitments, revealed for the reader to check (openings.ts).
  const openings = await collectOpenings(custody, included.map(({ row, entry }) => ({ seq: row.seq, entry })));

  // 3. Inclusion proofs against the checkpoint.
  progress(2, `proving ${included.length} entries`);
  const levels = treeLevels(vault.audit, cp.size);
  const proofs = inclusionProofsFile(levels, cp.size, cp.note, included.map(({ row }) => row.seq));
  const since = o.sinceCheckpoint ? { checkpoint: o.sinceCheckpoint, proof: consistencyProofFrom(vault, levelsTree(levels, cp.size), cp, o.sinceCheckpoint) } : undefined;

  // 4. The PDF, from the same entries.
  progress(3, 'rendering report.pdf');
  const identity = await pdfSigningIdentity(vault, signingKeys);
  const generatedAt = new Date();
  const doc = reportDocument(vault, { scope: o, purpose: o.purpose, recipient: o.recipient, records, included, prunedBy, cp, identity, generatedAt });
  const pdf = await renderSignedPdf(vault, doc, identity, { purpose: o.purpose, fontsDir: o.fontsDir, signingTime: generatedAt });
  progress(4, 'writing files');

  // 5. The files, the signed manifest, and the folder or zip (written atomically per file).
  const files = reportFiles(vault, { pdf, included, prunedBy, proofs, cp, openings, identity, since });
  const manifestSha256 = sha256Hex(addSignedManifest(vault, files));
  const data = writeReport(o, outPath, files);
  const reportId = uuidv7();
  await logExport(vault, o, { reportId, records: records.chosen.length, entries: included.length, checkpointSize: cp.size, manifestSha256 });
  progress(5, 'done');
  const vkey = vault.checkpoints.vkey;
  return { path: outPath, reportId, records: records.chosen.length, entries: included.length, manifestSha256, checkpointSize: cp.size, vkey, vkeyFingerprint: vkeyFingerprint(vkey), ...(data ? { data } : {}) };
}

/** Bad requests are refused before anything is read or written. */
function checkRequest(o: ReportOptions): void {
  if (!o.purpose.trim()) throw new CustodyError('BAD_REQUEST', 'a report needs a purpose (--purpose)');
  if (o.recordIds?.some((id) => !UUID_RE.test(id))) throw new CustodyError('BAD_REQUEST', 'a record id in --records is malformed');
}

/** The report.exported entry, which binds the report through its manifest's hash. */
async function logExport(vault: Vault, o: ReportOptions, r: { reportId: string; records: number; entries: number; checkpointSize: number; manifestSha256: string }): Promise<void> {
  await vault.record({
    event: 'report.exported',
    target: target.report(r.reportId),
    ...(o.from || o.to ? { range: { from: o.from ?? '', to: o.to ?? '' } } : {}),
    // Purpose, recipient and case name are analyst-written: they stay inside the report, which
    // the log binds through manifestSha256; the log says only what kind of scope it was.
    details: { scope: o.case !== undefined ? 'case' : o.recordIds ? 'records' : 'all', records: r.records, entries: r.entries, checkpointSize: r.checkpointSize, manifestSha256: r.manifestSha256 },
  });
}
