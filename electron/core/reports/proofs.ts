// A report's consistency proof, when the reader already holds an earlier checkpoint (the
// inclusion proofs, one per entry, are written by proofFile.ts).
import { CustodyError } from '../../shared/errors.ts';
import type { StoredCheckpoint } from '../audit/checkpoints.ts';
import { formatConsistencyProof } from '../audit/tlog/proof.ts';
import type { MerkleTree } from '../audit/tlog/tree.ts';
import type { Vault } from '../vault/vault.ts';

/**
 * consistency-proof.txt from `since` (a signed checkpoint of this vault the reader holds) to
 * `cp`. Refused if it does not verify with the vault's key, is newer than `cp`, or its root is
 * not this log's at its size (the log was rewritten since).
 */
export function consistencyProofFrom(vault: Vault, tree: MerkleTree, cp: StoredCheckpoint, since: string): string {
  let old;
  try {
    old = vault.checkpoints.open(since);
  } catch (e) {
    throw new CustodyError('BAD_REQUEST', `the earlier checkpoint does not verify with this vault's key: ${(e as Error).message}`);
  }
  if (old.size > cp.size) throw new CustodyError('BAD_REQUEST', 'the earlier checkpoint is newer than the log');
  if (old.size > 0 && !tree.root(old.size).equals(old.rootHash)) throw new CustodyError('TAMPERED', 'the earlier checkpoint does not match this log: it was rewritten since');
  return formatConsistencyProof({ oldSize: old.size, newSize: cp.size, proof: old.size === 0 ? [] : tree.consistencyProof(old.size, cp.size) });
}
