// Proofs anyone can check with their own tools: a C2SP tlog-proof for one entry against the
// newest signed checkpoint, consistency proofs between checkpoints, and the log's leaf inputs.
import { CustodyError } from '../../shared/errors.ts';
import type { Vault } from '../vault/vault.ts';
import { formatConsistencyProof, formatTlogProof } from './tlog/proof.ts';

/** A tlog-proof of entry `seq` against the newest checkpoint that covers it. */
export function inclusionProof(vault: Vault, seq: number): string {
  const cp = vault.checkpoints.latest();
  const size = vault.audit.size();
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= size) throw new CustodyError('NOT_FOUND', `no audit entry ${seq} (the log has ${size})`);
  if (!cp || cp.size <= seq) throw new CustodyError('CONFLICT', `entry ${seq} is newer than the last signed checkpoint; unlock the vault to sign one`);
  return formatTlogProof({ index: seq, proof: vault.audit.tree().inclusionProof(seq, cp.size), checkpoint: cp.note });
}

/** A consistency proof from the tree at `oldSize` to the newest checkpoint (or `newSize`). */
export function consistencyProof(vault: Vault, oldSize: number, newSize?: number): { proof: string; checkpoint: string } {
  const latest = vault.checkpoints.latest();
  if (!latest) throw new CustodyError('CONFLICT', 'the log has no signed checkpoint yet');
  const target = newSize === undefined ? latest : vault.checkpoints.all().find((c) => c.size === newSize);
  if (!target) throw new CustodyError('NOT_FOUND', `no signed checkpoint at size ${newSize}`);
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > target.size) throw new CustodyError('BAD_REQUEST', `the old size must be between 0 and ${target.size}`);
  const proof = oldSize === 0 ? [] : vault.audit.tree().consistencyProof(oldSize, target.size);
  return { proof: formatConsistencyProof({ oldSize, newSize: target.size, proof }), checkpoint: target.note };
}

/**
 * Every entry's canonical bytes, one per line, in log order (the leaves' input). A pruned
 * entry's line is `pruned <seq> <leaf hash hex>`: its body is gone, its hash still counts.
 */
export function* exportCanonical(vault: Vault, range: { from?: number; to?: number } = {}): Generator<string> {
  const rows = vault.db.sql
    .prepare('SELECT seq, entry, leaf_hash FROM audit_entry WHERE seq BETWEEN ? AND ? ORDER BY seq')
    .iterate(range.from ?? 0, range.to ?? Number.MAX_SAFE_INTEGER) as IterableIterator<{ seq: number; entry: string | null; leaf_hash: Buffer }>;
  for (const r of rows) yield r.entry ?? `pruned ${r.seq} ${r.leaf_hash.toString('hex')}`;
}
