// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text of a
// signed tree head.
//
//   <origin>
//   <tree size, decimal, no leading zeros>
//   <base64 root hash>
//   [<extension line>]...
//
// Parsing accepts any non-empty origin (the spec forbids assuming its form);
// formatting additionally refuses spaces and '+' in the origin, the spec's
// SHOULD, so that our origin can also serve as the log's key name.
import { HASH_SIZE } from './hash.ts';
import { openNote, type NoteSignature, type NoteVerifier } from './note.ts';
import { decodeBase64, parseDecimal, textProblem } from './text.ts';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  extensions: string[];
}

export interface CheckpointFields {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: readonly string[];
}

function checkLine(line: string, what: string): void {
  if (line === '') throw new CheckpointError(`checkpoint ${what} must not be empty`);
  if (line.includes('\n')) throw new CheckpointError(`checkpoint ${what} must be a single line`);
  const problem = textProblem(line);
  if (problem) throw new CheckpointError(`checkpoint ${what} ${problem}`);
}

/** The checkpoint note text (to be signed with signNote). */
export function formatCheckpoint({ origin, size, rootHash, extensions = [] }: CheckpointFields): string {
  checkLine(origin, 'origin');
  if (/[\p{White_Space}+]/u.test(origin)) throw new CheckpointError('checkpoint origin must not contain spaces or plus signs');
  if (!Number.isSafeInteger(size) || size < 0) throw new CheckpointError(`checkpoint tree size must be a non-negative integer, got ${size}`);
  if (rootHash.length !== HASH_SIZE) throw new CheckpointError(`checkpoint root hash must be ${HASH_SIZE} bytes, got ${rootHash.length}`);
  for (const [i, line] of extensions.entries()) checkLine(line, `extension line ${i + 1}`);
  const lines = [origin, String(size), Buffer.from(rootHash).toString('base64'), ...extensions];
  return `${lines.join('\n')}\n`;
}

/** Parses checkpoint note text strictly; throws CheckpointError on any deviation. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('checkpoint text must end with a newline');
  const problem = textProblem(text);
  if (problem) throw new CheckpointError(`checkpoint text ${problem}`);
  const [origin, sizeLine, rootLine, ...extensions] = text.slice(0, -1).split('\n');
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) {
    throw new CheckpointError('checkpoint needs at least three lines: origin, tree size and root hash');
  }
  if (origin === '') throw new CheckpointError('checkpoint origin line is empty');
  const size = parseDecimal(sizeLine);
  if (size === undefined) {
    throw new CheckpointError(`checkpoint tree size ${JSON.stringify(sizeLine)} is not a decimal number without leading zeros below 2^53`);
  }
  const rootHash = decodeBase64(rootLine);
  if (!rootHash || rootHash.length !== HASH_SIZE) throw new CheckpointError(`checkpoint root hash is not the base64 of ${HASH_SIZE} bytes`);
  for (const [i, line] of extensions.entries()) {
    if (line === '') throw new CheckpointError(`checkpoint extension line ${i + 1} is empty`);
  }
  return { origin, size, rootHash, extensions };
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  /** The checkpoint's note text, exactly as signed. */
  text: string;
  verified: NoteSignature[];
  unverified: NoteSignature[];
}

/**
 * Opens a signed checkpoint: verifies the note with `verifiers` (the keys
 * trusted for this log; at least one must have signed), parses it, and checks
 * that its origin is `origin`.
 */
export function openCheckpoint(note: string | Uint8Array, verifiers: readonly NoteVerifier[], origin: string): OpenedCheckpoint {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) {
    throw new CheckpointError(`checkpoint is for log ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(origin)}`);
  }
  return { checkpoint, text: opened.text, verified: opened.verified, unverified: opened.unverified };
}
