import { test, expect } from 'vitest';
import Database from 'better-sqlite3';
import argon2 from 'argon2';
test('native modules load', async () => {
  const db = new Database(':memory:');
  expect(db.prepare('select 1 as x').get()).toEqual({ x: 1 });
  const h = await argon2.hash('x', { type: argon2.argon2id, memoryCost: 1024, timeCost: 2, parallelism: 1, raw: true, salt: Buffer.alloc(16) });
  expect(h.length).toBe(32);
});
