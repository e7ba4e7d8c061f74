// `custody keys rotate vault-key`: a new vault key. What the old one wraps (rewrap.ts) is
// re-wrapped in ONE transaction; the password and recovery wrappings in vault.json are
// replaced; nothing bulk is re-encrypted (records and attachments hang off epoch keys).
//
// Crash safety, two files changed as one: the new header is first written beside the old
// (vault.json.next); the database transaction then re-wraps everything and stores the digest
// of that file; then the file is renamed over vault.json. At any kill the next open settles it
// (header.ts, settlePendingHeader): the new header is kept exactly when the database
// committed, so the old key or the new one works, never neither.
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { CustodyError } from '../../shared/errors.ts';
import { seal } from '../crypto/aead.ts';
import { keyFingerprint, keyMaterial, randomKey, wipe } from '../crypto/keys.ts';
import { formatRecoveryKey, parseRecoveryKey } from '../crypto/recoveryKey.ts';
import { target } from '../audit/entry.ts';
import { fsyncDir, writeFileAtomic } from '../util/atomicFile.ts';
import { uuidv7 } from '../util/ids.ts';
import { HEADER_FILE, headerDigest, headerText, PENDING_HEADER_FILE, PENDING_HEADER_META } from '../vault/header.ts';
import { headerWrapping, unwrapVaultKey, type Vault } from '../vault/vault.ts';
import { faultPoint } from '../util/faults.ts';
import { keyAd, REWRAPS } from './rewrap.ts';
import { FOLLOW_META, followedVaultKey, markForPublication, pendingPublication } from './vaultKeyFollow.ts';
import { SyncState } from '../sync/client/state.ts';
import { deleteMetaValue, setMetaValue } from '../vault/meta.ts';

/** The fault points of a vault key rotation, in order (faults.ts). */
export const VAULT_KEY_STEPS = ['vault-key:checked', 'vault-key:next-header', 'vault-key:mid-transaction', 'vault-key:committed', 'vault-key:renamed'] as const;

export interface VaultKeyRotation {
  keyId: string;
  fingerprint: string;
  rewrapped: Record<string, number>;
  /** Set when a new recovery key was asked for: shown once, like at creation. */
  recoveryKey?: string;
}

/** The id the registry shows for a vault key that predates rotation (it has no row of its own). */
export const ORIGINAL_VAULT_KEY_ID = 'vault-key';

