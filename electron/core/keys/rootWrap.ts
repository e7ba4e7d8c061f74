// How an epoch root is wrapped by the vault key. The wrap's associated data binds the vault,
// the key id AND the days the root serves (from_day, until_day), because which root serves a
// day is chosen from those days (Keyring.epochKey): a folder writer or a sync server that moves
// a root's days breaks its wrap, and the vault refuses it. Every write of a root's days re-wraps
// it (rotation, record-keys progress, sync import, vault key rotation).
//
// Vaults released as 0.1.0 wrapped their one root (no days) with vault id and key id only; that
// legacy form is accepted only for a root whose both days are null, and unlock re-wraps it.
import type Database from 'better-sqlite3';
import { ad, open, seal } from '../crypto/aead.ts';
import { keyMaterial, wipe } from '../crypto/keys.ts';
import { CustodyError } from '../../shared/errors.ts';

/** Stands for an unbounded side (null); never a valid day (YYYY-MM-DD). */
const OPEN_END = '-';

export const rootAd = (vaultId: string, keyId: string, fromDay: string | null, untilDay: string | null) => ad('epoch-root', vaultId, keyId, fromDay ?? OPEN_END, untilDay ?? OPEN_END);
const legacyAd = (vaultId: string, keyId: string) => ad('key', vaultId, keyId);

export interface RootDays {
  id: string;
  fromDay: string | null;
  untilDay: string | null;
}

export function sealRoot(vk: Buffer, vaultId: string, r: RootDays, root: Buffer): Buffer<ArrayBuffer> {
  return seal(vk, root, rootAd(vaultId, r.id, r.fromDay, r.untilDay));
}

/**
 * Opens a root wrapped for the days it claims. `legacy` says it opened only in the 0.1.0 form
 * (allowed for a root without days), so the caller re-wraps it. Throws TAMPERED otherwise.
 */
export function openRoot(vk: Buffer, vaultId: string, r: RootDays, wrapped: Uint8Array, where = 'the key registry'): { root: Buffer; legacy: boolean } {
  try {
    return { root: keyMaterial(open(vk, Buffer.from(wrapped), rootAd(vaultId, r.id, r.fromDay, r.untilDay))), legacy: false };
  } catch {
    if (r.fromDay === null && r.untilDay === null) {
      try {
        return { root: keyMaterial(open(vk, Buffer.from(wrapped), legacyAd(vaultId, r.id))), legacy: true };
      } catch {
        // falls through to the refusal
      }
    }
  }
  throw new CustodyError('TAMPERED', `the epoch root ${r.id} in ${where} does not open for the days it claims to serve (${r.fromDay ?? 'unbounded'}..${r.untilDay ?? 'unbounded'}): its days were changed or it was not made with this vault key`);
}

/**
 * Moves a root's days in key_registry and re-wraps it for them, inside the caller's transaction.
 * The root is opened for its current days first, so a tampered row is refused, not laundered.
 */
export function setRootDays(sql: Database.Database, vk: Buffer, vaultId: string, id: string, fromDay: string | null, untilDay: string | null): void {
  const row = sql.prepare("SELECT from_day AS fromDay, until_day AS untilDay, wrapped FROM key_registry WHERE id = ? AND kind = 'epoch_root'").get(id) as { fromDay: string | null; untilDay: string | null; wrapped: Buffer } | undefined;
  if (!row) throw new CustodyError('NOT_FOUND', `no epoch root ${id}`);
  const { root } = openRoot(vk, vaultId, { id, fromDay: row.fromDay, untilDay: row.untilDay }, row.wrapped);
  try {
    sql.prepare('UPDATE key_registry SET from_day = ?, until_day = ?, wrapped = ? WHERE id = ?').run(fromDay, untilDay, sealRoot(vk, vaultId, { id, fromDay, untilDay }, root), id);
  } finally {
    wipe(root);
  }
}
