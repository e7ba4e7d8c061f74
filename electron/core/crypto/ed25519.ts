// Ed25519 keys as raw 32-byte seeds / public keys, signed and verified through node:crypto.
// Seeds pass through DER buffers (not JWK strings, which could not be wiped); each such
// buffer is zeroed once node has read it.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function generateEd25519(): { seed: Buffer<ArrayBuffer>; publicKey: Buffer<ArrayBuffer> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = Buffer.from(der.subarray(PKCS8_PREFIX.length));
  der.fill(0);
  return { seed, publicKey: Buffer.from(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)) };
}

function keyObjectOfSeed(seed: Uint8Array): KeyObject {
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

export const privateKeyFromSeed = keyObjectOfSeed;

export function publicKeyOfSeed(seed: Uint8Array): Buffer {
  return Buffer.from(createPublicKey(keyObjectOfSeed(seed)).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

export const signEd25519 = (seed: Uint8Array, msg: Uint8Array): Buffer => sign(null, msg, keyObjectOfSeed(seed));

export function verifyEd25519(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return verify(null, msg, key, sig);
}
