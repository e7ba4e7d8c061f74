import { randomFillSync } from 'node:crypto';

// Many small random values (nonces, keys, ids) per record: one getrandom call per 4 KiB
// instead of one per value (each crypto.randomBytes call costs ~5 µs here). Same CSPRNG;
// consumed bytes are zeroed in the pool once copied out, so a key never stays there.
const POOL = Buffer.alloc(4096);
let offset = POOL.length;

export function randomBytes(n: number): Buffer<ArrayBuffer> {
  if (n > POOL.length) return randomFillSync(Buffer.alloc(n));
  if (offset + n > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const out = Buffer.from(POOL.subarray(offset, offset + n));
  POOL.fill(0, offset, offset + n);
  offset += n;
  return out;
}

/**
 * Zeroes the bytes not handed out yet (on lock): they would be the next keys and nonces, and
 * must not be readable from memory after the vault locked. The next request refills the pool.
 */
export function wipeRandomPool(): void {
  POOL.fill(0);
  offset = POOL.length;
}

/** For tests: whether the pool holds no random bytes at all (as right after wipeRandomPool). */
export const randomPoolIsWiped = (): boolean => offset === POOL.length && POOL.every((b) => b === 0);
