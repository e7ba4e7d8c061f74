// A report's files (listed in export.ts), its signed manifest, and where they go: a folder, one
// zip, or the zip's bytes in memory. Every file is written atomically.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { CustodyError } from '../../shared/errors.ts';
import type { StoredCheckpoint } from '../audit/checkpoints.ts';
import type { RetentionRun } from '../audit/retention.ts';
import { signNote } from '../audit/tlog/note.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';
import type { Vault } from '../vault/vault.ts';
import type { IncludedEntry } from './entries.ts';
import { MANIFEST_FILE, manifestText } from './manifest.ts';
import { OPENINGS_FILE } from './openings.ts';
import type { SigningIdentity } from './pdf/certificate.ts';
import { formatPrunedLine } from './prunedLine.ts';

export interface Destination {
  outDir: string;
  zip?: boolean;
  toMemory?: boolean;
}

export interface ReportContents {
  pdf: Uint8Array;
  included: readonly IncludedEntry[];
  prunedBy: ReadonlyMap<number, RetentionRun>;
  /** inclusion-proofs.jsonl (proofFile.ts). */
  proofs: Uint8Array;
  cp: StoredCheckpoint;
  openings: string;
  identity: SigningIdentity;
  /** The earlier checkpoint and the consistency proof from it, when the reader holds one. */
  since?: { checkpoint: string; proof: string };
}

const enc = (s: string) => Buffer.from(s, 'utf8');
const lines = (l: readonly string[]) => l.join('\n') + (l.length ? '\n' : '');

/** The report's path: the folder, or the zip beside it ('' in memory). */
export function outputPath(d: Destination): string {
  return d.toMemory ? '' : d.zip ? `${d.outDir.replace(/\.zip$/, '')}.zip` : d.outDir;
}

/** Refuses to write over an existing zip or a folder that is not empty. */
export function checkOutputFree(d: Destination, path: string): void {
  if (!d.toMemory && existsSync(path) && (d.zip || readdirSync(path).length > 0)) throw new CustodyError('CONFLICT', `${path} already exists and is not empty`);
}

/** Path -> bytes of every file but the manifest. */
export function reportFiles(vault: Vault, c: ReportContents): Map<string, Uint8Array> {
  const events = c.included.map((x) => x.row.entry ?? formatPrunedLine({ seq: x.row.seq, leafHash: x.row.leafHash.toString('hex'), retentionSeq: c.prunedBy.get(x.row.seq)!.seq }));
  const files = new Map<string, Uint8Array>([
    ['report.pdf', c.pdf],
    ['events.jsonl', enc(lines(events))],
    ['inclusion-proofs.jsonl', c.proofs],
    ['checkpoint.note', enc(c.cp.note)],
    [OPENINGS_FILE, enc(c.openings)],
    ['verifier.vkey', enc(vault.checkpoints.vkey + '\n')],
    ['signing-certificate.pem', enc(c.identity.certificate.toString())],
  ]);
  if (c.since) {
    files.set('consistency-proof.txt', enc(c.since.proof));
    files.set('since-checkpoint.note', enc(c.since.checkpoint));
  }
  return files;
}

/** Signs the manifest of `files` with the device key and adds it; returns its bytes. */
export function addSignedManifest(vault: Vault, files: Map<string, Uint8Array>): Uint8Array {
  const manifest = enc(signNote(manifestText(files), [{ name: vault.checkpoints.keyName, privateKey: vault.keys().signingSeed }]));
  files.set(MANIFEST_FILE, manifest);
  return manifest;
}

/** Writes the files to the folder or zip at `path`; in memory, returns the zip instead. */
export function writeReport(d: Destination, path: string, files: ReadonlyMap<string, Uint8Array>): Uint8Array | undefined {
  if (d.toMemory) return zipSync(Object.fromEntries(files), { level: 6 });
  if (d.zip) writeFileAtomic(path, zipSync(Object.fromEntries(files), { level: 6 }));
  else {
    mkdirSync(path, { recursive: true });
    for (const [name, bytes] of files) writeFileAtomic(join(path, name), bytes);
  }
  return undefined;
}
