// A device signing key bound to the vault key (docs/architecture.md, "Device key anchoring"):
// HMAC-SHA-256 under a key derived from the vault key, over the vault id, the key's registry id
// and its public key. Only a holder of the vault key can make one, so someone who can write the
// vault folder but does not know the password cannot register a key of their own and re-sign
// the log with it: unlock refuses a key whose attestation does not verify.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey, wipe } from '../crypto/keys.ts';

const INFO = 'custody/device-key-attestation/v1';

/** Each field length-prefixed, so no two different triples give the same bytes. */
function message(vaultId: string, keyId: string, publicKey: Uint8Array): Buffer {
  const parts = [Buffer.from(INFO, 'utf8'), Buffer.from(vaultId, 'utf8'), Buffer.from(keyId, 'utf8'), Buffer.from(publicKey)];
  return Buffer.concat(
    parts.flatMap((p) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(p.length);
      return [len, p];
    }),
  );
}

export function attestDeviceKey(vaultKey: Uint8Array, vaultId: string, keyId: string, publicKey: Uint8Array): Buffer<ArrayBuffer> {
  const k = deriveKey(vaultKey, INFO);
  try {
    return createHmac('sha256', k).update(message(vaultId, keyId, publicKey)).digest() as Buffer<ArrayBuffer>;
  } finally {
    wipe(k);
  }
}

export function deviceKeyAttested(vaultKey: Uint8Array, vaultId: string, keyId: string, publicKey: Uint8Array, attestation: Uint8Array | null): boolean {
  if (!attestation || attestation.length !== 32) return false;
  return timingSafeEqual(attestDeviceKey(vaultKey, vaultId, keyId, publicKey), attestation);
}
