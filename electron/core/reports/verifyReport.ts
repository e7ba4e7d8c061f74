// `custody verify <report>`: checks a report with no vault and no network, and says exactly
// what is wrong when anything is. Trust: a report carries its own verifier key, so on its own it
// proves only that it is consistent with that key; the verdict shows the key and its
// fingerprint for the reader to compare with one from the analyst, or the reader pins the key
// they hold (--vkey) and any other key fails. The report may be hostile: it is read within
// limits (reportFiles.ts), and the PDF's embedded entry list is inflated, with a bound, only
// once the manifest verified.
import { existsSync } from 'node:fs';
import { originOfKeyName, publicKeyOfVkey } from '../audit/checkpoints.ts';
import { openCheckpoint, type Checkpoint } from '../audit/tlog/checkpoint.ts';
import { noteVerifier, openNote, parseVerifierKey, type NoteVerifier } from '../audit/tlog/note.ts';
import { parseTlogProof, verifyConsistencyProof, verifyTlogProof } from '../audit/tlog/proof.ts';
import { verifyInclusion } from '../audit/tlog/verify.ts';
import { textProblem } from '../audit/tlog/text.ts';
import { leafHash } from '../audit/tlog/hash.ts';
import { parseRetentionRun, type RetentionRun } from '../audit/retention.ts';
import { vkeyFingerprint } from '../audit/vkeyFingerprint.ts';
import { MANIFEST_FILE, parseManifest, sha256Hex } from './manifest.ts';
import { checkOpenings, OPENINGS_FILE } from './openings.ts';
import { certificateFingerprint } from './pdf/certificate.ts';
import { parsePrunedLine, type PrunedLine } from './prunedLine.ts';
import { InclusionChecker } from './proofCheck.ts';
import { proofText, readProofLines } from './proofLines.ts';
import { DEFAULT_REPORT_LIMITS, readReportFiles, type ReportLimits } from './reportFiles.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The key the report was checked against. */
export interface ReportSigner {
  /** Its verifier key text (name+keyid+base64), as `custody audit vkey` prints it. */
  vkey: string;
  /** The key registry's fingerprint of its public key (audit/vkeyFingerprint.ts). */
  fingerprint: string;
  /** `report`: the key the report carries (compare it with the analyst's); `pinned`: the reader's --vkey. */
  trust: 'report' | 'pinned';
}

export interface ReportVerification {
  ok: boolean;
  checks: Check[];
  entries: number;
  /** Entries listed with only their leaf hash: retention removed their bodies. */
  prunedEntries: number;
  origin?: string;
  checkpointSize?: number;
  signer?: ReportSigner;
  /** With --vkey: the key that was expected, when the report carries another. */
  expectedSigner?: { vkey: string; fingerprint: string };
  /** The signer's fingerprint (as signer.fingerprint). */
  vkeyFingerprint?: string;
}

/** Reads a report folder or zip into path -> bytes, within the report limits. */
export function readReport(path: string, limits: ReportLimits = DEFAULT_REPORT_LIMITS): Map<string, Uint8Array> {
  if (!existsSync(path)) throw new Error(`no report at ${path}`);
  return readReportFiles(path, limits);
}

