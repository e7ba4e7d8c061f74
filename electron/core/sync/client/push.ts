// Push: the queued records, in batches, each batch one server transaction. Versions are
// checked optimistically: an edit is accepted only if the server still holds the version it
// started from (the shadow S, what this device last saw); otherwise the server's row is
// pulled and merged (pull.ts) and pushed again. Pushes use pg with array parameters (unnest):
// one statement per kind of change per batch, where Prisma would send one per row.
//
// Each batch first locks the vault row (lockVault), so pushes to one vault run one after the
// other and their change numbers commit in order: a device that has pulled up to N has seen
// every change numbered up to N. Then it locks its records, decides, and writes each kind of
// change with one statement, numbering the rows as it writes them.
import type pg from 'pg';
import { pushAudit } from './auditSync.ts';
import { skipOwnChanges, type SeqRange, type SyncContext } from './context.ts';
import { sameSealed, type LocalRecord, type LocalVersion } from './rows.ts';
import type { OutboxTarget, Shadow } from './state.ts';

const PUSH_BATCH = 500;

export interface PushResult {
  records: number;
  /** Audit entries pushed ahead of the records. */
  auditEntries: number;
  /** Records the server refused (a newer version there): pull them, merge, push again. */
  rejected: string[];
}

interface Item {
  id: string;
  targets: OutboxTarget[];
  local: LocalRecord | undefined;
  shadow: Shadow | undefined;
}

interface ServerState {
  id: string;
  version: number;
  deleted: boolean;
  purged: boolean;
  summary: Buffer | null;
  content: Buffer | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Column arrays for unnest, in the order of RECORD_UNNEST. */
function recordArrays(rows: readonly LocalRecord[], seqOf: ReadonlyMap<string, number>): unknown[] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.kind),
    rows.map((r) => iso(r.captured_at)),
    rows.map((r) => r.epoch_day),
    rows.map((r) => iso(r.created_at)),
    rows.map((r) => iso(r.updated_at)),
    rows.map((r) => r.version),
    rows.map((r) => iso(r.deleted_at)),
    rows.map((r) => r.wrapped_dek),
    rows.map((r) => r.summary),
    rows.map((r) => r.content),
    rows.map((r) => seqOf.get(r.id)),
  ];
}
const RECORD_UNNEST = `unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::int[], $10::timestamptz[], $11::bytea[], $12::bytea[], $13::bytea[], $14::bigint[])
  AS u(id, kind, captured_at, epoch_day, created_at, updated_at, version, deleted_at, wrapped_dek, summary, content, change_seq)`;

function versionArrays(rows: readonly LocalVersion[]): unknown[] {
  return [
    rows.map((v) => v.record_id),
    rows.map((v) => v.version),
    rows.map((v) => v.kind),
    rows.map((v) => iso(v.captured_at)),
    rows.map((v) => v.epoch_day),
    rows.map((v) => iso(v.saved_at)),
    rows.map((v) => v.wrapped_dek),
    rows.map((v) => v.summary),
    rows.map((v) => v.content),
  ];
}

export async function pushRecords(ctx: SyncContext): Promise<PushResult> {
  const { state, vault } = ctx;
  const byId = new Map<string, OutboxTarget[]>();
  for (const t of state.targets(['record', 'purge'])) byId.set(t.targetId, [...(byId.get(t.targetId) ?? []), t]);
  const ids = [...byId.keys()];
  const result: PushResult = { records: 0, auditEntries: 0, rejected: [] };
  const getLocal = vault.db.sql.prepare('SELECT * FROM record WHERE id = ?');
  for (let i = 0; i < ids.length; i += PUSH_BATCH) {
    const items: Item[] = ids.slice(i, i + PUSH_BATCH).map((id) => ({ id, targets: byId.get(id)!, local: getLocal.get(id) as LocalRecord | undefined, shadow: state.shadow(id) }));
    // The signed entries of these changes (written with them, so already in the log) go first:
    // other devices take a change only with its entry under a checkpoint (evidence.ts).
    result.auditEntries += await pushAudit(ctx);
    const batch = await pushBatch(ctx, items);
    await vault.db.writeSync(() => {
      for (const [id, shadow] of batch.synced) state.setShadow(id, shadow);
      state.done(items.filter((it) => !batch.rejected.includes(it.id)).flatMap((it) => it.targets));
      // A refused purge is dropped: the record comes back from the server instead.
      state.done(items.filter((it) => batch.rejected.includes(it.id)).flatMap((it) => it.targets.filter((t) => t.kind === 'purge')));
      if (batch.clean) skipOwnChanges(state, batch.seq);
    });
    result.records += batch.pushed;
    result.rejected.push(...batch.rejected);
    await ctx.onProgress?.({ phase: 'push', done: Math.min(ids.length, i + PUSH_BATCH), total: ids.length });
  }
  return result;
}

