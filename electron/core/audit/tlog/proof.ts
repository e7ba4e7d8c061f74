// Proof files.
//
// Inclusion: C2SP tlog-proof (https://c2sp.org/tlog-proof), which bundles an
// inclusion proof with the signed checkpoint it leads to:
//
//   c2sp.org/tlog-proof@v1
//   extra <base64>              (optional, unauthenticated)
//   index <decimal>
//   <base64 hash>               (zero or more, leaf's sibling first)
//   <empty line>
//   <signed checkpoint note, verbatim>
//
// Consistency: C2SP defines no text format, so Custody uses this one, in the
// same style (every line ends with a newline; no empty lines):
//
//   custody/tlog-consistency-proof@v1
//   old <decimal tree size>
//   new <decimal tree size>
//   <base64 hash>               (zero or more, RFC 9162 §2.1.4 order)
//
// It carries no checkpoints: the verifier holds the old one and gets the new
// one beside the proof, both opened with openCheckpoint.
import { type Checkpoint, openCheckpoint } from './checkpoint.ts';
import { EMPTY_ROOT, HASH_SIZE, leafHash as hashLeaf } from './hash.ts';
import type { NoteSignature, NoteVerifier } from './note.ts';
import { decodeBase64, parseDecimal, textProblem } from './text.ts';
import { ProofError, verifyConsistency, verifyInclusion } from './verify.ts';

const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
const CONSISTENCY_HEADER = 'custody/tlog-consistency-proof@v1';
// A tree below 2^53 leaves needs at most 53 proof hashes; allow a little slack
// and refuse absurd inputs before decoding them.
const MAX_PROOF_HASHES = 64;

export interface TlogProof {
  index: number;
  proof: Buffer[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
  /** Opaque, unauthenticated extra data; absent when the proof has none. */
  extra?: Buffer;
}

export interface TlogProofFields {
  index: number;
  proof: readonly Uint8Array[];
  checkpoint: string;
  /** Omitted from the text when absent or empty, as the spec has no empty form. */
  extra?: Uint8Array;
}

function checkIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ProofError(`${what} must be a non-negative integer, got ${n}`);
}

function encodeHashes(proof: readonly Uint8Array[]): string[] {
  if (proof.length > MAX_PROOF_HASHES) throw new ProofError(`a proof has at most ${MAX_PROOF_HASHES} hashes, got ${proof.length}`);
  return proof.map((h, i) => {
    if (h.length !== HASH_SIZE) throw new ProofError(`proof hash ${i} is ${h.length} bytes, expected ${HASH_SIZE}`);
    return Buffer.from(h).toString('base64');
  });
}

function decodeHashes(lines: readonly string[], firstLine: number): Buffer[] {
  if (lines.length > MAX_PROOF_HASHES) throw new ProofError(`proof has more than ${MAX_PROOF_HASHES} hashes`);
  return lines.map((line, i) => {
    const h = decodeBase64(line);
    if (!h || h.length !== HASH_SIZE) throw new ProofError(`line ${firstLine + i} is not the base64 of a ${HASH_SIZE}-byte hash`);
    return h;
  });
}

function keyedNumber(line: string | undefined, key: string, lineNo: number): number {
  const prefix = `${key} `;
  const n = line?.startsWith(prefix) ? parseDecimal(line.slice(prefix.length)) : undefined;
  if (n === undefined) throw new ProofError(`line ${lineNo} must be "${key} " and a decimal number without leading zeros`);
  return n;
}

function checkProofText(text: string): void {
  const problem = textProblem(text);
  if (problem) throw new ProofError(`proof text ${problem}`);
}

export function formatTlogProof({ index, proof, checkpoint, extra }: TlogProofFields): string {
  checkIndex(index, 'leaf index');
  if (!checkpoint.endsWith('\n') || checkpoint.startsWith('\n')) throw new ProofError('checkpoint must be a signed note ending with a newline');
  const lines = [TLOG_PROOF_HEADER];
  if (extra && extra.length > 0) lines.push(`extra ${Buffer.from(extra).toString('base64')}`);
  lines.push(`index ${index}`, ...encodeHashes(proof), '');
  return `${lines.join('\n')}\n${checkpoint}`;
}

