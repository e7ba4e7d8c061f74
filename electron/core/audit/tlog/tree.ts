// An RFC 6962 Merkle tree over persisted complete-subtree hashes, and a
// streaming CompactRange that computes a root in O(log n) memory.
//
// Addressing: (level L, index i) is the complete subtree over leaves
// [i·2^L, (i+1)·2^L); level 0 holds the leaf hashes. Every node of the RFC's
// recursive definition is either such a complete subtree (stored) or the
// rightmost, incomplete node of its level, whose hash is folded from the
// complete subtrees that tile it. So roots and proofs never rehash the log:
// O(log n) reads for a root or an inclusion proof, O(log² n) at worst for a
// consistency proof. Sizes are plain numbers (exact below 2^53); no 32-bit
// bit operators are used.
import { hash } from 'node:crypto';
import { EMPTY_ROOT, HASH_SIZE, NODE_PREFIX, nodeHash } from './hash.ts';

export interface SubtreeStore {
  get(level: number, index: number): Buffer | undefined;
  put(level: number, index: number, hash: Buffer): void;
}

/** In-memory SubtreeStore, for tests and for building a tree in one go. */
export class MapSubtreeStore implements SubtreeStore {
  private readonly levels: Map<number, Buffer>[] = [];

  get(level: number, index: number): Buffer | undefined {
    return this.levels[level]?.get(index);
  }

  put(level: number, index: number, h: Buffer): void {
    let nodes = this.levels[level];
    if (!nodes) {
      nodes = new Map();
      this.levels[level] = nodes;
    }
    nodes.set(index, h);
  }
}

const half = (x: number): number => Math.floor(x / 2);
const isOdd = (x: number): boolean => x % 2 === 1;

/** Largest power of two strictly below n (n ≥ 2): the RFC's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Largest power of two at most n (n ≥ 1), with its exponent. */
function largestPiece(n: number): { size: number; level: number } {
  let size = 1;
  let level = 0;
  while (size * 2 <= n) {
    size *= 2;
    level++;
  }
  return { size, level };
}

function checkLeafHash(h: Uint8Array): void {
  if (h.length !== HASH_SIZE) throw new RangeError(`a leaf hash must be ${HASH_SIZE} bytes, got ${h.length}`);
}

export class MerkleTree {
  private treeSize: number;
  // frontier[L] is the complete subtree at level L in the decomposition of
  // the current size (present exactly for the set bits of size): the left
  // siblings an append may need, kept in memory so append never reads.
  private readonly frontier: (Buffer | undefined)[] = [];

