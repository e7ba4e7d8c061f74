import { expect, test } from 'vitest';
import { randomBytes } from './random.ts';

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
