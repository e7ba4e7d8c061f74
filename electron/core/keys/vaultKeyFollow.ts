// The local side of a vault key rotation across the devices of a synced vault.
//
// A rotation made on another device reaches this one at a sync (vaultKeyEnvelopes.ts), when the
// password is not at hand: the database is re-wrapped to the new key at once (one transaction,
// vaultKeyRotation.ts swapVaultKeyRows), but vault.json still wraps the key it wrapped before.
// Until the next unlock, meta FOLLOW_META holds the new key sealed by that older key and the
// new recovery wrapping the rotating device sent. Unlock (password or recovery key) opens the
// header's key, then the new key from here, and re-writes vault.json with the new key under
// this device's password and that recovery wrapping (the pending-header protocol of header.ts),
// so each device keeps its own password while the recovery key follows the rotating device.
//
// PUBLISH_META: a rotation made here on a synced vault, not yet sent to the other devices
// (set in the rotation's own transaction, cleared once the envelopes are on the server).
import { join } from 'node:path';
import { renameSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { keyFingerprint, keyMaterial, randomKey, wipe } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import { fsyncDir, writeFileAtomic } from '../util/atomicFile.ts';
import { HEADER_FILE, headerDigest, headerText, PENDING_HEADER_FILE, PENDING_HEADER_META } from '../vault/header.ts';
import { headerWrapping, type Vault } from '../vault/vault.ts';
import { deleteMetaValue, metaValue, setMetaValue } from '../vault/meta.ts';

export const FOLLOW_META = 'vault_key_followed';
export const PUBLISH_META = 'vault_key_publish';

interface Followed {
  keyId: string;
  /** Fingerprint of the key vault.json wraps. */
  from: string;
  /** Fingerprint of the key the database is under. */
  fingerprint: string;
  sealed: string;
  recovery: string;
}

export interface PendingPublication {
  keyId: string;
  previous: string;
  replaces: string;
}

const followAd = (vaultId: string, keyId: string) => ad('vault-key-followed', vaultId, keyId);
const upsert = setMetaValue;

function metaJson<T>(sql: Database.Database, key: string): T | null {
  const value = metaValue(sql, key);
  if (value === undefined) return null;
  try {
    return JSON.parse(value) as T;
  } catch {
    throw new CustodyError('VAULT_CORRUPT', `the vault's ${key} entry is damaged`);
  }
}

export const readFollowed = (sql: Database.Database) => metaJson<Followed>(sql, FOLLOW_META);
export const pendingPublication = (sql: Database.Database) => metaJson<PendingPublication>(sql, PUBLISH_META);

export function markForPublication(sql: Database.Database, p: PendingPublication): void {
  upsert(sql, PUBLISH_META, JSON.stringify(p));
}

export function clearPublication(sql: Database.Database, keyId: string): void {
  if (pendingPublication(sql)?.keyId === keyId) deleteMetaValue(sql, PUBLISH_META);
}

/**
 * Inside the follow transaction: remembers the new key for vault.json, sealed by the key the
 * header wraps (`headerVk`: the previous key, or an older one when a rotation followed earlier
 * is not yet settled by an unlock).
 */
export function recordFollowed(sql: Database.Database, vaultId: string, headerVk: Buffer, newVk: Buffer, keyId: string, recovery: string): void {
  const f: Followed = { keyId, from: keyFingerprint(headerVk), fingerprint: keyFingerprint(newVk), sealed: seal(headerVk, newVk, followAd(vaultId, keyId)).toString('base64'), recovery };
  upsert(sql, FOLLOW_META, JSON.stringify(f));
}

/** The key vault.json wraps, among those this unlocked device holds (for recordFollowed). */
export function headerVaultKey(sql: Database.Database, held: readonly Buffer[]): Buffer {
  const f = readFollowed(sql);
  if (!f) return held[0]!;
  const k = held.find((x) => keyFingerprint(x) === f.from);
  if (!k) throw new CustodyError('VAULT_CORRUPT', 'the vault key vault.json wraps is not among the keys this device holds');
  return k;
}

/**
 * At unlock: the key vault.json gave (`vk`, owned) or, after a rotation followed from another
 * device and not yet settled, the new key it leads to. A header already re-written gives the
 * new key itself.
 */
export function followedVaultKey(vault: Vault, vk: Buffer): Buffer {
  let f: Followed | null;
  try {
    f = readFollowed(vault.db.sql);
    if (!f) return vk;
    const fp = keyFingerprint(vk);
    if (fp === f.fingerprint) return vk;
    if (fp !== f.from) throw new CustodyError('VAULT_CORRUPT', 'vault.json wraps a vault key this database does not lead from: the vault folder was changed');
    const next = keyMaterial(open(vk, Buffer.from(f.sealed, 'base64'), followAd(vault.vaultId, f.keyId), 'the followed vault key'));
    wipe(vk);
    return next;
  } catch (e) {
    wipe(vk);
    throw e;
  }
}

/**
 * After an unlock that went through a followed rotation: vault.json wraps the new key under
 * `password` and the rotating device's recovery wrapping. Crash-safe as a rotation: the new
 * header is written beside, committed by digest with the meta entry's removal, then renamed.
 * A failure leaves things as they were (the next unlock tries again).
 */
export async function settleFollowedRotation(vault: Vault, password: string): Promise<boolean> {
  const f = readFollowed(vault.db.sql);
  if (!f) return false;
  const vk = vault.keys().vaultKey;
  if (keyFingerprint(vk) !== f.fingerprint) return false;
  // headerWrapping makes both wrappings; the recovery one is then the rotating device's (it binds
  // only the vault's identity, the same on every device).
  const throwaway = randomKey();
  let next;
  try {
    next = await headerWrapping(vault.header, vk, password, throwaway);
  } finally {
    wipe(throwaway);
  }
  next = { ...next, wrappedVaultKey: { password: next.wrappedVaultKey.password, recovery: f.recovery } };
  const text = headerText(next);
  const pending = join(vault.dir, PENDING_HEADER_FILE);
  writeFileAtomic(pending, text);
  try {
    await vault.db.writeSync(() => {
      const sql = vault.db.sql;
      upsert(sql, PENDING_HEADER_META, headerDigest(text));
      deleteMetaValue(sql, FOLLOW_META);
      vault.audit.appendSync(vault.meta, [{ event: 'settings.changed', target: target.vault(vault.vaultId), details: { changed: ['vault.json'], reason: 'vault key rotation followed from another device', keyId: f.keyId } }]);
    });
  } catch (e) {
    rmSync(pending, { force: true });
    throw e;
  }
  try {
    renameSync(pending, join(vault.dir, HEADER_FILE));
    fsyncDir(vault.dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  vault.adoptHeader(next);
  return true;
}
