// Retention: entry bodies older than the policy are removed, their leaf hashes kept, so the
// tree and every old checkpoint still verify; the run is itself an audit entry.
import { CustodyError } from '../../shared/errors.ts';
import type { Vault } from '../vault/vault.ts';

export async function pruneAuditBodies(vault: Vault, opts: { olderThanDays?: number; now?: Date } = {}): Promise<{ pruned: number; before: string }> {
  vault.keys();
  const days = opts.olderThanDays ?? vault.meta.retentionDays;
  if (!Number.isInteger(days) || days < 1) throw new CustodyError('BAD_REQUEST', 'retention must be a whole number of days, at least 1');
  const now = opts.now ?? new Date();
  const cutoff = now.getTime() - days * 86_400_000;
  const before = new Date(cutoff).toISOString();
  let pruned = 0;
  await vault.db.writeSync(() => {
    // Event and time stay (statistics still count them); who and what go with the body.
    pruned = vault.db.sql
      .prepare("UPDATE audit_entry SET entry = NULL, actor = '', target = NULL, pruned_at = ? WHERE time < ? AND entry IS NOT NULL")
      .run(now.getTime(), cutoff).changes;
    vault.audit.appendSync(vault.meta, [{ event: 'retention.run', details: { pruned, before, policyDays: days } }], now);
  });
  return { pruned, before };
}

/** Sets how long entry bodies are kept (days); the change is itself audited. */
export async function setRetentionPolicy(vault: Vault, days: number): Promise<void> {
  vault.keys();
  if (!Number.isInteger(days) || days < 1 || days > 100 * 365) throw new CustodyError('BAD_REQUEST', 'retention must be a whole number of days between 1 and 36500');
  const before = vault.meta.retentionDays;
  await vault.db.writeSync(() => {
    vault.db.sql.prepare("INSERT INTO meta (key, value) VALUES ('retentionDays', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(String(days));
    vault.audit.appendSync(vault.meta, [{ event: 'settings.changed', details: { changed: ['retentionDays'], retentionDays: days, previous: before } }]);
  });
  vault.setMeta({ retentionDays: days });
}
