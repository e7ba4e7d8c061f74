// Pull: the server's record changes since this device's cursor, applied locally in batches,
// each batch with its cursor in one local transaction (an interrupted pull repeats at most
// the batch it was in; records are keyed by id, so nothing is duplicated).
//
// For each server row R, with the local row L and the server state S this device last saw:
//   - purged on the server: removed here (unpushed local edits are kept as a conflict);
//   - new here: inserted with its history;
//   - changed only there: fast-forwarded (the local version joins the history);
//   - changed on both sides: three-way merge against the base version S (in the local
//     history); overlapping edits become a conflict the user resolves, nothing is dropped;
//   - trash state: the side that changed it wins; when both did, the local change is pushed.
// A push that landed but whose acknowledgement was lost is recognised by its ciphertext.
//
// The server is not trusted with the evidence (evidence.ts): a purge, trash state or edit is
// applied only if another device signed it, new ciphertext only if it opens with the vault's
// keys, and a version older than one this device saw is never taken. A row that fails is
// refused whole (nothing local changes), kept in sync_refusal, reported as server misbehaviour
// (once per distinct problem in the audit log) and looked at again at every sync.
import type Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { AttachmentRows } from '../../attachments/rows.ts';
import { target, type AuditInput } from '../../audit/entry.ts';
import { keyForDay, sealFields } from '../../records/codec.ts';
import { splitInput } from '../../records/recordStore.ts';
import { wipe } from '../../crypto/keys.ts';
import { uuidv7 } from '../../util/ids.ts';
import { utcDay } from '../../util/time.ts';
import type { ServerRecord, ServerRecordVersion } from '../generated/client.ts';
import type { SyncContext, SyncProblem } from './context.ts';
import { Evidence, opens, type Backing } from './evidence.ts';
import { MERGE_KEYS, threeWayMerge, type RecordValues } from './merge.ts';
import { encodeVersions, fromLocal, fromLocalVersion, fromRemote, sameSealed, valuesOf, type LocalRecord, type LocalVersion, type RemoteRecord, type SealedVersion } from './rows.ts';

const PULL_BATCH = 500;

export interface PullResult {
  records: number;
  /** Ids whose local row changed (for the search index). */
  changed: string[];
  conflicts: number;
  merged: number;
}

const ms = (d: Date | null) => (d === null ? null : d.getTime());
const buf = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b));

function remoteOf(r: ServerRecord): RemoteRecord {
  return {
    id: r.id,
    kind: r.kind,
    capturedAt: r.capturedAt.getTime(),
    epochDay: r.epochDay,
    createdAt: r.createdAt.getTime(),
    updatedAt: r.updatedAt.getTime(),
    version: r.version,
    deletedAt: ms(r.deletedAt),
    purgedAt: ms(r.purgedAt),
    wrappedDek: buf(r.wrappedDek),
    summary: buf(r.summary),
    content: buf(r.content),
    changeSeq: Number(r.changeSeq),
    deviceId: r.deviceId,
  };
}

const versionOf = (v: ServerRecordVersion): SealedVersion => ({
  version: v.version,
  kind: v.kind,
  capturedAt: v.capturedAt.getTime(),
  epochDay: v.epochDay,
  savedAt: v.savedAt.getTime(),
  wrappedDek: Buffer.from(v.wrappedDek),
  summary: Buffer.from(v.summary),
  content: Buffer.from(v.content),
});

/** Pulls every record change since the cursor. */
export async function pullRecords(ctx: SyncContext): Promise<PullResult> {
  const { server, vaultId, state } = ctx;
  const result: PullResult = { records: 0, changed: [], conflicts: 0, merged: 0 };
  // Every change numbered up to the vault's counter now has committed (the counter moves in
  // the same transaction), so once the rows run out the cursor may stand there.
  const head = await server.query('read the vault', (p) => p.serverVault.findUnique({ where: { id: vaultId }, select: { changeSeq: true } }));
  const total = head ? Math.max(0, Number(head.changeSeq) - state.num('cursor_records')) : 0;
  for (;;) {
    const cursor = state.num('cursor_records');
    const rows = (await server.query('pull records', (p) => p.serverRecord.findMany({ where: { vaultId, changeSeq: { gt: BigInt(cursor) } }, orderBy: { changeSeq: 'asc' }, take: PULL_BATCH }))).map(remoteOf);
    if (rows.length === 0) break;
    const effects = await applyBatch(ctx, rows, rows.at(-1)!.changeSeq);
    add(result, effects, rows.length);
    await ctx.onProgress?.({ phase: 'pull', done: result.records, total: Math.max(total, result.records) });
  }
  if (head && Number(head.changeSeq) > state.num('cursor_records')) await ctx.vault.db.writeSync(() => state.set('cursor_records', Number(head.changeSeq)));
  return result;
}

