import { hkdfSync } from 'node:crypto';
import { randomBytes } from './random.ts';

/**
 * Test hook: sees every key buffer made by the functions here (and those code hands to
 * keyMaterial), so a test can check that each one is zeroed on every path, error paths
 * included. Null in normal use.
 */
let watcher: ((key: Buffer) => void) | null = null;
export function watchKeyMaterial(fn: ((key: Buffer) => void) | null): void {
  watcher = fn;
}

/** Marks a buffer as key material (for watchKeyMaterial) and returns it. */
export function keyMaterial<T extends Buffer>(key: T): T {
  watcher?.(key);
  return key;
}

export const randomKey = (): Buffer<ArrayBuffer> => keyMaterial(randomBytes(32));

/** Overwrites key material in place; called on lock so keys do not linger in the heap. */
export function wipe(...bufs: (Uint8Array | undefined | null)[]): void {
  for (const b of bufs) b?.fill(0);
}

/** EK_day = HKDF-SHA-256(epoch root, info = "custody/epoch/v1" || day) (docs/architecture.md, "Keys and formats"). */
export function epochKey(epochRoot: Uint8Array, day: string): Buffer {
  return keyMaterial(Buffer.from(hkdfSync('sha256', epochRoot, Buffer.alloc(0), Buffer.concat([Buffer.from('custody/epoch/v1'), Buffer.from(day)]), 32)));
}

/** A purpose-specific key from a high-entropy secret (the recovery key, the vault key). */
export function deriveKey(secret: Uint8Array, info: string): Buffer {
  return keyMaterial(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), Buffer.from(info), 32)));
}

/** A key's short public identifier (16 bytes, hex): what the key registry and verify output show. */
export function keyFingerprint(material: Uint8Array): string {
  const d = deriveKey(material, 'custody/fingerprint/v1');
  try {
    return d.subarray(0, 16).toString('hex');
  } finally {
    wipe(d);
  }
}
