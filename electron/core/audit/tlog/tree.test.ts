import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, leafHash, nodeHash } from './hash.ts';
import { CompactRange, MapSubtreeStore, MerkleTree, type SubtreeStore } from './tree.ts';
import { verifyConsistency, verifyInclusion } from './verify.ts';

// Naive RFC 9162 §2.1 reference over a fixed list of leaves, memoised by range
// because MTH(D[a:b]) does not depend on the tree it sits in.
class Reference {
  private readonly memo = new Map<string, Buffer>();
  constructor(readonly leaves: Buffer[]) {}

  static split(n: number): number {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  mth(a: number, b: number): Buffer {
    if (b === a) return EMPTY_ROOT;
    if (b - a === 1) return this.leaves[a] as Buffer;
    const key = `${a}:${b}`;
    let h = this.memo.get(key);
    if (!h) {
      const k = Reference.split(b - a);
      h = nodeHash(this.mth(a, a + k), this.mth(a + k, b));
      this.memo.set(key, h);
    }
    return h;
  }

  /** PATH(m, D[a:b]) */
  path(m: number, a: number, b: number): Buffer[] {
    if (b - a <= 1) return [];
    const k = Reference.split(b - a);
    if (m < k) return [...this.path(m, a, a + k), this.mth(a + k, b)];
    return [...this.path(m - k, a + k, b), this.mth(a, a + k)];
  }

  /** SUBPROOF(m, D[a:b], b) */
  subproof(m: number, a: number, b: number, whole: boolean): Buffer[] {
    if (m === b - a) return whole ? [] : [this.mth(a, b)];
    const k = Reference.split(b - a);
    if (m <= k) return [...this.subproof(m, a, a + k, whole), this.mth(a + k, b)];
    return [...this.subproof(m - k, a + k, b, false), this.mth(a, a + k)];
  }
}

// Compare hashes as hex strings: deep equality of Buffer arrays is slow.
const hex = (hashes: Buffer | Buffer[]): string => [hashes].flat().map((h) => h.toString('hex')).join(' ');

const randomLeaves = (n: number): Buffer[] => Array.from({ length: n }, () => leafHash(randomBytes(20)));

/** Counts store reads, to check that proofs read O(log n) subtrees. */
class CountingStore implements SubtreeStore {
  gets = 0;
  constructor(private readonly inner: SubtreeStore) {}
  get(level: number, index: number): Buffer | undefined {
    this.gets++;
    return this.inner.get(level, index);
  }
  put(level: number, index: number, h: Buffer): void {
    this.inner.put(level, index, h);
  }
}

describe('MerkleTree against a naive RFC 9162 implementation', () => {
  const MAX = 70;
  const ref = new Reference(randomLeaves(MAX));
  const store = new MapSubtreeStore();
  const tree = new MerkleTree(store, 0);

  it('agrees at every size while appending, and the proofs verify', () => {
    for (let n = 0; n <= MAX; n++) {
      expect(tree.size).toBe(n);
      const root = tree.root();
      expect(hex(root)).toBe(hex(ref.mth(0, n)));
      for (let i = 0; i < n; i++) {
        const proof = tree.inclusionProof(i);
        expect(hex(proof)).toBe(hex(ref.path(i, 0, n)));
        verifyInclusion(i, n, ref.leaves[i] as Buffer, proof, root);
      }
      for (let m = 0; m <= n; m++) {
        const proof = tree.consistencyProof(m);
        expect(hex(proof)).toBe(m === 0 ? '' : hex(ref.subproof(m, 0, n, true)));
        if (m > 0) verifyConsistency(m, n, proof, ref.mth(0, m), root);
      }
      if (n < MAX) tree.append(ref.leaves[n] as Buffer);
    }
  });

  it('serves roots and proofs for every earlier size', () => {
    for (let n = 0; n <= MAX; n++) {
      expect(hex(tree.root(n))).toBe(hex(ref.mth(0, n)));
      for (let i = 0; i < n; i++) expect(hex(tree.inclusionProof(i, n))).toBe(hex(ref.path(i, 0, n)));
      for (let m = 1; m <= n; m++) {
        const proof = tree.consistencyProof(m, n);
        expect(hex(proof)).toBe(hex(ref.subproof(m, 0, n, true)));
        verifyConsistency(m, n, proof, ref.mth(0, m), ref.mth(0, n));
      }
    }
  });

  it('stores exactly the complete subtrees', () => {
    for (let level = 0; 2 ** level <= MAX; level++) {
      const width = 2 ** level;
      for (let i = 0; (i + 1) * width <= MAX; i++) expect(store.get(level, i)).toEqual(ref.mth(i * width, (i + 1) * width));
      expect(store.get(level, Math.floor(MAX / width))).toBeUndefined();
    }
  });

  it('reopens from the store at any size and keeps appending', () => {
    for (let n = 0; n <= MAX; n += 7) {
      const copy = new MapSubtreeStore();
      const first = new MerkleTree(copy, 0);
      for (let i = 0; i < n; i++) first.append(ref.leaves[i] as Buffer);
      const reopened = new MerkleTree(copy, n);
      expect(reopened.root()).toEqual(ref.mth(0, n));
      for (let i = n; i < MAX; i++) reopened.append(ref.leaves[i] as Buffer);
      expect(reopened.root()).toEqual(ref.mth(0, MAX));
      expect(reopened.inclusionProof(n > 0 ? n - 1 : 0)).toEqual(ref.path(n > 0 ? n - 1 : 0, 0, MAX));
    }
  });

  it('returns an independent copy of the empty root', () => {
    const empty = new MerkleTree(new MapSubtreeStore(), 0);
    const r = empty.root();
    r.fill(0);
    expect(empty.root()).toEqual(EMPTY_ROOT);
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('MerkleTree cost and errors', () => {
  it('appends without reads and proves with O(log n) reads', () => {
    const n = 1000;
    const counting = new CountingStore(new MapSubtreeStore());
    const tree = new MerkleTree(counting, 0);
    for (const leaf of randomLeaves(n)) tree.append(leaf);
    expect(counting.gets).toBe(0);
    const log = Math.ceil(Math.log2(n)); // 10
    let worstInclusion = 0;
    let worstConsistency = 0;
    for (let i = 0; i < n; i++) {
      counting.gets = 0;
      tree.inclusionProof(i);
      worstInclusion = Math.max(worstInclusion, counting.gets);
      counting.gets = 0;
      tree.consistencyProof(i + 1);
      worstConsistency = Math.max(worstConsistency, counting.gets);
    }
    expect(worstInclusion).toBeLessThanOrEqual(2 * log);
    expect(worstConsistency).toBeLessThanOrEqual(log * log);
    counting.gets = 0;
    tree.root(777);
    expect(counting.gets).toBeLessThanOrEqual(log);
    counting.gets = 0;
    tree.root();
    expect(counting.gets).toBe(0);
    // Opening reads one subtree per set bit of the size (1000 = 0b1111101000).
    counting.gets = 0;
    new MerkleTree(counting, n);
    expect(counting.gets).toBe(6);
  });

  it('rejects bad arguments and a store that lacks a subtree', () => {
    const store = new MapSubtreeStore();
    const tree = new MerkleTree(store, 0);
    for (const leaf of randomLeaves(5)) tree.append(leaf);
    expect(() => tree.append(Buffer.alloc(31))).toThrow(/32 bytes/);
    expect(() => tree.root(6)).toThrow(RangeError);
    expect(() => tree.root(-1)).toThrow(RangeError);
    expect(() => tree.inclusionProof(5)).toThrow(/outside a tree of 5/);
    expect(() => tree.inclusionProof(0, 0)).toThrow(RangeError);
    expect(() => tree.inclusionProof(1.5)).toThrow(RangeError);
    expect(() => tree.consistencyProof(4, 3)).toThrow(RangeError);
    expect(() => tree.consistencyProof(1, 6)).toThrow(RangeError);
    expect(() => new MerkleTree(store, 1.5)).toThrow(RangeError);
    expect(() => new MerkleTree(store, 8)).toThrow(/level 3, index 0/);
    expect(() => new MerkleTree(new MapSubtreeStore(), 1)).toThrow(/no hash for level 0, index 0/);
  });

  it('leaves the tree intact when a store write fails', () => {
    const store = new MapSubtreeStore();
    const tree = new MerkleTree(store, 0);
    const leaves = randomLeaves(4);
    for (const l of leaves.slice(0, 3)) tree.append(l);
    const before = tree.root();
    const failing: SubtreeStore = {
      get: (level, index) => store.get(level, index),
      put: (level) => {
        if (level === 2) throw new Error('disk full');
      },
    };
    const shared = new MerkleTree(failing, 3);
    expect(() => shared.append(leaves[3] as Buffer)).toThrow('disk full');
    expect(shared.size).toBe(3);
    expect(shared.root()).toEqual(before);
    tree.append(leaves[3] as Buffer);
    expect(tree.root()).not.toEqual(before);
  });

  it('hands out copies, so callers cannot corrupt the tree', () => {
    const tree = new MerkleTree(new MapSubtreeStore(), 0);
    for (const l of randomLeaves(8)) tree.append(l);
    const root = tree.root();
    const proof = tree.inclusionProof(3);
    tree.root().fill(0);
    tree.root(4).fill(0);
    for (const p of tree.inclusionProof(3)) p.fill(0);
    expect(tree.root()).toEqual(root);
    expect(tree.inclusionProof(3)).toEqual(proof);
  });

  it('keeps appended leaves independent of the caller’s buffer', () => {
    const store = new MapSubtreeStore();
    const tree = new MerkleTree(store, 0);
    const leaf = leafHash(Buffer.from('entry'));
    const copy = Buffer.from(leaf);
    tree.append(leaf);
    leaf.fill(0);
    expect(tree.root()).toEqual(copy);
    expect(store.get(0, 0)).toEqual(copy);
  });
});

describe('CompactRange', () => {
  it('equals the MerkleTree root at every size', () => {
    const store = new MapSubtreeStore();
    const tree = new MerkleTree(store, 0);
    const range = new CompactRange();
    expect(range.root()).toEqual(EMPTY_ROOT);
    for (const leaf of randomLeaves(1100)) {
      tree.append(leaf);
      range.append(leaf);
      expect(range.size).toBe(tree.size);
      if (tree.size <= 70 || tree.size % 97 === 0 || tree.size === 1024 || tree.size === 1100) {
        expect(range.root()).toEqual(tree.root());
      }
    }
  });

  it('accepts plain Uint8Array leaves and rejects wrong lengths', () => {
    const leaves = randomLeaves(3);
    const range = new CompactRange();
    for (const l of leaves) range.append(new Uint8Array(l));
    const tree = new MerkleTree(new MapSubtreeStore(), 0);
    for (const l of leaves) tree.append(l);
    expect(range.root()).toEqual(tree.root());
    expect(() => range.append(new Uint8Array(33))).toThrow(/32 bytes/);
  });
});