/** Pulls the named records whatever the cursor (after a push the server refused). */
export async function pullIds(ctx: SyncContext, ids: readonly string[]): Promise<PullResult> {
  const result: PullResult = { records: 0, changed: [], conflicts: 0, merged: 0 };
  if (ids.length === 0) return result;
  const rows = (await ctx.server.query('pull records', (p) => p.serverRecord.findMany({ where: { vaultId: ctx.vaultId, id: { in: [...ids] } } }))).map(remoteOf);
  add(result, await applyBatch(ctx, rows, null), rows.length);
  return result;
}

function add(result: PullResult, e: BatchEffects, n: number): void {
  result.records += n;
  result.changed.push(...e.changed);
  result.conflicts += e.conflicts;
  result.merged += e.merged;
}

interface BatchEffects {
  changed: string[];
  conflicts: number;
  merged: number;
}

async function applyBatch(ctx: SyncContext, rows: RemoteRecord[], cursor: number | null): Promise<BatchEffects> {
  const { vault, state, server, vaultId } = ctx;
  const sql = vault.db.sql;
  const getLocal = sql.prepare('SELECT * FROM record WHERE id = ?');
  // Server history is needed for records new here, several versions ahead, or edited on both sides.
  const needHistory = rows
    .filter((r) => {
      if (r.purgedAt !== null) return false;
      const l = getLocal.get(r.id) as LocalRecord | undefined;
      return r.version > (l?.version ?? 0) + 1 || (l !== undefined && state.hasPending('record', r.id));
    })
    .map((r) => r.id);
  const history = new Map<string, SealedVersion[]>();
  if (needHistory.length) {
    const versions = await server.query('pull record history', (p) => p.serverRecordVersion.findMany({ where: { vaultId, recordId: { in: needHistory } }, orderBy: [{ recordId: 'asc' }, { version: 'asc' }] }));
    for (const v of versions) {
      const list = history.get(v.recordId) ?? [];
      list.push(versionOf(v));
      history.set(v.recordId, list);
    }
  }
  for (let lookedAgain = !ctx.refreshAudit; ; lookedAgain = true) {
    const removedBlobs: string[] = [];
    let effects: BatchEffects;
    try {
      effects = await vault.db.writeSync(() => {
        state.set('applying', 1);
        const applier = new Applier(ctx, sql);
        for (const r of rows) applier.apply(r, history.get(r.id) ?? [], removedBlobs);
        // Its device may have pushed the entry after this device pulled the audit: roll back,
        // pull the audit again, and decide once more.
        if (!lookedAgain && applier.refused.some((x) => x.kind.startsWith('unsigned'))) throw new LookAgain();
        const refusals = keepRefusals(sql, applier.refused, applier.accepted);
        if (cursor !== null) state.set('cursor_records', cursor);
        state.set('applying', null);
        const audit = [...applier.audit, ...refusals.map(misbehaved)];
        if (audit.length) vault.audit.appendSync(vault.meta, audit);
        return { changed: applier.changed, conflicts: applier.conflicts, merged: applier.merged };
      });
    } catch (e) {
      if (!(e instanceof LookAgain)) throw e;
      await ctx.refreshAudit!();
      continue;
    }
    // The blobs of purged records go once their rows are gone for good.
    if (removedBlobs.length) ctx.removeBlobs(removedBlobs);
    return effects;
  }
}

/** Rolls a batch back so it can be decided again after a fresh audit pull. */
class LookAgain extends Error {}

/** A server row refused, and why. */
export interface Refusal {
  id: string;
  kind: string;
  message: string;
  /** The device the server named as the row's writer ('' when the row is gone). */
  device: string;
  version?: number;
}