export async function rotateVaultKey(vault: Vault, opts: { password: string; recovery: { recoveryKey: string } | 'new' }): Promise<VaultKeyRotation> {
  const keys = vault.keys();
  const header = vault.header;
  const oldVk = keys.vaultKey;
  // Both secrets are checked against the key in use: the rotation must leave both working.
  await sameKey(followedVaultKey(vault, await unwrapVaultKey(header, { password: opts.password })), oldVk, 'WRONG_PASSWORD', 'the password does not open this vault');
  let recoveryRaw: Buffer;
  if (opts.recovery === 'new') recoveryRaw = randomKey();
  else {
    await sameKey(followedVaultKey(vault, await unwrapVaultKey(header, opts.recovery)), oldVk, 'WRONG_RECOVERY_KEY', 'the recovery key does not open this vault');
    recoveryRaw = keyMaterial(parseRecoveryKey(opts.recovery.recoveryKey));
  }
  const newVk = randomKey();
  const oldFingerprint = keyFingerprint(oldVk);
  const fingerprint = keyFingerprint(newVk);
  const keyId = uuidv7();
  try {
    faultPoint('vault-key:checked');
    const next = await headerWrapping(header, newVk, opts.password, recoveryRaw);
    const text = headerText(next);
    writeFileAtomic(join(vault.dir, PENDING_HEADER_FILE), text);
    faultPoint('vault-key:next-header');
    let rewrapped: Record<string, number> = {};
    try {
      await vault.db.writeSync(() => {
        const sql = vault.db.sql;
        const swap = swapVaultKeyRows(vault, oldVk, newVk, keyId, Date.parse(header.createdAt));
        rewrapped = swap.rewrapped;
        setMetaValue(sql, PENDING_HEADER_META, headerDigest(text));
        // The new header wraps the new key under both secrets: a rotation followed from another device (vaultKeyFollow.ts) is settled.
        deleteMetaValue(sql, FOLLOW_META);
        // On a synced vault the new key goes to the other devices at the next sync (vaultKeyEnvelopes.ts), retried until sent.
        // A rotation not yet sent is superseded: the other devices go from the key they hold straight to this one.
        if (new SyncState(vault).configured) markForPublication(sql, { keyId, previous: pendingPublication(sql)?.previous ?? oldFingerprint, replaces: swap.replaces });
        vault.audit.appendSync(vault.meta, [
          { event: 'key.rotated', target: target.key(keyId), details: { kind: 'vault_key', replaces: swap.replacesShown, fingerprint, previous: oldFingerprint, recoveryKey: opts.recovery === 'new' ? 'new' : 'kept', rewrapped: Object.values(rewrapped).reduce((a, b) => a + b, 0) } },
        ]);
      });
    } catch (e) {
      // Nothing committed: the pending header goes (the next open would remove it too).
      rmSync(join(vault.dir, PENDING_HEADER_FILE), { force: true });
      throw e;
    }
    faultPoint('vault-key:committed');
    try {
      renameSync(join(vault.dir, PENDING_HEADER_FILE), join(vault.dir, HEADER_FILE));
      fsyncDir(vault.dir);
    } catch (e) {
      // Another process opened the vault meanwhile and settled it the same way.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    faultPoint('vault-key:renamed');
    vault.adoptHeader(next);
    keys.replaceVaultKey(newVk);
    return { keyId, fingerprint, rewrapped, ...(opts.recovery === 'new' ? { recoveryKey: formatRecoveryKey(recoveryRaw) } : {}) };
  } finally {
    wipe(newVk, recoveryRaw);
  }
}

/**
 * Inside the caller's transaction: everything the old vault key wraps is re-wrapped by the new
 * one (REWRAPS), the old key is retired (kept, wrapped by the new one: the log's sealed openings
 * were made under it and cannot be re-made) and the new one registered as `keyId`. Shared by a
 * rotation made here and one followed from another device (vaultKeyEnvelopes.ts).
 */
export function swapVaultKeyRows(vault: Vault, oldVk: Buffer, newVk: Buffer, keyId: string, originalCreatedAt: number): { rewrapped: Record<string, number>; replaces: string; replacesShown: string } {
  const sql = vault.db.sql;
  const rewrapped: Record<string, number> = {};
  const previous = sql.prepare("SELECT id FROM key_registry WHERE kind = 'vault_key' AND status = 'active'").get() as { id: string } | undefined;
  const retiredId = previous?.id ?? uuidv7();
  for (const r of REWRAPS) rewrapped[r.what] = r.run(sql, vault.vaultId, oldVk, newVk);
  const now = Date.now();
  if (previous) sql.prepare("UPDATE key_registry SET status = 'retired', rotated_at = ?, wrapped = ? WHERE id = ?").run(now, seal(newVk, oldVk, keyAd(vault.vaultId, retiredId)), retiredId);
  const insert = sql.prepare('INSERT INTO key_registry (id, kind, algorithm, status, created_at, rotated_at, fingerprint, usage_count, wrapped, replaces) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)');
  if (!previous) insert.run(retiredId, 'vault_key', 'AES-256-GCM key wrap', 'retired', originalCreatedAt, now, keyFingerprint(oldVk), seal(newVk, oldVk, keyAd(vault.vaultId, retiredId)), null);
  insert.run(keyId, 'vault_key', 'AES-256-GCM key wrap', 'active', now, null, keyFingerprint(newVk), null, retiredId);
  return { rewrapped, replaces: retiredId, replacesShown: previous?.id ?? ORIGINAL_VAULT_KEY_ID };
}

async function sameKey(candidate: Buffer, current: Buffer, code: 'WRONG_PASSWORD' | 'WRONG_RECOVERY_KEY', message: string): Promise<void> {
  const same = candidate.length === current.length && timingSafeEqual(candidate, current);
  wipe(candidate);
  if (!same) throw new CustodyError(code, message);
}
