// Verification of RFC 6962 / RFC 9162 inclusion and consistency proofs.
//
// Semantics follow transparency-dev/merkle's verifier, which the vectors in
// testdata/merkle encode: every hash must be exactly 32 bytes; a proof must
// have exactly the number of hashes the tree shape implies; equal sizes need
// an empty proof and equal roots; a consistency proof from size 0 is refused.
//
// The proof is split by tree shape (RFC 9162 §2.1.3.2 and §2.1.4.2 compute the
// same result bit by bit): the "inner" part runs from the leaf up to the level
// where its path meets the path of the tree's last leaf, where siblings sit on
// either side; above that the path follows the right border of the tree, where
// every sibling is a complete subtree on the left (one per set bit of the
// remaining index). Sizes are plain numbers, so arithmetic stays exact below
// 2^53 and no 32-bit bit operators are used.
import { HASH_SIZE, nodeHash } from './hash.ts';

export class ProofError extends Error {
  override name = 'ProofError';
}

const half = (x: number): number => Math.floor(x / 2);
const isOdd = (x: number): boolean => x % 2 === 1;

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ProofError(`${what} must be an integer from 0 to 2^53-1, got ${n}`);
}

function checkHash(h: Uint8Array, what: string): void {
  if (h.length !== HASH_SIZE) throw new ProofError(`${what} is ${h.length} bytes long; a SHA-256 hash is ${HASH_SIZE}`);
}

function checkProofHashes(proof: readonly Uint8Array[]): void {
  for (const [i, p] of proof.entries()) checkHash(p, `proof hash ${i}`);
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** Number of levels climbed from leaves a and b until their paths meet (bit length of a XOR b). */
function levelsToJoin(a: number, b: number): number {
  let levels = 0;
  for (; a !== b; levels++) {
    a = half(a);
    b = half(b);
  }
  return levels;
}

function popcount(x: number): number {
  let n = 0;
  for (; x > 0; x = half(x)) if (isOdd(x)) n++;
  return n;
}

/** x >> n for non-negative integers up to 2^53. */
const shiftRight = (x: number, n: number): number => Math.floor(x / 2 ** n);

/**
 * Checks that `leafHash` is the leaf at `leafIndex` of the tree of `treeSize`
 * leaves whose root is `root`. Throws ProofError otherwise.
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkCount(leafIndex, 'leaf index');
  checkCount(treeSize, 'tree size');
  if (leafIndex >= treeSize) throw new ProofError(`leaf index ${leafIndex} is outside a tree of ${treeSize} leaves`);
  checkHash(leafHash, 'leaf hash');
  checkHash(root, 'root hash');
  checkProofHashes(proof);

  const inner = levelsToJoin(leafIndex, treeSize - 1);
  const border = popcount(shiftRight(leafIndex, inner));
  if (proof.length !== inner + border) {
    throw new ProofError(
      `inclusion proof has ${proof.length} hashes, but leaf ${leafIndex} of a tree of ${treeSize} needs exactly ${inner + border}`,
    );
  }
  let h = leafHash;
  let index = leafIndex;
  for (const [i, p] of proof.entries()) {
    if (i >= inner || isOdd(index)) h = nodeHash(p, h);
    else h = nodeHash(h, p);
    index = half(index);
  }
  if (!sameBytes(h, root)) {
    throw new ProofError(`inclusion proof for leaf ${leafIndex} does not lead to the given root of the tree of ${treeSize}`);
  }
}

/**
 * Checks that the tree of `size2` leaves with root `root2` extends the tree of
 * `size1` leaves with root `root1`. Throws ProofError otherwise. Size 0 is
 * refused here (as in the test vectors); a caller that accepts the empty tree
 * as a starting point must check it itself (its root must be EMPTY_ROOT).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkCount(size1, 'old tree size');
  checkCount(size2, 'new tree size');
  if (size2 < size1) throw new ProofError(`new tree size ${size2} is smaller than old tree size ${size1}`);
  if (size1 === 0) throw new ProofError('a consistency proof from the empty tree (size 0) is meaningless');
  if (size1 === size2) {
    if (proof.length > 0) throw new ProofError(`tree sizes are equal (${size1}), so the proof must be empty, but it has ${proof.length} hashes`);
    if (!sameBytes(root1, root2)) throw new ProofError(`tree sizes are equal (${size1}) but the roots differ`);
    return;
  }
  checkHash(root1, 'old root hash');
  checkHash(root2, 'new root hash');
  checkProofHashes(proof);

  // The old tree's rightmost complete subtree (size1's lowest set bit) is
  // shared by both trees; its hash seeds both root computations. It is the
  // whole old tree, i.e. root1, when size1 is a power of two; otherwise it is
  // the proof's first hash.
  let level = 0;
  for (let s = size1; !isOdd(s); s = half(s)) level++;
  const seedIndex = shiftRight(size1 - 1, level);
  const inner = levelsToJoin(seedIndex, shiftRight(size2 - 1, level));
  const border = popcount(shiftRight(seedIndex, inner));
  const start = seedIndex === 0 ? 0 : 1;
  if (proof.length !== start + inner + border) {
    throw new ProofError(
      `consistency proof has ${proof.length} hashes, but sizes ${size1} to ${size2} need exactly ${start + inner + border}`,
    );
  }
  const seed = start === 0 ? root1 : proof[0];
  if (seed === undefined) throw new ProofError('consistency proof is empty');
  let h1 = seed;
  let h2 = seed;
  let index = seedIndex;
  for (const [i, p] of proof.slice(start).entries()) {
    if (i >= inner || isOdd(index)) {
      h1 = nodeHash(p, h1);
      h2 = nodeHash(p, h2);
    } else {
      // A right sibling exists only in the new tree.
      h2 = nodeHash(h2, p);
    }
    index = half(index);
  }
  if (!sameBytes(h1, root1)) throw new ProofError(`consistency proof does not lead to the old root (size ${size1})`);
  if (!sameBytes(h2, root2)) throw new ProofError(`consistency proof does not lead to the new root (size ${size2})`);
}