const misbehaved = (r: Refusal): AuditInput => ({
  event: 'sync.server_misbehaved',
  target: target.record(r.id),
  success: false,
  details: { kind: r.kind, ...(r.device ? { device: r.device } : {}), ...(r.version !== undefined ? { version: r.version } : {}) },
});

/** Stores refusals, clears those of rows now accepted; returns the ones not reported before. */
function keepRefusals(sql: Database.Database, refused: readonly Refusal[], accepted: readonly string[]): Refusal[] {
  const clear = sql.prepare('DELETE FROM sync_refusal WHERE record_id = ?');
  for (const id of accepted) clear.run(id);
  const known = sql.prepare('SELECT message FROM sync_refusal WHERE record_id = ?').pluck();
  const keep = sql.prepare('INSERT INTO sync_refusal (record_id, kind, message, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, message = excluded.message, seen_at = excluded.seen_at');
  const fresh: Refusal[] = [];
  for (const r of refused) {
    if (known.get(r.id) !== r.message) fresh.push(r);
    keep.run(r.id, r.kind, r.message, Date.now());
  }
  return fresh;
}

/** Every server row this device refuses (as of its last look), as problems to show. */
export function refusals(ctx: SyncContext): SyncProblem[] {
  const rows = ctx.vault.db.sql.prepare('SELECT record_id AS id, kind, message FROM sync_refusal ORDER BY seen_at, record_id').all() as { id: string; kind: string; message: string }[];
  return rows.map((r) => ({ device: '', record: r.id, kind: r.kind, message: r.message }));
}

/** Looks again at the rows refused before: a server that put them right gets them applied. */
export async function pullRefused(ctx: SyncContext): Promise<PullResult> {
  const ids = (ctx.vault.db.sql.prepare('SELECT record_id FROM sync_refusal ORDER BY record_id').pluck().all() as string[]);
  return pullIds(ctx, ids);
}

/**
 * Records this device synced that the server no longer holds at all (an honest server keeps
 * even a purged record, as a tombstone): refused like any other loss, and reported.
 */
export async function checkMissing(ctx: SyncContext): Promise<void> {
  const { vault, server, vaultId } = ctx;
  const sql = vault.db.sql;
  const synced = sql.prepare('SELECT record_id AS id, version FROM sync_record').all() as { id: string; version: number }[];
  const reported = sql.prepare("SELECT record_id FROM sync_refusal WHERE kind = 'missing'").pluck().all() as string[];
  if (synced.length === 0 && reported.length === 0) return;
  const held = await server.run('list records', (c) => c.query<{ id: string }>('SELECT id::text AS id FROM custody.record WHERE vault_id = $1', [vaultId]));
  const onServer = new Set(held.rows.map((r) => r.id));
  const missing: Refusal[] = synced
    .filter((r) => !onServer.has(r.id))
    .map((r) => ({ id: r.id, kind: 'missing', device: '', version: r.version, message: `the server no longer holds record ${r.id} (this device synced version ${r.version} of it): it was deleted there` }));
  // Reported before, and back on the server (pushed again) or no longer synced here (purged here).
  const settled = reported.filter((id) => !missing.some((m) => m.id === id));
  if (missing.length === 0 && settled.length === 0) return;
  await vault.db.writeSync(() => {
    const fresh = keepRefusals(sql, missing, settled);
    if (fresh.length) vault.audit.appendSync(vault.meta, fresh.map(misbehaved));
  });
}

