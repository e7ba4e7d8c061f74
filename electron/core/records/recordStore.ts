// Records: create, read, update with optimistic locking and history, soft delete, restore,
// purge. Every operation writes its audit entry in the same transaction as its change.
import { CustodyError } from '../../shared/errors.ts';
import {
  RecordInputSchema,
  RecordPatchSchema,
  type ParsedSearchQuery,
  type RecordInput,
  type RecordKind,
  type RecordPatch,
  type RecordSummary,
  type RecordVersionView,
  type RecordView,
} from '../../shared/records.ts';
import { randomKey, wipe } from '../crypto/keys.ts';
import { AttachmentRows } from '../attachments/rows.ts';
import { target } from '../audit/entry.ts';
import { uuidv7, UUID_RE } from '../util/ids.ts';
import { iso, utcDay } from '../util/time.ts';
import type { Vault } from '../vault/vault.ts';
import { checkEpochDay, keyForDay, openContent, openSummary, sealFields, unwrapDek, unwrapKeys, wrapDek, type Content, type Summary } from './codec.ts';
import { parseRequest } from '../../shared/parseRequest.ts';
import type { Record as RecordRow } from '../db/generated/client.ts';
import type Database from 'better-sqlite3';

/** What decrypt() reads of a record row. */
export type ScannedRow = Pick<RecordRow, 'id' | 'kind' | 'capturedAt' | 'epochDay' | 'updatedAt' | 'version' | 'deletedAt' | 'wrappedDek' | 'summary' | 'content'>;
type ScanTuple = [string, string, number, string, number, number, number | null, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>];
const SCAN_COLUMNS = 'SELECT id, kind, captured_at, epoch_day, updated_at, version, deleted_at, wrapped_dek, summary, content FROM record';

function fromTuple([id, kind, capturedAt, epochDay, updatedAt, version, deletedAt, wrappedDek, summary, content]: ScanTuple): ScannedRow {
  return { id, kind, capturedAt: new Date(capturedAt), epochDay, updatedAt: new Date(updatedAt), version, deletedAt: deletedAt === null ? null : new Date(deletedAt), wrappedDek, summary, content };
}

export interface DecryptedRecord {
  summary: RecordSummary;
  content: Content;
}

export function assertRecordId(id: string): void {
  if (!UUID_RE.test(id)) throw new CustodyError('BAD_REQUEST', `"${id}" is not a record id`);
}

/** Splits validated input into the two sealed fields. */
export function splitInput(r: { title: string; case: string; tags: string[]; classification: Summary['classification']; body: string; fields: Content['fields'] }): { summary: Summary; content: Content } {
  return { summary: { title: r.title, case: r.case, tags: r.tags, classification: r.classification }, content: { body: r.body, fields: r.fields } };
}

export class RecordStore {
  #scan: Database.Statement | undefined;
  #insert: Database.Statement | undefined;

  constructor(private readonly vault: Vault) {}

  /**
   * Validates input (unless core's API parsed it already: shared/parseRequest.ts); throws
   * BAD_REQUEST with the first problem, named by its place, never by what was sent.
   */
  static parseInput(input: unknown): ReturnType<typeof RecordInputSchema.parse> {
    return parseRequest(RecordInputSchema, input, 'the record');
  }