  /** Opens a tree of `size` leaves whose complete subtrees are in `store`. */
  constructor(
    private readonly store: SubtreeStore,
    size: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`tree size must be a non-negative integer, got ${size}`);
    this.treeSize = size;
    let start = 0;
    for (let rest = size; rest > 0; ) {
      const piece = largestPiece(rest);
      this.frontier[piece.level] = this.subtree(piece.level, start / piece.size);
      start += piece.size;
      rest -= piece.size;
    }
  }

  get size(): number {
    return this.treeSize;
  }

  /**
   * Appends one leaf hash, storing it and every parent subtree it completes.
   * If the store throws, the tree is unchanged in memory (the caller rolls
   * back whatever the store had written in its transaction).
   */
  append(leafHash: Buffer): void {
    checkLeafHash(leafHash);
    let h: Buffer = Buffer.from(leafHash);
    let index = this.treeSize;
    let level = 0;
    this.store.put(0, index, h);
    for (; isOdd(index); level++) {
      const left = this.frontier[level];
      if (!left) throw new Error(`internal error: no frontier subtree at level ${level}`);
      h = nodeHash(left, h);
      index = half(index);
      this.store.put(level + 1, index, h);
    }
    this.frontier.fill(undefined, 0, level);
    this.frontier[level] = h;
    this.treeSize++;
  }

  /** Root hash of the tree at `size` (default: the current size). */
  root(size: number = this.treeSize): Buffer {
    this.checkSize(size, 'size');
    if (size === 0) return Buffer.from(EMPTY_ROOT);
    if (size !== this.treeSize) return this.rangeHash(0, size);
    let h: Buffer | undefined;
    for (const piece of this.frontier) {
      if (piece) h = h ? nodeHash(piece, h) : Buffer.from(piece);
    }
    if (!h) throw new Error('internal error: empty frontier for a non-empty tree');
    return h;
  }

  /** RFC 9162 §2.1.3.1 inclusion proof (PATH) of leaf `index` in the tree at `size`. */
  inclusionProof(index: number, size: number = this.treeSize): Buffer[] {
    this.checkSize(size, 'size');
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`leaf index ${index} is outside a tree of ${size} leaves`);
    }
    // Walk down from the root; the sibling found at each split is appended,
    // so the list is top-down and reversed at the end (leaf's sibling first).
    const proof: Buffer[] = [];
    let begin = 0;
    let end = size;
    while (end - begin > 1) {
      const k = splitPoint(end - begin);
      if (index < begin + k) {
        proof.push(this.rangeHash(begin + k, end));
        end = begin + k;
      } else {
        proof.push(this.rangeHash(begin, begin + k));
        begin += k;
      }
    }
    return proof.reverse();
  }

  /**
   * RFC 9162 §2.1.4.1 consistency proof (PROOF / SUBPROOF) from the tree at
   * `size1` to the tree at `size2` (default: current size). Empty when size1
   * is 0 or equals size2.
   */
  consistencyProof(size1: number, size2: number = this.treeSize): Buffer[] {
    this.checkSize(size2, 'size2');
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
      throw new RangeError(`old size ${size1} must be an integer from 0 to the new size ${size2}`);
    }
    if (size1 === 0 || size1 === size2) return [];
    // Iterative SUBPROOF(m, D[begin:end], b): each step appends one subtree
    // hash after the recursive part, so collect top-down and reverse.
    const proof: Buffer[] = [];
    let begin = 0;
    let end = size2;
    let m = size1;
    let oldIsWholeSubtree = true; // the RFC's flag b
    while (m !== end - begin) {
      const k = splitPoint(end - begin);
      if (m <= k) {
        proof.push(this.rangeHash(begin + k, end));
        end = begin + k;
      } else {
        proof.push(this.rangeHash(begin, begin + k));
        begin += k;
        m -= k;
        oldIsWholeSubtree = false;
      }
    }
    if (!oldIsWholeSubtree) proof.push(this.rangeHash(begin, end));
    return proof.reverse();
  }

  private checkSize(size: number, what: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.treeSize) {
      throw new RangeError(`${what} ${size} must be an integer from 0 to the tree size ${this.treeSize}`);
    }
  }

  /** A copy of a stored subtree hash, so callers cannot alter the store's buffers. */
  private subtree(level: number, index: number): Buffer {
    const h = this.store.get(level, index);
    if (!h) throw new Error(`subtree store has no hash for level ${level}, index ${index}`);
    if (h.length !== HASH_SIZE) throw new Error(`subtree store hash for level ${level}, index ${index} is ${h.length} bytes`);
    return Buffer.from(h);
  }

  /**
   * MTH of leaves [begin, end), where begin is a multiple of the smallest
   * power of two ≥ end - begin (true of every node in the RFC recursion):
   * the right fold of the complete subtrees that tile the range, largest first.
   */
  private rangeHash(begin: number, end: number): Buffer {
    const pieces: Buffer[] = [];
    for (let start = begin; start < end; ) {
      const piece = largestPiece(end - start);
      pieces.push(this.subtree(piece.level, start / piece.size));
      start += piece.size;
    }
    let h = pieces.pop();
    if (!h) throw new Error('internal error: empty range');
    for (let left = pieces.pop(); left; left = pieces.pop()) h = nodeHash(left, h);
    return h;
  }
}

/**
 * Streaming root computation in O(log n) memory: append leaf hashes in order,
 * read root() at any point. Used to recompute a whole log's root in one pass.
 *
 * Hot path: it repeats nodeHash's construction (0x01 || left || right) on its
 * own scratch buffer and keeps hashes as 32-char latin1 strings ('binary' is
 * node's name for latin1 digests), because node:crypto returns a string digest
 * several times faster than a Buffer (measured: about half the cost per node
 * of the Buffer-based version).
 */
export class CompactRange {
  private count = 0;
  // frontier[L] is meaningful when bit L of count is set: the complete
  // subtree at level L of the current decomposition.
  private readonly frontier: string[] = [];
  private readonly scratch = Buffer.alloc(1 + 2 * HASH_SIZE);

  constructor() {
    this.scratch[0] = NODE_PREFIX;
  }

  get size(): number {
    return this.count;
  }

  append(leafHash: Uint8Array): void {
    checkLeafHash(leafHash);
    let index = this.count;
    this.count++;
    if (!isOdd(index)) {
      this.frontier[0] = latin1(leafHash);
      return;
    }
    const s = this.scratch;
    s.write(this.level(0), 1, 'latin1');
    s.set(leafHash, 1 + HASH_SIZE);
    let h = hash('sha256', s, 'binary');
    let level = 1;
    for (index = half(index); isOdd(index); index = half(index), level++) {
      s.write(this.level(level), 1, 'latin1');
      s.write(h, 1 + HASH_SIZE, 'latin1');
      h = hash('sha256', s, 'binary');
    }
    this.frontier[level] = h;
  }

  root(): Buffer {
    let h: Buffer | undefined;
    for (let level = 0, rest = this.count; rest > 0; level++, rest = half(rest)) {
      if (!isOdd(rest)) continue;
      const piece = Buffer.from(this.level(level), 'latin1');
      h = h ? nodeHash(piece, h) : piece;
    }
    return h ?? Buffer.from(EMPTY_ROOT);
  }

  private level(level: number): string {
    const h = this.frontier[level];
    if (h === undefined) throw new Error(`internal error: no subtree at level ${level}`);
    return h;
  }
}

function latin1(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1');
}
