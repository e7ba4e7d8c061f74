import { expect, test } from 'vitest';
import { randomBytes, randomPoolIsWiped, wipeRandomPool } from './random.ts';

test('pooled random bytes: fresh copies, never repeated, large requests served directly', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const b = randomBytes(12);
    expect(b).toHaveLength(12);
    seen.add(b.toString('hex'));
  }
  expect(seen.size).toBe(2000);
  const a = randomBytes(32);
  const copy = Buffer.from(a);
  randomBytes(32);
  expect(a.equals(copy)).toBe(true);
  expect(randomBytes(10_000)).toHaveLength(10_000);
  expect(randomBytes(10_000).equals(Buffer.alloc(10_000))).toBe(false);
});

test('wipeRandomPool zeroes the bytes not handed out yet; the pool refills on the next request', () => {
  randomBytes(16);
  expect(randomPoolIsWiped()).toBe(false);
  wipeRandomPool();
  expect(randomPoolIsWiped()).toBe(true);
  const next = randomBytes(32);
  expect(next.equals(Buffer.alloc(32))).toBe(false);
  expect(randomPoolIsWiped()).toBe(false);
});
