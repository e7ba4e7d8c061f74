// `custody verify <report>`: checks a report with no vault and no network, and says exactly
// what is wrong when anything is. Trust: the report's own verifier key, unless the reader
// pins one they already hold (--vkey); the verdict prints its fingerprint either way.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { unzipSync } from 'fflate';
import { createHash } from 'node:crypto';
import { openCheckpoint, type Checkpoint } from '../audit/tlog/checkpoint.ts';
import { openNote, parseVerifierKey, type NoteVerifier } from '../audit/tlog/note.ts';
import { parseTlogProof, verifyConsistencyProof, verifyTlogProof } from '../audit/tlog/proof.ts';
import { verifyInclusion } from '../audit/tlog/verify.ts';
import { leafHash } from '../audit/tlog/hash.ts';
import { MANIFEST_FILE, parseManifest, sha256Hex } from './manifest.ts';
import { certificateFingerprint } from './pdf/certificate.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ReportVerification {
  ok: boolean;
  checks: Check[];
  entries: number;
  origin?: string;
  checkpointSize?: number;
  vkeyFingerprint?: string;
}

/** Reads a report folder or zip into path -> bytes. */
export function readReport(path: string): Map<string, Uint8Array> {
  if (!existsSync(path)) throw new Error(`no report at ${path}`);
  const files = new Map<string, Uint8Array>();
  if (statSync(path).isDirectory()) {
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else files.set(relative(path, p).split('\\').join('/'), readFileSync(p));
      }
    };
    walk(path);
  } else {
    for (const [name, bytes] of Object.entries(unzipSync(readFileSync(path)))) if (!name.endsWith('/')) files.set(name, bytes);
  }
  return files;
}

export async function verifyReport(path: string, opts: { vkey?: string; onProgress?: (done: number, total: number) => void } = {}): Promise<ReportVerification> {
  // The PDF library loads on first use, not with the app (see export.ts).
  const { readEmbeddedEntries, verifyPdfSignature } = await import('./pdf/verify.ts');
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
  const files = readReport(path);
  const text = (name: string): string => {
    const b = files.get(name);
    if (!b) throw new Error(`${name} is missing`);
    return Buffer.from(b).toString('utf8');
  };
  const result: ReportVerification = { ok: false, checks, entries: 0 };

  // Keys: the reader's pinned key, else the report's own.
  let verifier: NoteVerifier | undefined;
  check('verifier key', () => {
    const own = text('verifier.vkey').trim();
    const pinned = opts.vkey?.trim();
    if (pinned && pinned !== own) throw new Error('verifier.vkey differs from the key you expected (--vkey): the report was signed by another device or vault');
    verifier = parseVerifierKey(pinned ?? own);
    result.origin = verifier.name;
    result.vkeyFingerprint = createHash('sha256').update(pinned ?? own).digest('hex').slice(0, 16);
    return `${verifier.name} (key id ${verifier.keyId.toString(16).padStart(8, '0')})${pinned ? ', matches the key you expected' : ', taken from the report: compare it with one you trust'}`;
  });
  if (!verifier) return finish(result);
  const v = verifier;

  // The manifest covers every other file, exactly.
  check('manifest signature and file hashes', () => {
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
    cp = openCheckpoint(text('checkpoint.note'), [v], v.name).checkpoint;
    cpText = text('checkpoint.note');
    result.checkpointSize = cp.size;
    return `log size ${cp.size}, root ${cp.rootHash.toString('base64')}`;
  });

  // Every entry has a proof of inclusion in the signed tree, and every proof has its entry.
  const events = files.has('events.jsonl') ? text('events.jsonl').split('\n').filter((l, i, a) => l !== '' || i < a.length - 1) : [];
  result.entries = events.length;
  const eventSeqs: { seq: number; leafHash: string }[] = [];
  check('inclusion proofs', () => {
    if (!cp) throw new Error('no valid checkpoint to check proofs against');
    const proofs = new Map<number, string>();
    for (const [i, line] of text('inclusion-proofs.jsonl').split('\n').filter(Boolean).entries()) {
      const p = JSON.parse(line) as { seq?: unknown; tlogProof?: unknown };
      if (typeof p.seq !== 'number' || typeof p.tlogProof !== 'string') throw new Error(`inclusion-proofs.jsonl line ${i + 1} is malformed`);
      proofs.set(p.seq, p.tlogProof);
    }
    const problems: string[] = [];
    let last = -1;
    events.forEach((line, i) => {
      opts.onProgress?.(i, events.length);
      let seq: number;
      try {
        const e = JSON.parse(line) as { seq?: unknown };
        if (typeof e.seq !== 'number') throw new Error();
        seq = e.seq;
      } catch {
        problems.push(`events.jsonl line ${i + 1} is not an audit entry`);
        return;
      }
      if (seq <= last) problems.push(`events.jsonl line ${i + 1} (entry ${seq}) is out of log order`);
      last = seq;
      const leaf = leafHash(Buffer.from(line, 'utf8'));
      eventSeqs.push({ seq, leafHash: leaf.toString('hex') });
      const proof = proofs.get(seq);
      if (!proof) return problems.push(`entry ${seq} (events.jsonl line ${i + 1}) has no inclusion proof`);
      proofs.delete(seq);
      try {
        const parsed = parseTlogProof(proof);
        if (parsed.checkpoint === cpText) {
          // The checkpoint's signature was checked once above; only the path is new.
          verifyInclusion(parsed.index, cp!.size, leaf, parsed.proof, cp!.rootHash);
          if (parsed.index !== seq) problems.push(`the proof for entry ${seq} is for entry ${parsed.index}`);
        } else {
          const r = verifyTlogProof(proof, { leafHash: leaf }, [v], v.name);
          if (r.index !== seq) problems.push(`the proof for entry ${seq} is for entry ${r.index}`);
          if (r.checkpoint.size !== cp!.size || !r.checkpoint.rootHash.equals(cp!.rootHash)) problems.push(`the proof for entry ${seq} is against another checkpoint`);
        }
      } catch (e) {
        problems.push(`entry ${seq} (events.jsonl line ${i + 1}) is not in the signed log: ${(e as Error).message}`);
      }
    });
    for (const seq of proofs.keys()) problems.push(`the proof for entry ${seq} has no entry in events.jsonl`);
    if (problems.length) throw new Error(problems.slice(0, 20).join('; ') + (problems.length > 20 ? `; and ${problems.length - 20} more` : ''));
    return `${events.length} entries, each included in the signed log`;
  });

  if (files.has('consistency-proof.txt') || files.has('since-checkpoint.note')) {
    check('consistency with the earlier checkpoint', () => {
      if (!cp) throw new Error('no valid checkpoint');
      const old = openCheckpoint(text('since-checkpoint.note'), [v], v.name).checkpoint;
      verifyConsistencyProof(text('consistency-proof.txt'), old, cp);
      return `the log at ${cp.size} extends the one at ${old.size}: nothing before it was changed`;
    });
  }

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
    const embedded = await readEmbeddedEntries(pdfBytes).then(
      (e) => e,
      (e: Error) => e,
    );
    check('entries listed in report.pdf = events.jsonl', () => {
      if (embedded instanceof Error) throw new Error(`report.pdf: cannot read its entry list: ${embedded.message}`);
      const a = embedded.map((e) => `${e.seq}:${e.leafHash}`);
      const b = eventSeqs.map((e) => `${e.seq}:${e.leafHash}`);
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

function finish(r: ReportVerification): ReportVerification {
  r.ok = r.checks.length > 0 && r.checks.every((c) => c.ok);
  return r;
}
