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
import type Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { target, type AuditInput } from '../../audit/entry.ts';
import { sealFields, unwrapDek, wrapDek } from '../../records/codec.ts';
import { splitInput } from '../../records/recordStore.ts';
import { wipe } from '../../crypto/keys.ts';
import { uuidv7 } from '../../util/ids.ts';
import { utcDay } from '../../util/time.ts';
import type { ServerRecord, ServerRecordVersion } from '../generated/client.ts';
import type { SyncContext } from './context.ts';
import { threeWayMerge, type RecordValues } from './merge.ts';
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
  const removedBlobs: string[] = [];
  const effects = await vault.db.writeSync(() => {
    state.set('applying', 1);
    const applier = new Applier(ctx, sql);
    for (const r of rows) applier.apply(r, history.get(r.id) ?? [], removedBlobs);
    if (cursor !== null) state.set('cursor_records', cursor);
    state.set('applying', null);
    if (applier.audit.length) vault.audit.appendSync(vault.meta, applier.audit);
    return { changed: applier.changed, conflicts: applier.conflicts, merged: applier.merged };
  });
  // The blobs of purged records go once their rows are gone for good.
  if (removedBlobs.length) ctx.removeBlobs(removedBlobs);
  return effects;
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
  attachmentsOf: sql.prepare('SELECT id FROM attachment WHERE record_id = ?'),
  purge: sql.prepare('DELETE FROM record WHERE id = ?'),
  dropOutbox: sql.prepare("DELETE FROM sync_outbox WHERE target_id = ? AND kind IN ('record', 'purge')"),
  conflict: sql.prepare('INSERT INTO sync_conflict (id, record_id, base_version, theirs_version, fields, mine, theirs, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
});

/** Applies server rows inside one local transaction (the outbox triggers stand aside). */
class Applier {
  readonly changed: string[] = [];
  readonly audit: AuditInput[] = [];
  conflicts = 0;
  merged = 0;
  readonly #s: ReturnType<typeof statements>;

  constructor(
    private readonly ctx: SyncContext,
    sql: Database.Database,
  ) {
    this.#s = statements(sql);
  }

  apply(r: RemoteRecord, history: SealedVersion[], removedBlobs: string[]): void {
    const { state } = this.ctx;
    const l = this.#s.local.get(r.id) as LocalRecord | undefined;
    const s = state.shadow(r.id);
    if (r.purgedAt !== null) {
      if (l) {
        // Edits made here to a record purged there are kept, as a conflict.
        if (s && l.version !== s.version) this.#conflict(r.id, s.version, this.#mine(l, s.version), null, ['purged']);
        for (const a of this.#s.attachmentsOf.all(r.id) as { id: string }[]) removedBlobs.push(a.id);
        this.#s.purge.run(r.id);
        this.#s.dropOutbox.run(r.id);
        this.changed.push(r.id);
      }
      state.setShadow(r.id, null);
      return;
    }
    const theirs = fromRemote(r);
    if (!l) {
      // Our purge is on its way; if the server refuses it, the record comes back then.
      if (state.hasPending('purge', r.id)) return;
      this.#s.insert.run(r.id, r.kind, r.capturedAt, r.epochDay, r.createdAt, r.updatedAt, r.version, r.deletedAt, theirs.wrappedDek, theirs.summary, theirs.content);
      for (const v of history) if (v.version < r.version) this.#addVersion(r.id, v);
      state.setShadow(r.id, { version: r.version, deleted: r.deletedAt !== null });
      this.changed.push(r.id);
      return;
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
    if (remoteEdit && !sameSealed(fromLocal(l), theirs)) {
      if (!localEdit) this.#fastForward(l, r, theirs, history);
      else this.#merge(l, r, theirs, history, base?.version ?? 0);
    }
    const localTrash = base !== undefined && (l.deleted_at !== null) !== base.deleted;
    if (!localTrash && (l.deleted_at !== null) !== (r.deletedAt !== null)) this.#s.setDeleted.run(r.deletedAt, r.id);
    state.setShadow(r.id, { version: r.version, deleted: r.deletedAt !== null });
    this.changed.push(r.id);
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
      this.#setContent(l.id, sealMerged(this.ctx, l.id, theirs, merged));
      state.enqueue('record', l.id);
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
  const dek = unwrapDek(keys, vaultId, id, theirs.epochDay, theirs.wrappedDek);
  try {
    const capturedAt = Date.parse(merged.capturedAt);
    const day = utcDay(new Date(capturedAt));
    const version = theirs.version + 1;
    const { summary, content } = splitInput(merged);
    const sealed = sealFields(dek, vaultId, id, version, summary, content);
    const wrappedDek = day === theirs.epochDay ? theirs.wrappedDek : wrapDek(keys, vaultId, id, day, dek);
    return { version, kind: theirs.kind, capturedAt, epochDay: day, savedAt: Date.now(), wrappedDek, summary: sealed.summary, content: sealed.content };
  } finally {
    wipe(dek);
  }
}
