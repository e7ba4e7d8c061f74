// C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures
// (signature type 0x01), as used for checkpoints and report manifests.
//
//   <text ending in "\n">
//   <blank line>
//   — <key name> base64(uint32 big-endian key ID || signature)     (1 or more)
//
// Choices where the spec leaves room: at most MAX_NOTE_SIGNATURES signature
// lines (the spec requires accepting at least 16); a failing signature from a
// known key rejects the whole note (the spec's SHOULD); two signature lines
// with the same key name and key ID make the note malformed; base64 must be
// canonical, so that no two different notes verify as the same one.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { decodeBase64, textProblem } from './text.ts';

export const MAX_NOTE_SIGNATURES = 100;
const ED25519 = 0x01;
const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const SIG_PREFIX = '\u2014 '; // em dash, space

export class NoteError extends Error {
  override name = 'NoteError';
}

/** A trusted public key: its name, key ID, and a verify function over note text. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  name: string;
  /** The 32-byte Ed25519 private key seed (RFC 8032). */
  privateKey: Uint8Array;
}

export interface NoteSignature {
  name: string;
  /** The uint32 key ID from the signature line. */
  keyId: number;
}

export interface OpenedNote {
  /** The signed text, including its final newline. */
  text: string;
  /** Signatures verified by a given verifier. */
  verified: NoteSignature[];
  /** Signatures from keys not among the verifiers (ignored, as the spec requires). */
  unverified: NoteSignature[];
}

// DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== ED25519_KEY_SIZE) throw new NoteError(`an Ed25519 private key seed is ${ED25519_KEY_SIZE} bytes, got ${seed.length}`);
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0); // do not leave a stray copy of the seed in memory
  }
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== ED25519_KEY_SIZE) throw new NoteError(`an Ed25519 public key is ${ED25519_KEY_SIZE} bytes, got ${publicKey.length}`);
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    throw new NoteError('the Ed25519 public key is not a valid key encoding');
  }
}

/** The raw 32-byte Ed25519 public key of a 32-byte private key seed. */
export function ed25519PublicKey(seed: Uint8Array): Buffer {
  return rawPublicKey(privateKeyFromSeed(seed));
}

/** Why `name` cannot be a key name (non-empty, no Unicode spaces, no '+'), or undefined. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (/[\p{White_Space}+]/u.test(name)) return 'contains a space or a plus sign';
  return textProblem(name);
}

function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new NoteError(`key name ${JSON.stringify(name)} ${problem}`);
}

const hex8 = (keyId: number): string => keyId.toString(16).padStart(8, '0');

/** Key ID = first 4 bytes (big-endian uint32) of SHA-256(name || 0x0A || 0x01 || public key). */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  checkName(name);
  if (publicKey.length !== ED25519_KEY_SIZE) throw new NoteError(`an Ed25519 public key is ${ED25519_KEY_SIZE} bytes, got ${publicKey.length}`);
  const digest = createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, ED25519)).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

/** Verifier key text: <name>+<hex key ID>+base64(0x01 || public key). */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const keyId = noteKeyId(name, publicKey);
  return `${name}+${hex8(keyId)}+${Buffer.concat([Uint8Array.of(ED25519), publicKey]).toString('base64')}`;
}

/** A verifier for an Ed25519 public key under a key name. */
export function noteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const keyId = noteKeyId(name, publicKey);
  const key = publicKeyObject(publicKey);
  return {
    name,
    keyId,
    verify: (message, signature) => signature.length === ED25519_SIGNATURE_SIZE && verify(null, message, key, signature),
  };
}

