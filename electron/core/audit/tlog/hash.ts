// RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing: leaf = SHA-256(0x00 || data),
// node = SHA-256(0x01 || left || right), empty tree = SHA-256("").
//
// Speed notes (measured on Node 20): one `crypto.hash` call over a reused
// input buffer is cheaper than `createHash().update().update().digest()`, and
// a latin1 ('binary') string digest is several times cheaper than a Buffer
// digest, whose per-call allocation dominates a short hash. Turning that
// string into a (pool-allocated) Buffer still costs less than the Buffer
// digest, so these functions do that; CompactRange (tree.ts) stays with
// strings on its hot path.
import { createHash, hash } from 'node:crypto';

export const HASH_SIZE = 32;

/** MTH({}) = SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Buffer = hash('sha256', new Uint8Array(0), 'buffer');

const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

// Leaves larger than this are hashed with two updates instead of being copied
// into the scratch buffer, so a single huge leaf does not pin a huge buffer.
const SCRATCH_LIMIT = 64 * 1024;
let leafScratch = Buffer.allocUnsafe(1024);
const nodeScratch = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
nodeScratch[0] = NODE_PREFIX;

/** Returns 0x00 || data in the reused scratch buffer, or undefined if too large. */
function prefixedLeaf(data: Uint8Array): Uint8Array | undefined {
  const needed = data.length + 1;
  if (needed > SCRATCH_LIMIT) return undefined;
  if (needed > leafScratch.length) leafScratch = Buffer.allocUnsafe(Math.min(SCRATCH_LIMIT, needed * 2));
  leafScratch[0] = LEAF_PREFIX;
  leafScratch.set(data, 1);
  // A plain Uint8Array view is cheaper to create than Buffer#subarray.
  return new Uint8Array(leafScratch.buffer, leafScratch.byteOffset, needed);
}

function checkHash(h: Uint8Array, what: string): void {
  if (h.length !== HASH_SIZE) throw new RangeError(`${what} must be a ${HASH_SIZE}-byte hash, got ${h.length} bytes`);
}

/** RFC 6962 leaf hash of one entry's bytes. */
export function leafHash(data: Uint8Array): Buffer {
  const input = prefixedLeaf(data);
  if (input) return Buffer.from(hash('sha256', input, 'binary'), 'latin1');
  return createHash('sha256').update(Uint8Array.of(LEAF_PREFIX)).update(data).digest();
}

/** leafHash of a string's UTF-8 bytes, encoded straight into the scratch buffer (no copy). */
export function leafHashOfText(text: string): Buffer {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 + 1 > SCRATCH_LIMIT) return leafHash(Buffer.from(text, 'utf8'));
  if (text.length * 3 + 1 > leafScratch.length) leafScratch = Buffer.allocUnsafe(Math.min(SCRATCH_LIMIT, (text.length * 3 + 1) * 2));
  leafScratch[0] = LEAF_PREFIX;
  const n = leafScratch.write(text, 1, 'utf8');
  return Buffer.from(hash('sha256', new Uint8Array(leafScratch.buffer, leafScratch.byteOffset, n + 1), 'binary'), 'latin1');
}

/** RFC 6962 interior node hash of two 32-byte child hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  checkHash(left, 'left child');
  checkHash(right, 'right child');
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return Buffer.from(hash('sha256', nodeScratch, 'binary'), 'latin1');
}