/** Parses tlog-proof text strictly; the checkpoint is checked when verified. */
export function parseTlogProof(text: string): TlogProof {
  checkProofText(text);
  const split = text.indexOf('\n\n');
  if (split < 0) throw new ProofError('tlog proof has no empty line before its checkpoint');
  const checkpoint = text.slice(split + 2);
  if (checkpoint === '' || !checkpoint.endsWith('\n')) throw new ProofError('tlog proof has no checkpoint note after the empty line');
  const lines = text.slice(0, split).split('\n');
  if (lines[0] !== TLOG_PROOF_HEADER) throw new ProofError(`tlog proof must start with the line ${TLOG_PROOF_HEADER}`);
  let next = 1;
  let extra: Buffer | undefined;
  if (lines[next]?.startsWith('extra ')) {
    extra = decodeBase64((lines[next] ?? '').slice('extra '.length));
    if (!extra || extra.length === 0) throw new ProofError('tlog proof extra line is not non-empty base64');
    next++;
  }
  const index = keyedNumber(lines[next], 'index', next + 1);
  next++;
  const proof = decodeHashes(lines.slice(next), next + 1);
  return extra ? { index, proof, checkpoint, extra } : { index, proof, checkpoint };
}

export type LeafInput = { leafData: Uint8Array } | { leafHash: Uint8Array };

export interface VerifiedTlogProof {
  index: number;
  checkpoint: Checkpoint;
  /** Unauthenticated: do not trust it beyond what the application checks. */
  extra?: Buffer;
  verified: NoteSignature[];
}

/**
 * Verifies a tlog proof (spec's steps 1, 2 and 4): the checkpoint is for
 * `origin` and signed by at least one of `verifiers` (pass only keys trusted
 * for this log), and the leaf is included at the stated index of its tree.
 */
export function verifyTlogProof(
  text: string,
  leaf: LeafInput,
  verifiers: readonly NoteVerifier[],
  origin: string,
): VerifiedTlogProof {
  const parsed = parseTlogProof(text);
  const { checkpoint, verified } = openCheckpoint(parsed.checkpoint, verifiers, origin);
  const hash = 'leafData' in leaf ? hashLeaf(leaf.leafData) : leaf.leafHash;
  verifyInclusion(parsed.index, checkpoint.size, hash, parsed.proof, checkpoint.rootHash);
  const result: VerifiedTlogProof = { index: parsed.index, checkpoint, verified };
  if (parsed.extra) result.extra = parsed.extra;
  return result;
}

export interface ConsistencyProof {
  oldSize: number;
  newSize: number;
  proof: Buffer[];
}

export function formatConsistencyProof({ oldSize, newSize, proof }: { oldSize: number; newSize: number; proof: readonly Uint8Array[] }): string {
  checkIndex(oldSize, 'old tree size');
  checkIndex(newSize, 'new tree size');
  if (oldSize > newSize) throw new ProofError(`old tree size ${oldSize} is larger than new tree size ${newSize}`);
  return `${[CONSISTENCY_HEADER, `old ${oldSize}`, `new ${newSize}`, ...encodeHashes(proof)].join('\n')}\n`;
}

export function parseConsistencyProof(text: string): ConsistencyProof {
  checkProofText(text);
  if (!text.endsWith('\n')) throw new ProofError('consistency proof must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== CONSISTENCY_HEADER) throw new ProofError(`consistency proof must start with the line ${CONSISTENCY_HEADER}`);
  const oldSize = keyedNumber(lines[1], 'old', 2);
  const newSize = keyedNumber(lines[2], 'new', 3);
  if (oldSize > newSize) throw new ProofError(`old tree size ${oldSize} is larger than new tree size ${newSize}`);
  return { oldSize, newSize, proof: decodeHashes(lines.slice(3), 4) };
}

/**
 * Verifies consistency-proof text between two already opened checkpoints of
 * the same log. An old checkpoint of size 0 is accepted when its root is the
 * empty tree's and the proof is empty: every tree extends the empty tree.
 */
export function verifyConsistencyProof(text: string, oldCheckpoint: Checkpoint, newCheckpoint: Checkpoint): void {
  const { oldSize, newSize, proof } = parseConsistencyProof(text);
  if (oldCheckpoint.origin !== newCheckpoint.origin) {
    throw new ProofError(`checkpoints are from different logs: ${JSON.stringify(oldCheckpoint.origin)} and ${JSON.stringify(newCheckpoint.origin)}`);
  }
  if (oldSize !== oldCheckpoint.size || newSize !== newCheckpoint.size) {
    throw new ProofError(
      `consistency proof is for sizes ${oldSize} to ${newSize}, but the checkpoints have sizes ${oldCheckpoint.size} and ${newCheckpoint.size}`,
    );
  }
  if (oldSize === 0) {
    if (!oldCheckpoint.rootHash.equals(EMPTY_ROOT)) throw new ProofError('old checkpoint has size 0 but not the empty tree root');
    if (proof.length > 0) throw new ProofError('a consistency proof from the empty tree must be empty');
    return;
  }
  verifyConsistency(oldSize, newSize, proof, oldCheckpoint.rootHash, newCheckpoint.rootHash);
}
