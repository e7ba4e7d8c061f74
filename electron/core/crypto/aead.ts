// AES-256-GCM through node:crypto (hardware AES). Sealed layout: nonce(12) || ciphertext || tag(16).
// 96-bit random nonces: a record key seals a handful of fields per version, far below the
// 2^32 messages per key where random nonces become a concern.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomBytes } from './random.ts';
import { CustodyError } from '../../shared/errors.ts';

const NONCE = 12;
const TAG = 16;
export const KEY_BYTES = 32;

export function seal(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Buffer<ArrayBuffer> {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(ad);
  const body = c.update(plaintext);
  const final = c.final();
  return Buffer.concat([nonce, body, final, c.getAuthTag()]) as Buffer<ArrayBuffer>;
}

/** Opens a sealed blob; any mismatch (key, associated data, a flipped bit) is `TAMPERED`. */
export function open(key: Uint8Array, sealed: Uint8Array, ad: Uint8Array, what = 'data'): Buffer {
  if (sealed.length < NONCE + TAG) throw new CustodyError('TAMPERED', `${what} is truncated`);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE));
  d.setAAD(ad);
  d.setAuthTag(buf.subarray(buf.length - TAG));
  try {
    return Buffer.concat([d.update(buf.subarray(NONCE, buf.length - TAG)), d.final()]);
  } catch {
    throw new CustodyError('TAMPERED', `${what} failed authentication (wrong key or modified ciphertext)`);
  }
}

/** Associated data: a domain label and the identifiers the ciphertext belongs to. */
export const ad = (...parts: (string | number)[]): Buffer => Buffer.from(['custody/v1', ...parts].join('\x1f'), 'utf8');
