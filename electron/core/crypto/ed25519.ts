// Ed25519 keys as raw 32-byte seeds / public keys, signed and verified through node:crypto.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export function generateEd25519(): { seed: Buffer<ArrayBuffer>; publicKey: Buffer<ArrayBuffer> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { seed: Buffer.from(jwk.d!, 'base64url'), publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url') };
}

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  const pub = publicKeyOfSeed(seed);
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seed).toString('base64url'), x: pub.toString('base64url') }, format: 'jwk' });
}

export function publicKeyOfSeed(seed: Uint8Array): Buffer {
  // PKCS#8 wrapping of a raw seed lets node derive the public key.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const jwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

export const signEd25519 = (seed: Uint8Array, msg: Uint8Array): Buffer => sign(null, msg, privateKeyFromSeed(seed));

export function verifyEd25519(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
  return verify(null, msg, key, sig);
}
