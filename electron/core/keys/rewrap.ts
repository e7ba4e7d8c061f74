// Everything the vault key protects directly, and how a vault key rotation re-wraps it inside
// its one transaction (vaultKeyRotation.ts). A module that seals something new under the vault
// key (or a key derived from it) adds an entry here, else a rotation leaves it unreadable.
// Bulk data (records, attachments) is under epoch and data keys and is never touched.
import type Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ad, open, seal } from '../crypto/aead.ts';
import { deriveKey, wipe } from '../crypto/keys.ts';
import { attestDeviceKey, deviceKeyAttested } from '../vault/attestation.ts';
import { metaValue, setMetaValue } from '../vault/meta.ts';
import { SEALED_SETTINGS_KEY, sealedAd, settingsKey } from '../api/settings.ts';
import { SYNC_URL_KEY, urlAd } from '../sync/client/state.ts';
import { SCHEDULE_META_KEY, scheduleAd, scheduleKey } from '../backup/schedule.ts';
import { rewrapAddressBook } from '../sharing/recipients.ts';
import { SHARING_POLICY_SEALING } from '../sharing/policy.ts';
import { grantRowAd } from '../sharing/disclose.ts';
import { faultPoint } from '../util/faults.ts';
import { openRoot, sealRoot } from './rootWrap.ts';
import { resealIndexFiles } from '../search/indexFile.ts';

export const keyAd = (vaultId: string, keyId: string) => ad('key', vaultId, keyId);

export interface Rewrap {
  what: string;
  run(sql: Database.Database, vaultId: string, oldVk: Buffer, newVk: Buffer): number;
}

/** A meta value sealed by a key derived from the vault key (or the vault key itself). */
function metaSealed(what: string, metaKey: string, derive: (vk: Buffer) => Buffer, adOf: (vaultId: string) => Buffer): Rewrap {
  return {
    what,
    run(sql, vaultId, oldVk, newVk) {
      const value = metaValue(sql, metaKey);
      if (value === undefined) return 0;
      const [a, b] = [derive(oldVk), derive(newVk)];
      try {
        const plain = open(a, Buffer.from(value, 'base64'), adOf(vaultId), what);
        setMetaValue(sql, metaKey, seal(b, plain, adOf(vaultId)).toString('base64'));
        wipe(plain);
        return 1;
      } finally {
        if (a !== oldVk) wipe(a);
        if (b !== newVk) wipe(b);
      }
    },
  };
}

/** Every key registry row's secret (epoch roots, device and identity seeds, report signing identities, previous vault keys) and the device keys' attestations. */
const registry: Rewrap = {
  what: 'the key registry',
  run(sql, vaultId, oldVk, newVk) {
    const rows = sql.prepare('SELECT id, kind, wrapped, public_key AS publicKey, attestation, from_day AS fromDay, until_day AS untilDay FROM key_registry WHERE wrapped IS NOT NULL OR attestation IS NOT NULL ORDER BY created_at, id').all() as { id: string; kind: string; wrapped: Buffer | null; publicKey: Buffer | null; attestation: Buffer | null; fromDay: string | null; untilDay: string | null }[];
    const update = sql.prepare('UPDATE key_registry SET wrapped = ?, attestation = ? WHERE id = ?');
    rows.forEach((r, i) => {
      let wrapped = r.wrapped;
      if (r.wrapped && r.kind === 'epoch_root') {
        // Epoch roots are bound to their days (rootWrap.ts); a 0.1.0 wrap leaves in the new form.
        const { root } = openRoot(oldVk, vaultId, r, r.wrapped);
        wrapped = sealRoot(newVk, vaultId, r, root);
        wipe(root);
      } else if (r.wrapped) {
        const secret = open(oldVk, r.wrapped, keyAd(vaultId, r.id), `the ${r.kind} key ${r.id}`);
        wrapped = seal(newVk, secret, keyAd(vaultId, r.id));
        wipe(secret);
      }
      // Only an attestation the old key made is carried over: a row someone slipped in stays unattested.
      const attestation = r.publicKey && r.attestation && deviceKeyAttested(oldVk, vaultId, r.id, r.publicKey, r.attestation) ? attestDeviceKey(newVk, vaultId, r.id, r.publicKey) : r.attestation;
      update.run(wrapped, attestation, r.id);
      if (i === Math.floor(rows.length / 2)) faultPoint('vault-key:mid-transaction');
    });
    return rows.length;
  },
};

/**
 * A column sealed, row by row, under a key derived from the vault key. `adOf` gets the row's
 * key columns in order. The info strings and associated data are those of the owning module.
 */
function tableSealed(what: string, table: string, keyCols: readonly string[], col: string, info: string, adOf: (vaultId: string, ...keys: string[]) => Buffer): Rewrap {
  return {
    what,
    run(sql, vaultId, oldVk, newVk) {
      const [a, b] = [deriveKey(oldVk, info), deriveKey(newVk, info)];
      try {
        const rows = sql.prepare(`SELECT rowid AS rid, ${keyCols.join(', ')}, ${col} AS sealed FROM ${table}`).all() as (Record<string, string> & { rid: number; sealed: Buffer })[];
        const update = sql.prepare(`UPDATE ${table} SET ${col} = ? WHERE rowid = ?`);
        for (const r of rows) {
          const ad = adOf(vaultId, ...keyCols.map((k) => r[k]!));
          const plain = open(a, r.sealed, ad, what);
          update.run(seal(b, plain, ad), r.rid);
          wipe(plain);
        }
        return rows.length;
      } finally {
        wipe(a, b);
      }
    },
  };
}

export const REWRAPS: readonly Rewrap[] = [
  registry,
  metaSealed('the sealed settings', SEALED_SETTINGS_KEY, settingsKey, sealedAd),
  metaSealed('the sync server address', SYNC_URL_KEY, (vk) => vk, urlAd),
  metaSealed('the backup schedule', SCHEDULE_META_KEY, scheduleKey, scheduleAd),
  metaSealed('the sharing policy', SHARING_POLICY_SEALING.metaKey, SHARING_POLICY_SEALING.derive, SHARING_POLICY_SEALING.ad),
  { what: 'the address book', run: rewrapAddressBook },
  // Disclosures issued (sharing/disclose.ts: grantsKey, grantRowAd).
  tableSealed('the grants issued', 'grant_issued', ['id'], 'sealed', 'custody/grants/v1', grantRowAd),
  // Disclosures received (sharing/received.ts: receivedKey and its associated data).
  tableSealed('the grants received', 'received_grant', ['id'], 'sealed', 'custody/received/v1', (v, id) => ad('received-grant', v, id!)),
  tableSealed('the records received', 'received_record', ['grant_id', 'record_id'], 'sealed', 'custody/received/v1', (v, g, r) => ad('received-record', v, g!, r!)),
  tableSealed('the attachment keys received', 'received_attachment', ['grant_id', 'id'], 'sealed_key', 'custody/received/v1', (v, g, id) => ad('received-attachment', v, g!, id!)),
  // The persisted search index (files beside the database, sealed under a key derived from the vault key).
  { what: 'the search index', run: (sql, vaultId, oldVk, newVk) => resealIndexFiles(dirname(sql.name), vaultId, oldVk, newVk) },
];
