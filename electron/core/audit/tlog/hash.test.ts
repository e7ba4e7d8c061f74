import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, leafHash, leafHashOfText, nodeHash } from './hash.ts';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

describe('RFC 6962 hashing', () => {
  it('has the empty-tree root and the empty-leaf hash of RFC 6962', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(leafHash(new Uint8Array(0)).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  it('prefixes leaves with 0x00 and nodes with 0x01, for small and large inputs', () => {
    for (const size of [1, 31, 1023, 1024, 5000, 64 * 1024 - 1, 64 * 1024, 200_000]) {
      const data = randomBytes(size);
      expect(leafHash(data)).toEqual(sha256(Uint8Array.of(0), data));
    }
    const l = randomBytes(32);
    const r = randomBytes(32);
    expect(nodeHash(l, r)).toEqual(sha256(Uint8Array.of(1), l, r));
  });

  it('hashes a string as its UTF-8 bytes, whatever its length and characters', () => {
    for (const text of ['', 'plain ascii', 'Genève — 北京 🚀', 'é'.repeat(30_000), 'x'.repeat(70_000), '\u{1F600}'.repeat(20_000)]) {
      expect(leafHashOfText(text)).toEqual(sha256(Uint8Array.of(0), Buffer.from(text, 'utf8')));
    }
  });

  it('returns independent buffers despite the reused scratch space', () => {
    const a = leafHash(Buffer.from('a'));
    const b = leafHash(Buffer.from('b'));
    expect(a).toEqual(sha256(Uint8Array.of(0), Buffer.from('a')));
    expect(a).not.toEqual(b);
    const n1 = nodeHash(a, b);
    const n2 = nodeHash(b, a);
    expect(n1).toEqual(sha256(Uint8Array.of(1), a, b));
    expect(n1).not.toEqual(n2);
  });

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const backing = randomBytes(100);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 10, 40);
    expect(leafHash(view)).toEqual(sha256(Uint8Array.of(0), backing.subarray(10, 50)));
  });

  it('refuses node children that are not 32 bytes', () => {
    expect(() => nodeHash(Buffer.alloc(31), Buffer.alloc(32))).toThrow(/left child must be a 32-byte hash/);
    expect(() => nodeHash(Buffer.alloc(32), Buffer.alloc(33))).toThrow(/right child/);
  });
});
