// The first `size` leaves of the audit log as an in-memory tree: a report needs thousands of
// inclusion proofs, and one pass over the leaf hashes beats O(log n) row reads per proof.
import type Database from 'better-sqlite3';
import { nodeHash } from '../audit/tlog/hash.ts';
import { MerkleTree, type SubtreeStore } from '../audit/tlog/tree.ts';

export function memoryTree(db: Database.Database, size: number): MerkleTree {
  const levels: Buffer[][] = [[]];
  const leaves = levels[0]!;
  for (const r of db.prepare('SELECT leaf_hash FROM audit_entry WHERE seq < ? ORDER BY seq').raw().iterate(size) as IterableIterator<[Buffer]>) leaves.push(r[0]);
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
