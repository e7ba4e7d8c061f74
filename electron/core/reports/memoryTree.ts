// The first `size` leaves of the audit log as an in-memory tree: a report needs thousands of
// inclusion proofs, and one pass over the leaf hashes beats O(log n) row reads per proof.
import type { AuditLog } from '../audit/log.ts';
import { nodeHash } from '../audit/tlog/hash.ts';
import { MerkleTree, type SubtreeStore } from '../audit/tlog/tree.ts';

export function memoryTree(audit: AuditLog, size: number): MerkleTree {
  const leaves = audit.leafHashes(size);
  const levels: Buffer[][] = [leaves];
  if (leaves.length !== size) throw new Error(`the audit log has ${leaves.length} leaves where ${size} were expected`);
  for (let l = 0; levels[l]!.length > 1; l++) {
    const below = levels[l]!;
    const up: Buffer[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(up);
  }
  const store: SubtreeStore = { get: (level, index) => levels[level]?.[index], put: () => undefined };
  return new MerkleTree(store, size);
}