const statements = (sql: Database.Database) => ({
  local: sql.prepare('SELECT * FROM record WHERE id = ?'),
  localVersion: sql.prepare('SELECT * FROM record_version WHERE record_id = ? AND version = ?'),
  localVersionsAfter: sql.prepare('SELECT * FROM record_version WHERE record_id = ? AND version > ? ORDER BY version'),
  insert: sql.prepare('INSERT INTO record (id, kind, captured_at, epoch_day, created_at, updated_at, version, deleted_at, wrapped_dek, summary, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
  setContent: sql.prepare('UPDATE record SET kind = ?, captured_at = ?, epoch_day = ?, updated_at = ?, version = ?, wrapped_dek = ?, summary = ?, content = ? WHERE id = ?'),
  setDeleted: sql.prepare('UPDATE record SET deleted_at = ? WHERE id = ?'),
  addVersion: sql.prepare('INSERT OR REPLACE INTO record_version (record_id, version, kind, captured_at, epoch_day, saved_at, wrapped_dek, summary, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
  dropVersionsAfter: sql.prepare('DELETE FROM record_version WHERE record_id = ? AND version > ?'),
  attachments: new AttachmentRows(sql),
  purge: sql.prepare('DELETE FROM record WHERE id = ?'),
  dropOutbox: sql.prepare("DELETE FROM sync_outbox WHERE target_id = ? AND kind IN ('record', 'purge')"),
  conflict: sql.prepare('INSERT INTO sync_conflict (id, record_id, base_version, theirs_version, fields, mine, theirs, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
});

/** Applies server rows inside one local transaction (the outbox triggers stand aside). */
class Applier {
  readonly changed: string[] = [];
  readonly audit: AuditInput[] = [];
  /** Rows refused (nothing of them applied) and rows taken (or with nothing to take). */
  readonly refused: Refusal[] = [];
  readonly accepted: string[] = [];
  conflicts = 0;
  merged = 0;
  readonly #s: ReturnType<typeof statements>;
  readonly #evidence: Evidence;

  constructor(
    private readonly ctx: SyncContext,
    sql: Database.Database,
  ) {
    this.#s = statements(sql);
    this.#evidence = new Evidence(sql, ctx.vault.audit);
  }

  apply(r: RemoteRecord, history: SealedVersion[], removedBlobs: string[]): void {
    const refusal = this.#apply(r, history, removedBlobs);
    if (refusal) this.refused.push({ id: r.id, device: r.deviceId, version: r.version, ...refusal });
    else this.accepted.push(r.id);
  }

  #apply(r: RemoteRecord, history: SealedVersion[], removedBlobs: string[]): Pick<Refusal, 'kind' | 'message'> | undefined {
    const { state, records } = this.ctx;
    const evidence = this.#evidence;
    const l = this.#s.local.get(r.id) as LocalRecord | undefined;
    const s = state.shadow(r.id);
    if (r.purgedAt !== null) {
      if (l) {
        const signed = evidence.purge(r.id, r.deviceId);
        if (!signed) return { kind: 'unsigned-purge', message: `the server purged record ${r.id}, but no device of this vault signed a purge of it` };
        // Edits made here to a record purged there are kept, as a conflict.
        if (s && l.version !== s.version) this.#conflict(r.id, s.version, this.#mine(l, s.version), null, ['purged']);
        const attachments = this.#s.attachments.idsOf(r.id);
        for (const id of attachments) removedBlobs.push(id);
        this.#s.purge.run(r.id);
        this.#s.dropOutbox.run(r.id);
        // This device's own chain of custody says where the purge came from.
        this.audit.push({ event: 'record.purged', target: target.record(r.id), details: { attachments: attachments.length, via: 'sync', device: signed.device, seq: signed.seq } });
        this.changed.push(r.id);
      }
      state.setShadow(r.id, null);
      return undefined;
    }
    if (s && r.version < s.version) return { kind: 'rolled-back', message: `the server sent version ${r.version} of record ${r.id}, older than version ${s.version} it held before` };
    if (!r.wrappedDek || !r.summary || !r.content) return { kind: 'altered', message: `the server holds record ${r.id} without its ciphertext, yet not as a purge` };
    const theirs = fromRemote(r);
    // Ciphertext held here already is known good; anything new must open with the vault's keys.
    if (!this.#known(r.id, l, theirs) && !opens(records, r.id, theirs))
      return { kind: 'altered', message: `version ${r.version} of record ${r.id} on the server does not decrypt with this vault's keys: it was altered or swapped` };
    const bad = history.find((v) => v.version < r.version && !this.#known(r.id, l, v) && !opens(records, r.id, v));
    if (bad) return { kind: 'altered', message: `version ${bad.version} in the history of record ${r.id} on the server does not decrypt with this vault's keys: it was altered or swapped` };
    if (!l) {
      // Our purge is on its way; if the server refuses it, the record comes back then.
      if (state.hasPending('purge', r.id)) return undefined;
      let restore: Backing | undefined;
      if (evidence.purgedHere(r.id)) {
        // Purged here: it comes back only if the server refused that purge for a newer change
        // another device signed (push.ts), never because the server says so.
        const edited = s && r.version > s.version ? evidence.edit(r.id, r.version, r.deviceId) : undefined;
        restore = !edited && s?.deleted && r.version === s.version && r.deletedAt === null ? evidence.trash(r.id, false, r.deviceId) : undefined;
        if (!edited && !restore) return { kind: 'resurrected', message: `the server brought back record ${r.id}, which was purged on this device, without a newer change signed by another device` };
      }
      if (restore) evidence.applied(restore);
      this.#s.insert.run(r.id, r.kind, r.capturedAt, r.epochDay, r.createdAt, r.updatedAt, r.version, r.deletedAt, theirs.wrappedDek, theirs.summary, theirs.content);
      for (const v of history) if (v.version < r.version) this.#addVersion(r.id, v);
      state.setShadow(r.id, { version: r.version, deleted: r.deletedAt !== null });
      this.changed.push(r.id);
      return undefined;
    }
    const atVersion = (n: number): SealedVersion | undefined => (r.version === n ? theirs : history.find((v) => v.version === n));
    let base = s;
    // Our create or edit reached the server but its acknowledgement did not reach us.
    if (!base) {
      const mineV1 = l.version === 1 ? fromLocal(l) : this.#localVersion(r.id, 1);
      const theirsV1 = atVersion(1);
      if (mineV1 && theirsV1 && sameSealed(mineV1, theirsV1)) base = { version: 1, deleted: false };
    }
    if (base && l.version > base.version) {
      const landed = atVersion(l.version);
      if (landed && sameSealed(fromLocal(l), landed)) base = { version: l.version, deleted: base.deleted };
    }
    const localEdit = !base || l.version !== base.version;
    const remoteEdit = !base || r.version !== base.version;
    const contentChange = remoteEdit && !sameSealed(fromLocal(l), theirs);
    const localTrash = base !== undefined && (l.deleted_at !== null) !== base.deleted;
    const trashChange = !localTrash && (l.deleted_at !== null) !== (r.deletedAt !== null);
    // Both changes signed, or neither is applied.
    if (contentChange && !(r.version > 1 && evidence.edit(r.id, r.version, r.deviceId)))
      return { kind: 'unsigned-edit', message: `the server changed record ${r.id} to version ${r.version}, but no device of this vault signed that version` };
    const trash = trashChange ? evidence.trash(r.id, r.deletedAt !== null, r.deviceId) : undefined;
    if (trashChange && !trash)
      return { kind: 'unsigned-trash', message: `the server ${r.deletedAt !== null ? 'put record ' + r.id + ' in the trash' : 'took record ' + r.id + ' out of the trash'}, but no device of this vault signed that` };
    if (contentChange) {
      if (!localEdit) this.#fastForward(l, r, theirs, history);
      else this.#merge(l, r, theirs, history, base?.version ?? 0);
    }
    if (trash) {
      this.#s.setDeleted.run(r.deletedAt, r.id);
      evidence.applied(trash);
    }
    state.setShadow(r.id, { version: r.version, deleted: r.deletedAt !== null });
    this.changed.push(r.id);
    return undefined;
  }

  /**
   * Whether this device holds exactly this version of the record already (its own copy), key
   * and metadata included: anything else the server sends is trial-decrypted.
   */
  #known(id: string, l: LocalRecord | undefined, v: SealedVersion): boolean {
    const mine = l && l.version === v.version ? fromLocal(l) : this.#localVersion(id, v.version);
    return mine !== undefined && sameSealed(mine, v) && mine.kind === v.kind && mine.capturedAt === v.capturedAt && mine.epochDay === v.epochDay && mine.wrappedDek.equals(v.wrappedDek);
  }

  #localVersion(id: string, version: number): SealedVersion | undefined {
    const v = this.#s.localVersion.get(id, version) as LocalVersion | undefined;
    return v ? fromLocalVersion(v) : undefined;
  }

  #addVersion(id: string, v: SealedVersion): void {
    this.#s.addVersion.run(id, v.version, v.kind, v.capturedAt, v.epochDay, v.savedAt, v.wrappedDek, v.summary, v.content);
  }

  #setContent(id: string, v: SealedVersion): void {
    this.#s.setContent.run(v.kind, v.capturedAt, v.epochDay, v.savedAt, v.version, v.wrappedDek, v.summary, v.content, id);
  }

  /** The local versions after the base (the edits not on the server), oldest first. */
  #mine(l: LocalRecord, baseVersion: number): SealedVersion[] {
    const older = (this.#s.localVersionsAfter.all(l.id, baseVersion) as LocalVersion[]).filter((v) => v.version < l.version).map(fromLocalVersion);
    return [...older, fromLocal(l)];
  }

  #fastForward(l: LocalRecord, r: RemoteRecord, theirs: SealedVersion, history: SealedVersion[]): void {
    if (r.version <= l.version) return; // the server went back in time: keep ours (audit verification reports servers that do)
    this.#addVersion(l.id, fromLocal(l));
    for (const v of history) if (v.version > l.version && v.version < r.version) this.#addVersion(l.id, v);
    this.#setContent(l.id, theirs);
  }

  #merge(l: LocalRecord, r: RemoteRecord, theirs: SealedVersion, history: SealedVersion[], baseVersion: number): void {
    const { records, state } = this.ctx;
    const baseRow = baseVersion > 0 ? this.#localVersion(l.id, baseVersion) : undefined;
    const mineVersions = this.#mine(l, baseVersion);
    const theirsValues = valuesOf(records, l.id, theirs);
    const { merged, conflicts } = threeWayMerge(baseRow ? valuesOf(records, l.id, baseRow) : null, valuesOf(records, l.id, fromLocal(l)), theirsValues);
    // The history becomes the server's; our versions after the base live on in the conflict row.
    this.#s.dropVersionsAfter.run(l.id, baseVersion);
    for (const v of history) if (v.version > baseVersion && v.version < r.version) this.#addVersion(l.id, v);
    this.#conflict(l.id, baseVersion, mineVersions, theirs, conflicts);
    if (canonicalize(merged) === canonicalize(theirsValues)) this.#setContent(l.id, theirs);
    else {
      this.#addVersion(l.id, theirs);
      const sealed = sealMerged(this.ctx, l.id, theirs, merged);
      this.#setContent(l.id, sealed);
      state.enqueue('record', l.id);
      // The merged version is a new version of the record like any edit: other devices take it
      // only with this signed entry.
      const fields = MERGE_KEYS.filter((k) => canonicalize(merged[k]) !== canonicalize(theirsValues[k]));
      this.audit.push({ event: 'record.updated', target: target.record(l.id), details: { version: sealed.version, fields, via: 'sync merge' } });
    }
  }

  /** Keeps both sides (a merge without overlap too) and logs it; `fields` empty: merged. */
  #conflict(recordId: string, baseVersion: number, mine: SealedVersion[], theirs: SealedVersion | null, fields: string[]): void {
    const id = uuidv7();
    const merged = fields.length === 0;
    this.#s.conflict.run(id, recordId, baseVersion, theirs?.version ?? null, JSON.stringify(fields), encodeVersions(mine), theirs ? encodeVersions([theirs]) : null, merged ? 'merged' : 'open', Date.now());
    if (merged) this.merged++;
    else this.conflicts++;
    this.audit.push({ event: 'sync.conflict', target: target.record(recordId), success: merged, details: { conflict: id, merged, fields } });
  }
}

/** Seals merged values as the version after theirs, with the record's own data key. */
function sealMerged(ctx: SyncContext, id: string, theirs: SealedVersion, merged: RecordValues): SealedVersion {
  const keys = ctx.vault.keys();
  const { vaultId } = ctx.vault;
  const capturedAt = Date.parse(merged.capturedAt);
  const day = utcDay(new Date(capturedAt));
  // Another day: a new data key under that day's epoch key (codec.ts).
  const { dek, wrappedDek } = keyForDay(keys, vaultId, id, { day: theirs.epochDay, wrappedDek: theirs.wrappedDek }, day);
  try {
    const version = theirs.version + 1;
    const { summary, content } = splitInput(merged);
    const sealed = sealFields(dek, vaultId, id, version, { kind: theirs.kind, capturedAt }, summary, content);
    return { version, kind: theirs.kind, capturedAt, epochDay: day, savedAt: Date.now(), wrappedDek, summary: sealed.summary, content: sealed.content };
  } finally {
    wipe(dek);
  }
}