interface BatchResult {
  /** Records now in sync, with the server state they were pushed as. */
  synced: Map<string, Shadow | null>;
  rejected: string[];
  seq: SeqRange | null;
  /** False when a row holds changes this device has not pulled yet. */
  clean: boolean;
  /** Rows the server changed. */
  pushed: number;
}

async function pushBatch(ctx: SyncContext, items: Item[]): Promise<BatchResult> {
  const { vault, vaultId, deviceId } = ctx;
  const historyOf = vault.db.sql.prepare('SELECT * FROM record_version WHERE record_id = ? AND version > ? AND version < ? ORDER BY version');
  const synced = new Map<string, Shadow | null>();
  const shadowOf = (l: LocalRecord): Shadow => ({ version: l.version, deleted: l.deleted_at !== null });
  // Nothing to tell the server: never pushed and gone, or unchanged since the last sync.
  const live = items.filter((it) => {
    const { local: l, shadow: s } = it;
    if (!l && !s) return false;
    if (l && s && l.version === s.version && (l.deleted_at !== null) === s.deleted) {
      synced.set(it.id, s);
      return false;
    }
    return true;
  });
  if (live.length === 0) return { synced, rejected: [], seq: null, clean: true, pushed: 0 };

  return ctx.server.tx('push records', async (c) => {
    const from = await lockVault(c, vaultId);
    const locked = await c.query<ServerState>(
      `SELECT id, version, deleted_at IS NOT NULL AS deleted, purged_at IS NOT NULL AS purged, summary, content
       FROM custody.record WHERE vault_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE`,
      [vaultId, live.map((it) => it.id)],
    );
    const server = new Map(locked.rows.map((r) => [r.id, r]));
    const inserts: LocalRecord[] = [];
    const updates: LocalRecord[] = [];
    const history: LocalVersion[] = [];
    const trash: LocalRecord[] = [];
    const purges: string[] = [];
    const rejected: string[] = [];
    const landed = (x: ServerState, l: LocalRecord) => !x.purged && x.summary !== null && x.content !== null && sameSealed({ version: x.version, summary: x.summary, content: x.content }, l);

    // Whether every row ends as this device has it; if another device changed one meanwhile,
    // the pull cursors must not skip this batch's change numbers.
    let clean = true;
    for (const { id, local: l, shadow: s } of live) {
      const x = server.get(id);
      if (!l) {
        // Purged here: the server purges too, unless it has moved on (newer version, restored).
        if (!x || x.purged) synced.set(id, null);
        else if (x.version === s!.version && !(s!.deleted && !x.deleted)) {
          purges.push(id);
          synced.set(id, null);
        } else rejected.push(id);
        continue;
      }
      if (!x) {
        // New on the server (or lost by it): the whole record with its history.
        inserts.push(l);
        history.push(...(historyOf.all(id, 0, l.version) as LocalVersion[]));
        synced.set(id, shadowOf(l));
        continue;
      }
      // Content: already there (an earlier push whose acknowledgement was lost), unchanged
      // here, or an edit of the version the server still has; anything else is refused.
      if (!landed(x, l)) {
        if (!s || x.purged || x.version !== s.version) {
          rejected.push(id);
          continue;
        }
        if (l.version !== s.version) {
          updates.push(l);
          history.push(...(historyOf.all(id, s.version, l.version) as LocalVersion[]));
        }
      }
      // Trash state: pushed when changed here (the last change wins); else the server's stands,
      // and a change of it by another device reaches us with the next pull.
      const baseDeleted = s?.deleted ?? false;
      const deleted = l.deleted_at !== null;
      if (deleted !== baseDeleted) {
        if (x.deleted !== deleted) trash.push(l);
      } else if (x.deleted !== baseDeleted) clean = false;
      synced.set(id, shadowOf(l));
    }

    // Every row changed gets the next change number of the vault.
    const touched = [...new Set([...inserts, ...updates, ...trash].map((l) => l.id).concat(purges))];
    const seqOf = new Map(touched.map((id, i) => [id, from + i + 1]));
    if (inserts.length)
      await c.query(
        `INSERT INTO custody.record (vault_id, device_id, id, kind, captured_at, epoch_day, created_at, updated_at, version, deleted_at, wrapped_dek, summary, content, change_seq)
         SELECT $1, $2, u.* FROM ${RECORD_UNNEST}`,
        [vaultId, deviceId, ...recordArrays(inserts, seqOf)],
      );
    if (updates.length) {
      // The server's current version joins its history before it is replaced.
      await c.query(
        `INSERT INTO custody.record_version (vault_id, record_id, version, kind, captured_at, epoch_day, saved_at, wrapped_dek, summary, content)
         SELECT vault_id, id, version, kind, captured_at, epoch_day, updated_at, wrapped_dek, summary, content
         FROM custody.record WHERE vault_id = $1 AND id = ANY($2::uuid[]) ON CONFLICT DO NOTHING`,
        [vaultId, updates.map((l) => l.id)],
      );
      // One UPDATE per row and change (the server refuses a second one with the same change
      // number), so a trash change of an edited record travels with its edit.
      await c.query(
        `UPDATE custody.record r SET captured_at = u.captured_at, epoch_day = u.epoch_day, updated_at = u.updated_at, version = u.version,
           deleted_at = CASE WHEN u.id = ANY($15::uuid[]) THEN u.deleted_at ELSE r.deleted_at END,
           wrapped_dek = u.wrapped_dek, summary = u.summary, content = u.content, device_id = $2, change_seq = u.change_seq
         FROM ${RECORD_UNNEST} WHERE r.vault_id = $1 AND r.id = u.id`,
        [vaultId, deviceId, ...recordArrays(updates, seqOf), trash.map((l) => l.id)],
      );
    }
    if (history.length)
      await c.query(
        `INSERT INTO custody.record_version (vault_id, record_id, version, kind, captured_at, epoch_day, saved_at, wrapped_dek, summary, content)
         SELECT $1, u.* FROM unnest($2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::bytea[], $9::bytea[], $10::bytea[]) AS u
         ON CONFLICT DO NOTHING`,
        [vaultId, ...versionArrays(history)],
      );
    const edited = new Set(updates.map((l) => l.id));
    const trashOnly = trash.filter((l) => !edited.has(l.id));
    if (trashOnly.length)
      await c.query(
        'UPDATE custody.record r SET deleted_at = u.deleted_at, device_id = $2, change_seq = u.change_seq FROM unnest($3::uuid[], $4::timestamptz[], $5::bigint[]) AS u(id, deleted_at, change_seq) WHERE r.vault_id = $1 AND r.id = u.id',
        [vaultId, deviceId, trashOnly.map((l) => l.id), trashOnly.map((l) => iso(l.deleted_at)), trashOnly.map((l) => seqOf.get(l.id))],
      );
    if (purges.length) {
      // A tombstone stays so other devices learn of the purge; ciphertext, history and attachments go.
      await c.query(
        `UPDATE custody.record r SET purged_at = now(), deleted_at = coalesce(deleted_at, now()), wrapped_dek = NULL, summary = NULL, content = NULL, device_id = $2, change_seq = u.change_seq
         FROM unnest($3::uuid[], $4::bigint[]) AS u(id, change_seq) WHERE r.vault_id = $1 AND r.id = u.id`,
        [vaultId, deviceId, purges, purges.map((id) => seqOf.get(id))],
      );
      // Analysts may not DELETE (server migration 0002): this removes the history and
      // attachments of records that are tombstones, and nothing else.
      await c.query('SELECT custody.purge_records($1, $2::uuid[])', [vaultId, purges]);
    }
    if (touched.length) await c.query('UPDATE custody.vault SET change_seq = $2 WHERE id = $1', [vaultId, from + touched.length]);
    return { synced, rejected, seq: touched.length ? { from, to: from + touched.length } : null, clean, pushed: touched.length };
  });
}

/**
 * Locks the vault row and returns its last change number. Pushes to one vault queue here, so
 * their change numbers commit in order. NO KEY UPDATE (the strongest lock an UPDATE of
 * change_seq needs) does not conflict with the key-share locks foreign-key checks take on
 * the vault row, so a transaction that inserted rows can still take it.
 */
export async function lockVault(c: pg.PoolClient, vaultId: string): Promise<number> {
  const head = await c.query<{ seq: string }>('SELECT change_seq AS seq FROM custody.vault WHERE id = $1 FOR NO KEY UPDATE', [vaultId]);
  if (!head.rows[0]) throw new Error('this vault is not registered on the server (configure sync again)');
  return Number(head.rows[0].seq);
}