  async create(input: RecordInput): Promise<DecryptedRecord> {
    const data = RecordStore.parseInput(input);
    const keys = this.vault.keys();
    const { vaultId } = this.vault;
    const id = uuidv7();
    const now = new Date();
    const capturedAt = data.capturedAt ? new Date(data.capturedAt) : now;
    const day = utcDay(capturedAt);
    const dek = randomKey();
    const { summary, content } = splitInput(data);
    const sealed = sealFields(dek, vaultId, id, 1, { kind: data.kind, capturedAt }, summary, content);
    const wrappedDek = wrapDek(keys, vaultId, id, day, dek);
    wipe(dek);
    // One synchronous transaction with a prepared statement, as imports do: no Prisma query to
    // plan (tens of ms the first time in a process: `custody add`) and no await inside it.
    this.#insert ??= this.vault.db.sql.prepare(
      'INSERT INTO record (id, kind, captured_at, epoch_day, created_at, updated_at, version, deleted_at, wrapped_dek, summary, content) VALUES (?, ?, ?, ?, ?, ?, 1, NULL, ?, ?, ?)',
    );
    const insert = this.#insert;
    await this.vault.db.writeSync(() => {
      insert.run(id, data.kind, capturedAt.getTime(), day, now.getTime(), now.getTime(), wrappedDek, sealed.summary, sealed.content);
      this.vault.audit.appendSync(this.vault.meta, [{ event: 'record.created', target: target.record(id), details: { kind: data.kind } }], now);
    });
    return { summary: toSummary({ id, kind: data.kind, capturedAt, updatedAt: now, version: 1, deletedAt: null }, summary), content };
  }

  async #row(id: string): Promise<RecordRow> {
    assertRecordId(id);
    const row = await this.vault.db.prisma.record.findUnique({ where: { id } });
    if (!row) throw new CustodyError('NOT_FOUND', `no record ${id}`);
    return row;
  }

  /** Decrypts one row (no audit: callers decide what counts as a view). */
  decrypt(row: ScannedRow): DecryptedRecord {
    const { vaultId } = this.vault;
    checkEpochDay(row.id, row.capturedAt, row.epochDay);
    const dek = unwrapDek(this.vault.keys(), vaultId, row.id, row.epochDay, row.wrappedDek);
    try {
      const summary = openSummary(dek, vaultId, row.id, row.version, row, row.summary);
      const content = openContent(dek, vaultId, row.id, row.version, row, row.content);
      return { summary: toSummary(row, summary), content };
    } finally {
      wipe(dek);
    }
  }

  /**
   * Up to `limit` records after `afterId`, in id order, ready for decrypt(). The index build reads
   * the whole vault this way: a prepared statement on the shared connection (Prisma's row mapping
   * was a good share of a 100k-record build), in batches small enough to keep the thread responsive.
   */
  scan(afterId: string, limit: number): ScannedRow[] {
    this.#scan ??= this.vault.db.sql.prepare(`${SCAN_COLUMNS} WHERE id > ? ORDER BY id LIMIT ?`).raw();
    return (this.#scan.all(afterId, limit) as ScanTuple[]).map(fromTuple);
  }

  /**
   * A page of records filtered on what is stored in the clear (trash, kind, captured-at range),
   * newest capture first, and how many match: the listing shown while the search index builds.
   * Prepared statements, synchronous: the index build shares this thread, and each await of a
   * Prisma query could wait behind one of its slices.
   */
  listPage(q: Pick<ParsedSearchQuery, 'deleted' | 'kind' | 'capturedFrom' | 'capturedTo' | 'offset' | 'limit'>): { total: number; rows: ScannedRow[] } {
    const where = [q.deleted === 'exclude' ? 'deleted_at IS NULL' : q.deleted === 'only' ? 'deleted_at IS NOT NULL' : '1', q.kind ? 'kind = @kind' : '1', q.capturedFrom ? 'captured_at >= @from' : '1', q.capturedTo ? 'captured_at <= @to' : '1'].join(' AND ');
    const params = { ...(q.kind ? { kind: q.kind } : {}), ...(q.capturedFrom ? { from: Date.parse(q.capturedFrom) } : {}), ...(q.capturedTo ? { to: Date.parse(q.capturedTo) } : {}) };
    const sql = this.vault.db.sql;
    // Filtered on the trash alone, the count is every record less (or only) those in the trash:
    // count(*) of a whole table reads the narrowest index page by page, where a WHERE on
    // deleted_at steps every entry of a wide one (at 1M records 9 ms against 61 ms, and this
    // count is most of the first list page after unlock).
    const byTrashAlone = !q.kind && !q.capturedFrom && !q.capturedTo && q.deleted !== 'only';
    const count = !byTrashAlone
      ? `SELECT count(*) FROM record WHERE ${where}`
      : q.deleted === 'include'
        ? 'SELECT count(*) FROM record'
        : 'SELECT (SELECT count(*) FROM record) - (SELECT count(*) FROM record WHERE deleted_at IS NOT NULL)';
    const total = (sql.prepare(count).pluck().get(params) as number) ?? 0;
    // (deleted_at, captured_at, id) hands these rows over in order, without sorting the table.
    const page = sql.prepare(`${SCAN_COLUMNS} WHERE ${where} ORDER BY captured_at DESC, id DESC LIMIT @limit OFFSET @offset`).raw();
    return { total, rows: (page.all({ ...params, limit: q.limit, offset: q.offset }) as ScanTuple[]).map(fromTuple) };
  }

  /** Decrypts only what a list row shows. */
  decryptSummary(row: Pick<RecordRow, 'id' | 'kind' | 'capturedAt' | 'epochDay' | 'updatedAt' | 'version' | 'deletedAt' | 'wrappedDek' | 'summary'>): RecordSummary {
    const { vaultId } = this.vault;
    checkEpochDay(row.id, row.capturedAt, row.epochDay);
    const dek = unwrapDek(this.vault.keys(), vaultId, row.id, row.epochDay, row.wrappedDek);
    try {
      return toSummary(row, openSummary(dek, vaultId, row.id, row.version, row, row.summary));
    } finally {
      wipe(dek);
    }
  }

  /**
   * The record's key chain, for attachments: its current data key first (new attachments are
   * sealed with it), then the keys it had before moving to another day (codec.ts).
   */
  async dataKeys(id: string): Promise<{ keys: Buffer[]; row: RecordRow }> {
    const row = await this.#row(id);
    checkEpochDay(row.id, row.capturedAt, row.epochDay);
    return { keys: unwrapKeys(this.vault.keys(), this.vault.vaultId, row.id, row.epochDay, row.wrappedDek), row };
  }

  /** The record's current data key (what new attachments are sealed with). */
  async dataKey(id: string): Promise<{ dek: Buffer; row: RecordRow }> {
    const { keys, row } = await this.dataKeys(id);
    wipe(...keys.slice(1));
    return { dek: keys[0]!, row };
  }

  /** Reads a record and records the view in the audit log. */
  async view(id: string): Promise<DecryptedRecord & { row: RecordRow }> {
    const row = await this.#row(id);
    let rec: DecryptedRecord;
    try {
      rec = this.decrypt(row);
    } catch (e) {
      // A view that failed because the row was tampered with is evidence too.
      if (e instanceof CustodyError && e.code === 'TAMPERED') await this.vault.record({ event: 'record.viewed', target: target.record(id), success: false, details: { error: 'tampered' } });
      throw e;
    }
    await this.vault.record({ event: 'record.viewed', target: target.record(id) });
    return { ...rec, row };
  }

  async update(id: string, expectedVersion: number, patch: RecordPatch): Promise<DecryptedRecord> {
    const edit = parseRequest(RecordPatchSchema, patch, 'the record');
    const keys = this.vault.keys();
    const { vaultId } = this.vault;
    const row = await this.#row(id);
    if (row.deletedAt) throw new CustodyError('CONFLICT', `record ${id} is in the trash; restore it before editing`);
    if (edit.fields?.length && row.kind !== 'observation') throw new CustodyError('BAD_REQUEST', 'only observations have typed fields');
    const stale = async (actual: number) => {
      await this.vault.record({ event: 'record.update_rejected', target: target.record(id), success: false, details: { expected: expectedVersion, actual } });
      return new CustodyError('CONFLICT', `record ${id} changed since you opened it (you edited version ${expectedVersion}, it is now at version ${actual}); reload and edit again`);
    };
    if (row.version !== expectedVersion) throw await stale(row.version);

    const current = this.decrypt(row);
    const before: Record<string, unknown> = { ...current.summary, ...current.content };
    const edits = Object.entries(edit).filter(([, v]) => v !== undefined);
    const changed = edits.filter(([k, v]) => k === 'capturedAt' ? Date.parse(v as string) !== row.capturedAt.getTime() : JSON.stringify(v) !== JSON.stringify(before[k])).map(([k]) => k);
    const { summary, content } = splitInput({ ...current.summary, ...current.content, ...Object.fromEntries(edits) } as Summary & Content);
    const capturedAt = edit.capturedAt ? new Date(edit.capturedAt) : row.capturedAt;
    const day = utcDay(capturedAt);
    const version = row.version + 1;
    const now = new Date();
    // Moving a record to another day gives it a new data key under that day's epoch key.
    const { dek, wrappedDek } = keyForDay(keys, vaultId, id, { day: row.epochDay, wrappedDek: row.wrappedDek }, day);
    const sealed = sealFields(dek, vaultId, id, version, { kind: row.kind, capturedAt }, summary, content);
    wipe(dek);
    const applied = await this.vault.db.write(async (tx) => {
      // The version guard catches an edit that landed between our read and this write.
      const res = await tx.record.updateMany({ where: { id, version: expectedVersion, deletedAt: null }, data: { version, capturedAt, epochDay: day, updatedAt: now, wrappedDek, ...sealed } });
      if (res.count === 0) return false;
      await tx.recordVersion.create({
        data: { recordId: id, version: row.version, kind: row.kind, capturedAt: row.capturedAt, epochDay: row.epochDay, savedAt: row.updatedAt, wrappedDek: row.wrappedDek, summary: row.summary, content: row.content },
      });
      this.vault.audit.appendSync(this.vault.meta, [{ event: 'record.updated', target: target.record(id), details: { version, fields: changed } }], now);
      return true;
    });
    if (!applied) throw await stale((await this.#row(id)).version);
    return { summary: toSummary({ ...row, capturedAt, updatedAt: now, version }, summary), content };
  }

  async setDeleted(id: string, deleted: boolean): Promise<RecordSummary> {
    const row = await this.#row(id);
    if (deleted === (row.deletedAt !== null)) throw new CustodyError('CONFLICT', deleted ? `record ${id} is already in the trash` : `record ${id} is not in the trash`);
    const now = new Date();
    await this.vault.db.write(async (tx) => {
      await tx.record.update({ where: { id }, data: { deletedAt: deleted ? now : null } });
      this.vault.audit.appendSync(this.vault.meta, [{ event: deleted ? 'record.deleted' : 'record.restored', target: target.record(id) }], now);
    });
    return this.decryptSummary({ ...row, deletedAt: deleted ? now : null });
  }

  /** Removes a record from the trash for good; returns attachment ids whose blobs to delete. */
  async purge(id: string): Promise<string[]> {
    const row = await this.#row(id);
    if (!row.deletedAt) throw new CustodyError('CONFLICT', `record ${id} is not in the trash; delete it first`);
    const attachments = new AttachmentRows(this.vault.db.sql).idsOf(id);
    await this.vault.db.write(async (tx) => {
      await tx.record.delete({ where: { id } });
      this.vault.audit.appendSync(this.vault.meta, [{ event: 'record.purged', target: target.record(id), details: { attachments: attachments.length } }]);
    });
    return attachments;
  }

  async history(id: string): Promise<RecordVersionView[]> {
    const row = await this.#row(id);
    const older = await this.vault.db.prisma.recordVersion.findMany({ where: { recordId: id }, orderBy: { version: 'desc' } });
    const views: RecordVersionView[] = [{ ...this.#versionView(row, row.updatedAt), current: true }];
    for (const v of older) views.push({ ...this.#versionView({ ...v, id, updatedAt: v.savedAt, deletedAt: null }, v.savedAt), current: false });
    await this.vault.record({ event: 'record.history_viewed', target: target.record(id), details: { versions: views.length } });
    return views;
  }

  #versionView(row: Parameters<RecordStore['decrypt']>[0], savedAt: Date): Omit<RecordVersionView, 'current'> {
    const d = this.decrypt(row);
    return { version: row.version, savedAt: iso(savedAt), record: { ...d.summary, ...d.content, updatedAt: iso(row.updatedAt) } };
  }

  /** Pages through current rows in captured-at order (newest first). */
  async page(opts: { deleted?: 'exclude' | 'include' | 'only'; limit?: number; cursor?: string } = {}): Promise<RecordRow[]> {
    const deleted = opts.deleted ?? 'exclude';
    return this.vault.db.prisma.record.findMany({
      where: deleted === 'exclude' ? { deletedAt: null } : deleted === 'only' ? { deletedAt: { not: null } } : {},
      orderBy: [{ capturedAt: 'desc' }, { id: 'desc' }],
      take: opts.limit ?? 100,
      ...(opts.cursor ? { cursor: { id: opts.cursor }, skip: 1 } : {}),
    });
  }
}

export function toSummary(row: { id: string; kind: string; capturedAt: Date; updatedAt: Date; version: number; deletedAt: Date | null }, s: Summary): RecordSummary {
  return {
    id: row.id,
    kind: row.kind as RecordKind,
    title: s.title,
    case: s.case,
    tags: s.tags,
    classification: s.classification,
    capturedAt: iso(row.capturedAt),
    updatedAt: iso(row.updatedAt),
    version: row.version,
    deletedAt: row.deletedAt ? iso(row.deletedAt) : null,
  };
}

export function toView(d: DecryptedRecord, row: { createdAt: Date }, attachments: RecordView['attachments']): RecordView {
  return { ...d.summary, ...d.content, createdAt: iso(row.createdAt), attachments };
}
