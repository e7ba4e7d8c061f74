// The first `size` leaves of the audit log as an in-memory tree: a report needs thousands of
// inclusion proofs, and one pass over the leaf hashes beats O(log n) row reads per proof.
import type { AuditLog } from '../audit/log.ts';
import { nodeHash } from '../audit/tlog/hash.ts';
import { MerkleTree, type SubtreeStore } from '../audit/tlog/tree.ts';

/** Every complete subtree's hash: levels[L][i] covers leaves [i * 2^L, (i + 1) * 2^L). */
export function treeLevels(audit: AuditLog, size: number): Buffer[][] {
  const leaves = audit.leafHashes(size);
  if (leaves.length !== size) throw new Error(`the audit log has ${leaves.length} leaves where ${size} were expected`);
  return levelsOf(leaves);
}

/** The complete subtrees over `leaves` (leaf hashes, in order). */
export function levelsOf(leaves: Buffer[]): Buffer[][] {
  const levels: Buffer[][] = [leaves];
  for (let l = 0; levels[l]!.length > 1; l++) {
    const below = levels[l]!;
    const up: Buffer[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(up);
  }
  return levels;
}

/** A tree over levels from treeLevels(). */
export function levelsTree(levels: readonly Buffer[][], size: number): MerkleTree {
  const store: SubtreeStore = { get: (level, index) => levels[level]?.[index], put: () => undefined };
  return new MerkleTree(store, size);
}

export function memoryTree(audit: AuditLog, size: number): MerkleTree {
  return levelsTree(treeLevels(audit, size), size);
}
