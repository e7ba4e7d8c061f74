import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProofError, verifyConsistency, verifyInclusion } from './verify.ts';

const root = path.resolve(process.cwd(), 'testdata/merkle');

interface Vector {
  file: string;
  data: Record<string, unknown>;
}

function vectors(kind: 'inclusion' | 'consistency'): Vector[] {
  const dir = path.join(root, kind);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, data: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown> }));
}

// As in the Go tests, a null or missing []byte field decodes to no bytes and a
// null proof to no hashes.
const bytes = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : '', 'base64');
const hashes = (v: unknown): Buffer[] => (Array.isArray(v) ? v.map(bytes) : []);

function expectOutcome(v: Vector, run: () => void): void {
  expect(typeof v.data.wantErr).toBe('boolean');
  if (path.basename(v.file) === 'happy-path.json') expect(v.data.wantErr).toBe(false);
  if (v.data.wantErr) expect(run).toThrow(ProofError);
  else expect(run).not.toThrow();
}

describe('RFC 6962 inclusion proof vectors (transparency-dev/merkle)', () => {
  const all = vectors('inclusion');
  it('finds the vector files', () => {
    expect(all.length).toBeGreaterThan(80);
    expect(all.filter((v) => v.file.endsWith('happy-path.json'))).toHaveLength(5);
  });
  for (const v of all) {
    it(v.file, () => {
      const d = v.data;
      expectOutcome(v, () =>
        verifyInclusion(d.leafIdx as number, d.treeSize as number, bytes(d.leafHash), hashes(d.proof), bytes(d.root)),
      );
    });
  }
});

describe('RFC 6962 consistency proof vectors (transparency-dev/merkle)', () => {
  const all = vectors('consistency');
  it('finds the vector files', () => {
    expect(all.length).toBeGreaterThan(80);
    expect(all.filter((v) => v.file.endsWith('happy-path.json'))).toHaveLength(5);
  });
  for (const v of all) {
    it(v.file, () => {
      const d = v.data;
      expectOutcome(v, () =>
        verifyConsistency(d.size1 as number, d.size2 as number, hashes(d.proof), bytes(d.root1), bytes(d.root2)),
      );
    });
  }
});

describe('argument checks', () => {
  const h = Buffer.alloc(32, 7);
  it('rejects non-integer and unsafe sizes and indices', () => {
    expect(() => verifyInclusion(0.5, 2, h, [h], h)).toThrow(/leaf index/);
    expect(() => verifyInclusion(0, 2 ** 53, h, [h], h)).toThrow(/tree size/);
    expect(() => verifyInclusion(-1, 2, h, [h], h)).toThrow(ProofError);
    expect(() => verifyConsistency(1, Number.NaN, [h], h, h)).toThrow(/new tree size/);
  });
  it('explains a wrong proof length', () => {
    expect(() => verifyInclusion(0, 8, h, [h, h], h)).toThrow(/has 2 hashes, but leaf 0 of a tree of 8 needs exactly 3/);
    expect(() => verifyConsistency(3, 8, [h], h, h)).toThrow(/need exactly 4/);
  });
  it('handles indices beyond 32 bits', () => {
    // The last leaf of a tree of 2^40 + 1 leaves has one sibling: the
    // complete subtree over the first 2^40 leaves.
    expect(() => verifyInclusion(2 ** 40, 2 ** 40 + 1, h, [h], h)).toThrow(/does not lead to the given root/);
    expect(() => verifyInclusion(2 ** 40, 2 ** 40 + 1, h, [h, h], h)).toThrow(/needs exactly 1/);
  });
});
