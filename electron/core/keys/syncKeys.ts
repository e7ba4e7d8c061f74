// Epoch roots across the devices of a synced vault: a root made by a rotation on one device
// (epoch-root, revoke-device, record-keys once finished) is pushed with the days it serves, and
// the other devices take it at their next sync, before they pull records sealed under it. A
// root from the server is taken only if it opens with the vault key for its id AND the days the
// server says it serves (keys/rootWrap.ts): a server can neither slip in a root of its own nor
// move a root's days (the sync is refused). It can still withhold a root, which this cannot
// detect: the device then keeps using the roots it has (docs/keys.md).
import type Database from 'better-sqlite3';
import { target } from '../audit/entry.ts';
import type { SyncServer } from '../sync/client/server.ts';
import type { Vault } from '../vault/vault.ts';
import { openRoot } from './rootWrap.ts';

interface LocalRoot {
  id: string;
  algorithm: string;
  created_at: number;
  fingerprint: string;
  wrapped: Buffer;
  from_day: string | null;
  until_day: string | null;
}

/** Roots ready to share: not those of an unfinished record key re-encryption (their range still grows). */
function shareable(sql: Database.Database): LocalRoot[] {
  return sql
    .prepare("SELECT id, algorithm, created_at, fingerprint, wrapped, from_day, until_day FROM key_registry WHERE kind = 'epoch_root' AND wrapped IS NOT NULL AND id NOT IN (SELECT key_id FROM key_job WHERE finished_at IS NULL)")
    .all() as LocalRoot[];
}

export async function exchangeEpochRoots(server: SyncServer, vault: Vault): Promise<{ pushed: number; pulled: number }> {
  const sql = vault.db.sql;
  const vaultId = vault.vaultId;
  const local = shareable(sql);
  const remote = await server.query('read the vault keys', (p) => p.serverVaultKey.findMany({ where: { vaultId, kind: 'epoch_root' } }));
  const known = new Set(remote.map((r) => r.id));
  const missing = local.filter((r) => !known.has(r.id));
  if (missing.length)
    await server.query('send the vault keys', (p) =>
      p.serverVaultKey.createMany({
        data: missing.map((k) => ({ vaultId, id: k.id, kind: 'epoch_root', algorithm: k.algorithm, createdAt: new Date(k.created_at), fingerprint: k.fingerprint, wrapped: new Uint8Array(k.wrapped), fromDay: k.from_day, untilDay: k.until_day })),
        skipDuplicates: true,
      }),
    );
  const mine = new Set((sql.prepare("SELECT id FROM key_registry WHERE kind = 'epoch_root'").pluck().all() as string[]));
  const keys = vault.keys();
  let pulled = 0;
  for (const r of remote.filter((x) => !mine.has(x.id)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())) {
    // Throws TAMPERED (the sync stops) for a root whose days were changed or that is not ours.
    const { root } = openRoot(keys.vaultKey, vaultId, r, r.wrapped, 'the sync server');
    await vault.db.writeSync(() => {
      const now = Date.now();
      // A newer root without an end takes the new days over from the local one without an end.
      if (r.untilDay === null) sql.prepare("UPDATE key_registry SET status = 'retired', rotated_at = ? WHERE kind = 'epoch_root' AND status = 'active' AND until_day IS NULL AND created_at < ?").run(now, r.createdAt.getTime());
      sql
        .prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count, wrapped, from_day, until_day) VALUES (?, 'epoch_root', ?, 'active', ?, ?, 0, ?, ?, ?)")
        .run(r.id, r.algorithm, r.createdAt.getTime(), r.fingerprint, Buffer.from(r.wrapped), r.fromDay, r.untilDay);
      vault.audit.appendSync(vault.meta, [{ event: 'key.created', target: target.key(r.id), details: { kind: 'epoch_root', via: 'sync', fromDay: r.fromDay ?? '', untilDay: r.untilDay ?? '' } }]);
    });
    keys.addRoot({ id: r.id, root, fromDay: r.fromDay, untilDay: r.untilDay, createdAt: r.createdAt.getTime() });
    pulled++;
  }
  return { pushed: missing.length, pulled };
}
