// Hiding commitments to plaintext digests (docs/architecture.md, "Commitments, not hashes, in the
// clear log"). A SHA-256 of an attachment or an imported file in the clear would let anyone who
// holds a copy of the log test a guess ("is this the leaked memo?"). The log keeps instead
//   commitment = HMAC-SHA-256(key = a random per-item 32-byte key, message = the 32-byte digest)
// with the key kept encrypted; a signed report reveals the opening (key and digest), and its
// reader checks HMAC(key, digest) against the commitment in the signed log entry.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ad, open, seal } from '../crypto/aead.ts';

/** The audit detail that holds a commitment (hex). */
export const COMMITMENT_DETAIL = 'sha256Commitment';
/** The audit detail that holds an import's opening, sealed with a key derived from the vault key. */
export const SEALED_OPENING_DETAIL = 'sealedOpening';

const HEX64 = /^[0-9a-f]{64}$/;

export function commitDigest(key: Uint8Array, digest: Uint8Array): string {
  if (key.length !== 32 || digest.length !== 32) throw new Error('a commitment takes a 32-byte key and a 32-byte digest');
  return createHmac('sha256', key).update(digest).digest('hex');
}

/** True if (key, digest), both hex, open the commitment (hex). */
export function openingMatches(commitment: string, keyHex: string, digestHex: string): boolean {
  if (!HEX64.test(commitment) || !HEX64.test(keyHex) || !HEX64.test(digestHex)) return false;
  const expected = Buffer.from(commitDigest(Buffer.from(keyHex, 'hex'), Buffer.from(digestHex, 'hex')), 'hex');
  return timingSafeEqual(expected, Buffer.from(commitment, 'hex'));
}

/**
 * An attachment's commitment key, derived from its own random key (kept wrapped by the record's
 * data key): every event of the attachment carries the same commitment, attachments made before
 * commitments existed get one too, and revealing it reveals nothing about the attachment key.
 */
export function attachmentCommitmentKey(attachmentKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', attachmentKey, Buffer.alloc(0), Buffer.from('custody/attachment/sha256-commitment/v1'), 32));
}

const openingKey = (vaultKey: Uint8Array) => Buffer.from(hkdfSync('sha256', vaultKey, Buffer.alloc(0), Buffer.from('custody/audit/openings/v1'), 32));
const openingAd = (vaultId: string, itemId: string) => ad('commitment-opening', vaultId, itemId);

/** Seals (key || digest) for the log entry itself, so the opening travels with the entry. */
export function sealOpening(vaultKey: Uint8Array, vaultId: string, itemId: string, key: Uint8Array, digest: Uint8Array): string {
  const k = openingKey(vaultKey);
  try {
    return seal(k, Buffer.concat([key, digest]), openingAd(vaultId, itemId)).toString('base64');
  } finally {
    k.fill(0);
  }
}

export function openSealedOpening(vaultKey: Uint8Array, vaultId: string, itemId: string, sealed: string): { key: Buffer; digest: Buffer } {
  const k = openingKey(vaultKey);
  try {
    const plain = open(k, Buffer.from(sealed, 'base64'), openingAd(vaultId, itemId), `the opening of ${itemId}`);
    if (plain.length !== 64) throw new Error(`the opening of ${itemId} is malformed`);
    return { key: plain.subarray(0, 32), digest: plain.subarray(32) };
  } finally {
    k.fill(0);
  }
}