export async function verifyReport(path: string, opts: { vkey?: string; limits?: Partial<ReportLimits>; onProgress?: (done: number, total: number) => void } = {}): Promise<ReportVerification> {
  // The PDF library loads on first use, not with the app (see export.ts).
  const { readEmbeddedEntries, verifyPdfSignature } = await import('./pdf/verify.ts');
  const limits = { ...DEFAULT_REPORT_LIMITS, ...opts.limits };
  const checks: Check[] = [];
  const check = (name: string, fn: () => string): boolean => {
    try {
      checks.push({ name, ok: true, detail: fn() });
      return true;
    } catch (e) {
      checks.push({ name, ok: false, detail: (e as Error).message });
      return false;
    }
  };
  const result: ReportVerification = { ok: false, checks, entries: 0, prunedEntries: 0 };
  if (!existsSync(path)) throw new Error(`no report at ${path}`);
  let files = new Map<string, Uint8Array>();
  const read = check('report files', () => {
    files = readReportFiles(path, limits);
    const total = [...files.values()].reduce((n, b) => n + b.length, 0);
    return `${files.size} files, ${total.toLocaleString('en-GB')} bytes, only regular files and within the limits`;
  });
  if (!read) return finish(result);
  const text = (name: string): string => {
    const b = files.get(name);
    if (!b) throw new Error(`${name} is missing`);
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  };

  // Keys: the reader's pinned key, else the report's own (and the verdict says so).
  let verifier: NoteVerifier | undefined;
  check('verifier key', () => {
    const own = files.has('verifier.vkey') ? text('verifier.vkey').trim() : undefined;
    const pinned = opts.vkey?.trim();
    if (pinned) {
      let v: NoteVerifier;
      try {
        v = parseVerifierKey(pinned);
      } catch (e) {
        throw new Error(`the key you gave with --vkey is not a verifier key: ${(e as Error).message}`);
      }
      if (own !== undefined && own !== pinned) {
        result.signer = { vkey: own, fingerprint: fingerprintOf(own), trust: 'report' };
        result.expectedSigner = { vkey: pinned, fingerprint: vkeyFingerprint(pinned) };
        throw new Error(`the report carries the key ${result.signer.fingerprint}, not the one you expected with --vkey (${result.expectedSigner.fingerprint}): it was signed by another device or vault, or forged`);
      }
      verifier = v;
      result.signer = { vkey: pinned, fingerprint: vkeyFingerprint(pinned), trust: 'pinned' };
      return `${v.name} (key id ${hex8(v.keyId)}): the key you expected (--vkey), fingerprint ${result.signer.fingerprint}`;
    }
    if (own === undefined) throw new Error('verifier.vkey is missing, and no key was given with --vkey');
    verifier = parseVerifierKey(own);
    result.signer = { vkey: own, fingerprint: vkeyFingerprint(own), trust: 'report' };
    return `${verifier.name} (key id ${hex8(verifier.keyId)}), taken from the report itself, fingerprint ${result.signer.fingerprint}: compare it with the analyst's`;
  });
  if (result.signer) result.vkeyFingerprint = result.signer.fingerprint;
  if (!verifier) return finish(result);
  const v = verifier;
  // A device signs under <origin>/device/<id>; the log it vouches for is <origin>.
  const origin = originOfKeyName(v.name);
  result.origin = origin;
  // A checkpoint the reader kept from before device key names (0.1.0) is signed by the same key under the origin.
  const sinceVerifiers = v.name === origin || !result.signer ? [v] : [v, noteVerifier(origin, publicKeyOfVkey(result.signer.vkey))];

  // The manifest covers every other file, exactly.
  const manifestOk = check('manifest signature and file hashes', () => {
    const opened = openNote(text(MANIFEST_FILE), [v]);
    const listed = parseManifest(opened.text);
    const problems: string[] = [];
    for (const [name, hash] of listed) {
      const b = files.get(name);
      if (!b) problems.push(`${name} is listed but missing`);
      else if (sha256Hex(b) !== hash) problems.push(`${name} was modified (its SHA-256 differs from the manifest)`);
    }
    for (const name of files.keys()) if (name !== MANIFEST_FILE && !listed.has(name)) problems.push(`${name} is not in the manifest`);
    if (problems.length) throw new Error(problems.join('; '));
    return `${listed.size} files, signed by ${opened.verified.map((s) => s.name).join(', ')}`;
  });

  let cp: Checkpoint | undefined;
  let cpText: string | undefined;
  check('checkpoint signature', () => {
    cp = openCheckpoint(text('checkpoint.note'), [v], origin).checkpoint;
    cpText = text('checkpoint.note');
    result.checkpointSize = cp.size;
    return `log size ${cp.size}, root ${cp.rootHash.toString('base64')}`;
  });

  // Every entry has a proof of inclusion in the signed tree, and every proof has its entry. A
  // pruned entry's line gives its leaf hash; its proof is checked against that.
  const events = files.has('events.jsonl') ? text('events.jsonl').split('\n').filter((l, i, a) => l !== '' || i < a.length - 1) : [];
  result.entries = events.length;
  const eventSeqs: { seq: number; leafHash: string; pruned: boolean }[] = [];
  const prunedLines: PrunedLine[] = [];
  /** Retention runs among the entries whose proof verified, by sequence number. */
  const runs = new Map<number, RetentionRun>();
  check('inclusion proofs', () => {
    if (!cp) throw new Error('no valid checkpoint to check proofs against');
    const proofBytes = files.get('inclusion-proofs.jsonl');
    if (!proofBytes) throw new Error('inclusion-proofs.jsonl is missing');
    const proofs = readProofLines(proofBytes, cpText!);
    const problems: string[] = [];
    let last = -1;
    const fast = textProblem(cpText!) === undefined ? new InclusionChecker(cpText!, cp.size, cp.rootHash) : undefined;
    events.forEach((line, i) => {
      opts.onProgress?.(i, events.length);
      let seq: number;
      let leaf: Buffer;
      let event: unknown;
      const pruned = parsePrunedLine(line);
      if (pruned) {
        seq = pruned.seq;
        leaf = Buffer.from(pruned.leafHash, 'hex');
        prunedLines.push(pruned);
      } else {
        try {
          const e = JSON.parse(line) as { seq?: unknown; event?: unknown };
          if (typeof e.seq !== 'number') throw new Error();
          seq = e.seq;
          event = e.event;
        } catch {
          problems.push(`events.jsonl line ${i + 1} is not an audit entry`);
          return;
        }
        leaf = leafHash(Buffer.from(line, 'utf8'));
      }
      if (seq <= last) problems.push(`events.jsonl line ${i + 1} (entry ${seq}) is out of log order`);
      last = seq;
      eventSeqs.push({ seq, leafHash: leaf.toString('hex'), pruned: pruned !== undefined });
      const read = proofs.get(seq);
      if (!read) return problems.push(`entry ${seq} (events.jsonl line ${i + 1}) has no inclusion proof`);
      proofs.delete(seq);
      try {
        // Most proofs: against the report's checkpoint, sharing their upper paths (proofCheck.ts).
        if (!(read.head !== undefined ? fast?.acceptsHead(read.head, seq, leaf) : fast?.accepts(read.proof, seq, leaf))) {
          const proof = proofText(read, cpText!);
          const parsed = parseTlogProof(proof);
          if (parsed.checkpoint === cpText) {
            // The checkpoint's signature was checked once above; only the path is new.
            verifyInclusion(parsed.index, cp!.size, leaf, parsed.proof, cp!.rootHash);
            if (parsed.index !== seq) return problems.push(`the proof for entry ${seq} is for entry ${parsed.index}`);
          } else {
            const r = verifyTlogProof(proof, { leafHash: leaf }, [v], origin);
            if (r.index !== seq) return problems.push(`the proof for entry ${seq} is for entry ${r.index}`);
            if (r.checkpoint.size !== cp!.size || !r.checkpoint.rootHash.equals(cp!.rootHash)) return problems.push(`the proof for entry ${seq} is against another checkpoint`);
          }
        }
      } catch (e) {
        return problems.push(`entry ${seq} (events.jsonl line ${i + 1}) is not in the signed log: ${(e as Error).message}`);
      }
      // Parsed again only for the one event that can be a run (parseRetentionRun checks it all).
      const run = pruned || event !== 'retention.run' ? undefined : parseRetentionRun(line);
      if (run && run.seq === seq) runs.set(seq, run);
    });
    for (const seq of proofs.keys()) problems.push(`the proof for entry ${seq} has no entry in events.jsonl`);
    if (problems.length) throw new Error(problems.slice(0, 20).join('; ') + (problems.length > 20 ? `; and ${problems.length - 20} more` : ''));
    return `${events.length} entries, each included in the signed log${prunedLines.length ? ` (${prunedLines.length} by leaf hash only: pruned)` : ''}`;
  });
  result.prunedEntries = prunedLines.length;

  // A pruned entry is accepted only with the signed retention run that removed its body.
  if (prunedLines.length > 0) {
    check('pruned entries', () => {
      const problems: string[] = [];
      const by = new Map<number, number>();
      for (const p of prunedLines) {
        const run = runs.get(p.retentionSeq);
        if (!run) problems.push(`entry ${p.seq} is listed as pruned under retention entry ${p.retentionSeq}, but the report holds no signed retention run at ${p.retentionSeq}`);
        else if (p.seq >= run.seq || (run.prunedBelowSeq !== undefined && p.seq >= run.prunedBelowSeq))
          problems.push(`entry ${p.seq} is listed as pruned under retention entry ${run.seq}, which removed only bodies before entry ${Math.min(run.seq, run.prunedBelowSeq ?? run.seq)}`);
        else by.set(run.seq, (by.get(run.seq) ?? 0) + 1);
      }
      if (problems.length) throw new Error(problems.slice(0, 20).join('; ') + (problems.length > 20 ? `; and ${problems.length - 20} more` : ''));
      const parts = [...by].map(([seq, n]) => `${n} under retention entry ${seq} (cutoff ${runs.get(seq)!.cutoff})`);
      return `${prunedLines.length} entr${prunedLines.length === 1 ? 'y' : 'ies'} listed by leaf hash only: the body was pruned, ${parts.join(', ')}`;
    });
  }

  if (files.has('consistency-proof.txt') || files.has('since-checkpoint.note')) {
    check('consistency with the earlier checkpoint', () => {
      if (!cp) throw new Error('no valid checkpoint');
      const old = openCheckpoint(text('since-checkpoint.note'), sinceVerifiers, origin).checkpoint;
      verifyConsistencyProof(text('consistency-proof.txt'), old, cp);
      return `the log at ${cp.size} extends the one at ${old.size}: nothing before it was changed`;
    });
  }

  // Hashes the log holds only as commitments: each one the report reveals must open its entry's.
  check('hash commitments', () => checkOpenings(events, files.has(OPENINGS_FILE) ? text(OPENINGS_FILE) : undefined));

  const pdfBytes = files.get('report.pdf');
  check('report.pdf signature', () => {
    if (!pdfBytes) throw new Error('report.pdf is missing');
    const r = verifyPdfSignature(pdfBytes);
    if (!r.coversWholeFile) throw new Error(`report.pdf: the signature does not cover the whole file${r.problems.length ? ` (${r.problems.join('; ')})` : ''}`);
    if (!r.valid) throw new Error(`report.pdf: the signature does not verify (${r.problems.join('; ')})`);
    const pem = text('signing-certificate.pem');
    if (certificateFingerprint(pem) !== r.signer.certificateSha256) throw new Error('report.pdf was signed with another certificate than signing-certificate.pem');
    return `valid, covers the whole file; signer ${r.signer.subject}, certificate SHA-256 ${r.signer.certificateSha256}`;
  });

  if (pdfBytes) {
    // Inflated only from a PDF the manifest vouches for, and never beyond what the entries of
    // events.jsonl can take (an item is under 100 bytes).
    const bound = Math.min(limits.maxFileBytes, 1024 + 128 * (events.length + 1));
    const embedded = manifestOk
      ? await readEmbeddedEntries(pdfBytes, bound).then(
          (e) => e,
          (e: Error) => e,
        )
      : new Error('not read, because the manifest did not verify');
    check('entries listed in report.pdf = events.jsonl', () => {
      if (embedded instanceof Error) throw new Error(`report.pdf: cannot read its entry list: ${embedded.message}`);
      const key = (e: { seq: number; leafHash: string; pruned?: boolean }) => `${e.seq}:${e.leafHash}${e.pruned ? ':pruned' : ''}`;
      const a = embedded.map(key);
      const b = eventSeqs.map(key);
      const inPdf = new Set(a);
      const inEvents = new Set(b);
      const missing = b.filter((x) => !inPdf.has(x)).map((x) => x.split(':')[0]);
      const extra = a.filter((x) => !inEvents.has(x)).map((x) => x.split(':')[0]);
      if (missing.length || extra.length || a.length !== b.length)
        throw new Error(`report.pdf lists ${a.length} entries, events.jsonl ${b.length}${missing.length ? `; not in the PDF: ${missing.slice(0, 10).join(', ')}` : ''}${extra.length ? `; only in the PDF: ${extra.slice(0, 10).join(', ')}` : ''}`);
      return `${a.length} entries, the same in both`;
    });
  }
  return finish(result);
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** A fingerprint to show, even of a key that turns out malformed. */
function fingerprintOf(vkey: string): string {
  try {
    return vkeyFingerprint(vkey);
  } catch {
    return '(not a valid verifier key)';
  }
}

function finish(r: ReportVerification): ReportVerification {
  r.ok = r.checks.length > 0 && r.checks.every((c) => c.ok);
  return r;
}