/** Parses a verifier key (vkey) and checks that its key ID matches its name and key. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // The name cannot contain '+', the key ID is 8 hex digits; base64 may contain '+'.
  const match = /^([^+]*)\+([0-9a-fA-F]{8})\+(.*)$/su.exec(vkey);
  if (!match) throw new NoteError('verifier key is not of the form <name>+<8 hex digits>+<base64 key>');
  const [, name = '', idHex = '', keyB64 = ''] = match;
  checkName(name);
  const key = decodeBase64(keyB64);
  if (!key || key.length === 0) throw new NoteError(`verifier key for ${name} has invalid base64 key material`);
  if (key[0] !== ED25519) throw new NoteError(`verifier key for ${name} has signature type ${key[0]}; only Ed25519 (1) is supported`);
  const verifier = noteVerifier(name, key.subarray(1));
  if (verifier.keyId !== Number.parseInt(idHex, 16)) {
    throw new NoteError(`verifier key for ${name} has key ID ${idHex.toLowerCase()}, but its name and key give ${hex8(verifier.keyId)}`);
  }
  return verifier;
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  const problem = textProblem(text);
  if (problem) throw new NoteError(`note text ${problem}`);
}

const signerKey = (name: string, keyId: number): string => `${name}\n${keyId}`;

/** Signs `text` (which must end with a newline) with each signer, in order. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  if (signers.length === 0) throw new NoteError('a signed note needs at least one signer');
  if (signers.length > MAX_NOTE_SIGNATURES) throw new NoteError(`a note can carry at most ${MAX_NOTE_SIGNATURES} signatures`);
  const message = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  const lines = signers.map(({ name, privateKey }) => {
    checkName(name);
    const key = privateKeyFromSeed(privateKey);
    const keyId = noteKeyId(name, rawPublicKey(key));
    if (seen.has(signerKey(name, keyId))) throw new NoteError(`signer ${name} (key ${hex8(keyId)}) is listed twice`);
    seen.add(signerKey(name, keyId));
    const idBytes = Buffer.alloc(4);
    idBytes.writeUInt32BE(keyId);
    const signature = Buffer.concat([idBytes, sign(null, message, key)]);
    return `${SIG_PREFIX}${name} ${signature.toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

function decodeNote(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  try {
    // ignoreBOM keeps a leading U+FEFF as part of the text instead of dropping it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw new NoteError('note is not valid UTF-8');
  }
}

/**
 * Parses a signed note and verifies every signature from a known key.
 * Throws NoteError if the note is malformed, if any signature from a known key
 * fails, or if no signature from a known key verifies.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const k = signerKey(v.name, v.keyId);
    if (known.has(k)) throw new NoteError(`two verifier keys share the name ${v.name} and key ID ${hex8(v.keyId)}`);
    known.set(k, v);
  }

  const s = decodeNote(note);
  const problem = textProblem(s);
  if (problem) throw new NoteError(`malformed note: it ${problem}`);
  // The text ends at the last blank line; signature lines follow it.
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('malformed note: no blank line separates the text from the signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new NoteError('malformed note: signature lines must follow the blank line, each ending in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new NoteError(`malformed note: more than ${MAX_NOTE_SIGNATURES} signatures`);

  const message = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const [i, line] of lines.entries()) {
    const where = `signature line ${i + 1}`;
    if (!line.startsWith(SIG_PREFIX)) throw new NoteError(`malformed note: ${where} does not start with an em dash and a space`);
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space < 0) throw new NoteError(`malformed note: ${where} has no space between key name and signature`);
    const name = rest.slice(0, space);
    const nameIssue = nameProblem(name);
    if (nameIssue) throw new NoteError(`malformed note: ${where} has a key name that ${nameIssue}`);
    const sig = decodeBase64(rest.slice(space + 1));
    if (!sig || sig.length < 5) throw new NoteError(`malformed note: ${where} has an invalid base64 signature`);
    const keyId = sig.readUInt32BE(0);
    const k = signerKey(name, keyId);
    if (seen.has(k)) throw new NoteError(`malformed note: two signatures by ${name} with key ID ${hex8(keyId)}`);
    seen.add(k);
    const verifier = known.get(k);
    if (!verifier) {
      unverified.push({ name, keyId });
      continue;
    }
    if (!verifier.verify(message, sig.subarray(4))) {
      throw new NoteError(`signature by ${name} (key ${hex8(keyId)}) does not verify: the note was altered or signed by another key`);
    }
    verified.push({ name, keyId });
  }
  if (verified.length === 0) {
    const names = unverified.map((u) => `${u.name}+${hex8(u.keyId)}`).join(', ');
    throw new NoteError(`note has no signature from a trusted key (signed by: ${names})`);
  }
  return { text, verified, unverified };
}
