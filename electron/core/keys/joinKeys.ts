// Joining a synced vault whose vault key was rotated (`custody sync join`). The server keeps
// vault.json as registered and, after each rotation, the rotating device's new vault.json
// (custody.vault_header) and the replaced vault key wrapped by the new one (a 'vault_key' row
// of custody.vault_key, as in the local registry). Its epoch roots stay as they were pushed,
// each wrapped by the vault key of its time. The joining device takes the newest header the
// secret opens, walks back through the replaced keys, opens every root with the key that
// wrapped it, and hands joinVault rows all wrapped by the key it joins with.
import { CustodyError } from '../../shared/errors.ts';
import { open, seal } from '../crypto/aead.ts';
import { keyFingerprint, keyMaterial, wipe } from '../crypto/keys.ts';
import { unwrapVaultKey, type VaultSecret, type WrappedKeyRow } from '../vault/vault.ts';
import type { VaultHeader } from '../vault/header.ts';
import { keyAd } from './rewrap.ts';
import { openRoot, sealRoot } from './rootWrap.ts';

export interface ServerKeyRow {
  id: string;
  kind: string;
  algorithm: string;
  createdAt: Date;
  fingerprint: string;
  wrapped: Uint8Array;
  fromDay: string | null;
  untilDay: string | null;
}

/**
 * The header to join with (the newest of `headers` the secret opens) and the server's key rows
 * re-wrapped by its vault key. Throws WRONG_PASSWORD / WRONG_RECOVERY_KEY if none opens, and
 * TAMPERED if a root opens under none of the keys reachable from it.
 */
export async function keysForJoin(vaultId: string, headers: readonly VaultHeader[], rows: readonly ServerKeyRow[], secret: VaultSecret): Promise<{ header: VaultHeader; rows: WrappedKeyRow[] }> {
  let vk: Buffer | undefined;
  let header: VaultHeader | undefined;
  let failure: unknown;
  for (const h of headers) {
    try {
      vk = await unwrapVaultKey(h, secret);
      header = h;
      break;
    } catch (e) {
      failure = e;
    }
  }
  if (!vk || !header) throw failure instanceof Error ? failure : new CustodyError('WRONG_PASSWORD', 'wrong password for this vault');
  const known: Buffer[] = [vk];
  const opened = new Map<string, Buffer>();
  try {
    // Replaced vault keys: each wrapped by the key that replaced it, so walk back until nothing more opens.
    const replaced = rows.filter((r) => r.kind === 'vault_key');
    for (let progress = true; progress; ) {
      progress = false;
      for (const r of replaced) {
        if (opened.has(r.id)) continue;
        for (const k of known) {
          try {
            const old = keyMaterial(open(k, r.wrapped, keyAd(vaultId, r.id)));
            if (keyFingerprint(old) !== r.fingerprint) {
              wipe(old);
              continue;
            }
            opened.set(r.id, old);
            known.push(old);
            progress = true;
            break;
          } catch {
            // Not under this key.
          }
        }
      }
    }
    const out: WrappedKeyRow[] = [];
    for (const r of rows) {
      const base = { id: r.id, kind: r.kind, algorithm: r.algorithm, createdAt: r.createdAt, fingerprint: r.fingerprint, fromDay: r.fromDay, untilDay: r.untilDay };
      if (r.kind === 'vault_key') {
        const old = opened.get(r.id);
        // A row no key here opens is not ours (a server's or a revoked device's): left out.
        if (old) out.push({ ...base, status: 'retired', wrapped: seal(vk, old, keyAd(vaultId, r.id)) });
        continue;
      }
      if (r.kind !== 'epoch_root') continue;
      const days = { id: r.id, fromDay: r.fromDay, untilDay: r.untilDay };
      let root: Buffer | undefined;
      for (const k of known) {
        try {
          root = openRoot(k, vaultId, days, r.wrapped, 'the vault to join').root;
          break;
        } catch {
          // Wrapped by another key of the chain.
        }
      }
      if (!root) throw new CustodyError('TAMPERED', `the epoch root ${r.id} on the server opens with no vault key of this vault: the server changed it, or the vault key was rotated after the header it gave`);
      out.push({ ...base, status: 'active', wrapped: sealRoot(vk, vaultId, days, root) });
      wipe(root);
    }
    return { header, rows: out };
  } finally {
    wipe(...known);
  }
}
