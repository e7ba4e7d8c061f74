// `custody keys rotate epoch-root [--from DAY]`: records captured from DAY on use epoch keys
// from a new root; older days keep theirs (Keyring.epochKey picks the root by day). Records
// (and their earlier versions) already on DAY or later have their key chain re-wrapped under
// the new root, in the same transaction, so the switch is one commit: no record is ever under
// a root its day does not use. Grants already issued hold the old root's day keys and keep
// working for the days before DAY only.
import { CustodyError } from '../../shared/errors.ts';
import { keyFingerprint, randomKey, wipe } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import { uuidv7 } from '../util/ids.ts';
import { utcDay } from '../util/time.ts';
import { unwrapKeys, wrapKeys } from '../records/codec.ts';
import { Keyring } from '../vault/keyring.ts';
import type { Vault } from '../vault/vault.ts';
import { faultPoint } from '../util/faults.ts';
import { sealRoot, setRootDays } from './rootWrap.ts';

export const dayBefore = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

export const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export function assertDay(day: string, what = 'DAY'): void {
  if (!DAY_RE.test(day) || utcDay(new Date(`${day}T00:00:00Z`)) !== day) throw new CustodyError('BAD_REQUEST', `${what} must be a UTC day as YYYY-MM-DD`);
}

export interface EpochRootRotation {
  keyId: string;
  fromDay: string;
  fingerprint: string;
  rewrapped: number;
}

export async function rotateEpochRoot(vault: Vault, opts: { fromDay?: string; now?: number } = {}): Promise<EpochRootRotation> {
  const keys = vault.keys();
  const now = opts.now ?? Date.now();
  const fromDay = opts.fromDay ?? utcDay(new Date(now));
  assertDay(fromDay, '--from');
  if (vault.db.sql.prepare("SELECT 1 FROM key_job WHERE kind = 'record-keys' AND finished_at IS NULL").get())
    throw new CustodyError('CONFLICT', 'a record key re-encryption is unfinished; finish it first ("custody keys rotate record-keys")');
  const root = randomKey();
  const keyId = uuidv7();
  const fingerprint = keyFingerprint(root);
  // Only to wrap under the new root with the codec's own format; holds no other key.
  const next = new Keyring(Buffer.alloc(32), [{ id: keyId, root: Buffer.from(root), fromDay, untilDay: null, createdAt: now }], Buffer.alloc(32));
  try {
    const overlapped: string[] = [];
    const rewrapped = await vault.db.writeSync(() => {
      const sql = vault.db.sql;
      const replaced = sql.prepare("SELECT id FROM key_registry WHERE kind = 'epoch_root' AND status = 'active' AND until_day IS NULL ORDER BY created_at DESC").all() as { id: string }[];
      let n = 0;
      for (const table of ['record', 'record_version'] as const) {
        const idCol = table === 'record' ? 'id' : 'record_id';
        const keyCols = table === 'record' ? 'id' : 'record_id, version';
        const rows = sql.prepare(`SELECT ${keyCols}, ${idCol} AS rid, epoch_day AS day, wrapped_dek AS w FROM ${table} WHERE epoch_day >= ?`).all(fromDay) as { rid: string; day: string; w: Buffer; version?: number }[];
        const update = table === 'record' ? sql.prepare('UPDATE record SET wrapped_dek = ? WHERE id = ?') : sql.prepare('UPDATE record_version SET wrapped_dek = ? WHERE record_id = ? AND version = ?');
        for (const r of rows) {
          const chain = unwrapKeys(keys, vault.vaultId, r.rid, r.day, r.w);
          try {
            const wrapped = wrapKeys(next, vault.vaultId, r.rid, r.day, chain);
            if (table === 'record') update.run(wrapped, r.rid);
            else update.run(wrapped, r.rid, r.version);
          } finally {
            wipe(...chain);
          }
          n++;
          if (n === 1) faultPoint('epoch-root:mid-transaction');
        }
      }
      sql.prepare("UPDATE key_registry SET status = 'retired', rotated_at = ? WHERE kind = 'epoch_root' AND status = 'active' AND until_day IS NULL").run(now);
      // Keyring picks a bounded root (record-keys) before an unbounded one, then the latest start:
      // a root that would outrank the new one on DAY or later, whose records were just re-wrapped
      // under the new one, ends the day before DAY (re-wrapped for those days).
      const overlapping = sql.prepare("SELECT id, from_day AS fromDay FROM key_registry WHERE kind = 'epoch_root' AND ((until_day IS NOT NULL AND until_day >= ?) OR (until_day IS NULL AND from_day >= ?))").all(fromDay, fromDay) as { id: string; fromDay: string | null }[];
      for (const o of overlapping) overlapped.push(o.id);
      for (const o of overlapping) setRootDays(sql, keys.vaultKey, vault.vaultId, o.id, o.fromDay, dayBefore(fromDay));
      sql
        .prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count, wrapped, from_day, replaces) VALUES (?, 'epoch_root', 'HKDF-SHA-256', 'active', ?, ?, 0, ?, ?, ?)")
        .run(keyId, now, fingerprint, sealRoot(keys.vaultKey, vault.vaultId, { id: keyId, fromDay, untilDay: null }, root), fromDay, replaced[0]?.id ?? null);
      vault.audit.appendSync(vault.meta, [{ event: 'key.rotated', target: target.key(keyId), details: { kind: 'epoch_root', fromDay, fingerprint, replaces: replaced.map((r) => r.id), rewrapped: n } }]);
      return n;
    });
    for (const o of overlapped) keys.extendRoot(o, dayBefore(fromDay));
    keys.addRoot({ id: keyId, root: Buffer.from(root), fromDay, untilDay: null, createdAt: now });
    return { keyId, fromDay, fingerprint, rewrapped };
  } finally {
    next.wipe();
    wipe(root);
  }
}
