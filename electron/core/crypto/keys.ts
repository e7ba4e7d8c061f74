import { hkdfSync } from 'node:crypto';
import { randomBytes } from './random.ts';

export const randomKey = (): Buffer => randomBytes(32);

/** Overwrites key material in place; called on lock so keys do not linger in the heap. */
export function wipe(...bufs: (Uint8Array | undefined | null)[]): void {
  for (const b of bufs) b?.fill(0);
}

/** EK_day = HKDF-SHA-256(epoch root, info = "custody/epoch/v1" || day) (docs/architecture.md, "Keys and formats"). */
export function epochKey(epochRoot: Uint8Array, day: string): Buffer {
  return Buffer.from(hkdfSync('sha256', epochRoot, Buffer.alloc(0), Buffer.concat([Buffer.from('custody/epoch/v1'), Buffer.from(day)]), 32));
}

/** A purpose-specific key from a high-entropy secret (the recovery key). */
export function deriveKey(secret: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), Buffer.from(info), 32));
}
