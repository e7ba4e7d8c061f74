// The core's one entry point: the CLI calls it directly, Electron main through its worker.
// It owns the open vault, its services and the in-memory search index, and is where
// "after every change" duties live (index upkeep, signed checkpoints).
import { extname } from 'node:path';
import { CustodyError } from '../shared/errors.ts';
import type { AuditQuery, AuditRow, AuditStats } from '../shared/audit.ts';
import type { ParsedSearchQuery, RecordData, RecordInput, RecordPatch, RecordSummary, RecordVersionView, RecordView, SearchQuery, SearchResult } from '../shared/records.ts';
import { SearchQuerySchema } from '../shared/records.ts';
import { checkRequest } from '../shared/parseRequest.ts';
import { badRequestMessage } from '../shared/schemaIssues.ts';
import { calibrateKdf, type KdfParams } from './crypto/kdf.ts';
import { target } from './audit/entry.ts';
import { Attachments, type Progress } from './attachments/attachments.ts';
import { SearchAudit, type SettleClock } from './audit/searchAudit.ts';
import { importRecords, readImportFile, type ImportFormat } from './records/importer.ts';
import { RecordStore, toView } from './records/recordStore.ts';
import { IndexKeeper } from './search/indexKeeper.ts';
import type { SearchIndex } from './search/searchIndex.ts';
import { createVault, Vault, type OpenVaultOptions } from './vault/vault.ts';
import { metaValue } from './vault/meta.ts';

export interface CreateOptions {
  password: string;
  actor?: string;
  /** Calibrate Argon2id to take about this long here (otherwise: m=64 MiB, t=3, p=4). */
  kdfTargetMs?: number;
  kdf?: Partial<Omit<KdfParams, 'algorithm' | 'salt'>>;
}

export interface CustodyOpenOptions extends OpenVaultOptions {
  /** The clock that settles searches (searchAudit.ts); tests inject a fake one. */
  searchClock?: SettleClock;
}

export interface VaultStatus {
  vaultId: string;
  deviceId: string;
  actor: string;
  unlocked: boolean;
  kdf: { memoryKiB: number; iterations: number; parallelism: number };
  index: { ready: boolean; size: number };
  /** A problem found at open (e.g. the database is older than checkpoint.txt), or null. */
  integrityProblem: string | null;
}

/** A key marked rotation_queued, or a rotation policy (keys/registry.ts POLICY_META) that may have queued one. */
function rotationMayBeDue(vault: Vault): boolean {
  return metaValue(vault.db.sql, 'key_rotation_policy') !== undefined || vault.db.sql.prepare("SELECT EXISTS (SELECT 1 FROM key_registry WHERE status = 'rotation_queued')").pluck().get() === 1;
}

export class Custody {
  readonly records: RecordStore;
  readonly attachments: Attachments;
  /** The search index: loaded from its sealed file or built, kept up to date (search/indexKeeper.ts). */
  readonly indexKeeper: IndexKeeper;
  /** Decides which searches are audit entries (one per settled query). */
  readonly searchAudit: SearchAudit;

  private constructor(readonly vault: Vault, searchClock?: SettleClock) {
    this.records = new RecordStore(vault);
    this.attachments = new Attachments(vault, this.records);
    this.indexKeeper = new IndexKeeper(vault, this.records);
    this.searchAudit = new SearchAudit(() => vault.record(), searchClock);
    vault.audit.owe(this.searchAudit);
  }

  static async create(dir: string, opts: CreateOptions): Promise<{ vaultId: string; recoveryKey: string }> {
    const kdf = opts.kdf ?? (opts.kdfTargetMs ? await calibrateKdf(opts.kdfTargetMs) : undefined);
    return createVault(dir, { password: opts.password, actor: opts.actor, kdf });
  }

  static async open(dir: string, opts: CustodyOpenOptions = {}): Promise<Custody> {
    return new Custody(await Vault.open(dir, opts), opts.searchClock);
  }

  get index(): SearchIndex {
    return this.indexKeeper.index;
  }

  status(): VaultStatus {
    const { memoryKiB, iterations, parallelism } = this.vault.kdf;
    return {
      vaultId: this.vault.vaultId,
      deviceId: this.vault.meta.deviceId,
      actor: this.vault.meta.actor,
      unlocked: this.vault.unlocked,
      kdf: { memoryKiB, iterations, parallelism },
      index: { ready: this.index.ready, size: this.index.size },
      integrityProblem: this.vault.integrityProblem,
    };
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Unlocks; the search index is built afterwards in the background unless told not to. */
  async unlock(password: string, opts: { buildIndex?: boolean; onIndexProgress?: Progress } = {}): Promise<void> {
    await this.vault.unlock(password);
    // Rotations a key policy queued are done now (keys/policy.ts); one that fails stays queued and shown.
    // Loaded only when one may be due: with the rotations come backups and sharing, a third of the
    // modules a `custody add` would load.
    if (rotationMayBeDue(this.vault)) await import('./keys/policy.ts').then((m) => m.runQueuedRotations(this.vault)).catch(() => undefined);
    if (opts.buildIndex !== false) void this.buildIndex(opts.onIndexProgress).catch(() => undefined);
  }

  async recover(recoveryKey: string, newPassword: string): Promise<void> {
    await this.vault.recover(recoveryKey, newPassword);
  }

  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    await this.vault.changePassword(oldPassword, newPassword);
  }

  /**
   * Wipes keys and every decrypted cache. Never fails: if the lock's audit entry cannot be
   * written, the next unlock appends it (Vault.lock). A pending search is written first, in
   * the lock's own transaction; if that fails the keys go all the same.
   */
  async lock(): Promise<void> {
    this.indexKeeper.drop();
    try {
      await this.vault.lock();
    } finally {
      this.searchAudit.end();
    }
  }

  async close(): Promise<void> {
    await this.lock();
    await this.vault.close();
  }

  // ---- search index ------------------------------------------------------------------------

  /**
   * Makes the search index ready: loads the persisted one and applies what changed since, or
   * decrypts every record when there is none to trust (then persists it). A long-lived process
   * (not a CLI command) also follows other processes' changes to the vault.
   */
  buildIndex(onProgress?: Progress): Promise<void> {
    return this.indexKeeper.start({ onProgress, watch: this.vault.command === null });
  }

  /** Ids of the records the last finished index build left out because they failed as TAMPERED. */
  indexLeftOut(): readonly string[] {
    return this.indexKeeper.leftOut();
  }

  // ---- records -----------------------------------------------------------------------------

  async createRecord(input: RecordInput): Promise<RecordView> {
    const d = await this.records.create(input);
    this.indexKeeper.upserted(d.summary, d.content);
    return { ...d.summary, ...d.content, createdAt: d.summary.updatedAt, attachments: [] };
  }

  async getRecord(id: string): Promise<RecordView> {
    const d = await this.records.view(id);
    return toView(d, d.row, await this.attachments.list(id));
  }

  async updateRecord(id: string, version: number, patch: RecordPatch): Promise<RecordView> {
    const d = await this.records.update(id, version, patch);
    this.indexKeeper.upserted(d.summary, d.content);
    return this.#viewWithoutAudit(id);
  }

  async #viewWithoutAudit(id: string): Promise<RecordView> {
    const row = await this.vault.db.prisma.record.findUniqueOrThrow({ where: { id } });
    return toView(this.records.decrypt(row), row, await this.attachments.list(id));
  }

  /** The version an edit starts from when the caller did not read the record first. */
  async currentVersion(id: string): Promise<number> {
    const row = await this.vault.db.prisma.record.findUnique({ where: { id }, select: { version: true } });
    if (!row) throw new CustodyError('NOT_FOUND', `no record ${id}`);
    return row.version;
  }

  async deleteRecord(id: string): Promise<RecordSummary> {
    const s = await this.records.setDeleted(id, true);
    this.indexKeeper.summaryChanged(s);
    return s;
  }

  async restoreRecord(id: string): Promise<RecordSummary> {
    const s = await this.records.setDeleted(id, false);
    this.indexKeeper.summaryChanged(s);
    return s;
  }

  async purgeRecord(id: string): Promise<void> {
    const blobs = await this.records.purge(id);
    this.attachments.removeBlobs(blobs);
    await this.indexKeeper.removed(id);
  }

  history(id: string): Promise<RecordVersionView[]> {
    return this.records.history(id);
  }

  /** Lists from the database (no index needed: what the CLI uses). */
  async list(opts: { deleted?: 'exclude' | 'include' | 'only'; limit?: number; cursor?: string } = {}): Promise<RecordSummary[]> {
    this.vault.keys();
    const rows = await this.records.page(opts);
    return rows.map((r) => this.records.decryptSummary(r));
  }

  /**
   * Full-text search with filters. Each search the user made is an audit entry (its filters,
   * not its text): a refresh of the same query writes none, and search-as-you-type writes one
   * per settled query (searchAudit.ts).
   */
  async search(query: SearchQuery): Promise<SearchResult> {
    // Parsed here unless core's API just did (shared/parseRequest.ts).
    const q = checkRequest(SearchQuerySchema, query);
    if (!q.success) throw new CustodyError('BAD_REQUEST', badRequestMessage(q.error));
    this.vault.keys();
    if (!this.indexKeeper.started) await this.buildIndex();
    else if (!this.#canListFromDatabase(q.data)) {
      // Just unlocked: the persisted index loads in a moment; a build would take longer. (A listing
      // the database answers exactly, as the first page after unlock, does not wait for it.)
      await this.indexKeeper.loadAttempted;
      // Another process may have written since the last look (the watch looks every 250 ms).
      this.indexKeeper.poll();
    }
    const result = this.#canListFromDatabase(q.data) ? this.#listFromDatabase(q.data) : this.index.search(q.data);
    // Scrolling fetches further pages of the same search: the first page is the search.
    if (q.data.offset > 0) return result;
    // Locked while it ran: no results without their entry.
    this.vault.keys();
    // A command session (the CLI) writes its one search before it answers.
    await this.searchAudit.searched(q.data, result.total, { immediate: this.vault.command !== null });
    return result;
  }

  /**
   * While the index is still being built, a listing that filters only on what is stored in the
   * clear is answered exactly from the database (the index would show only what it has so far).
   */
  #canListFromDatabase(q: ParsedSearchQuery): boolean {
    return !this.index.ready && !q.text.trim() && q.case === undefined && q.tag === undefined && q.classification === undefined;
  }

  #listFromDatabase(q: ParsedSearchQuery): SearchResult {
    const { total, rows } = this.records.listPage(q);
    return { total, hits: rows.map((r) => ({ ...this.records.decryptSummary(r), score: 0 })), indexReady: false };
  }

  /** Brings the index up to date for records changed behind this object's back (sync pulls). */
  async reindex(ids: readonly string[]): Promise<void> {
    this.indexKeeper.reread(ids);
  }

  // ---- attachments --------------------------------------------------------------------------

  addAttachment(recordId: string, path: string, onProgress?: Progress) {
    return this.attachments.add(recordId, path, { onProgress });
  }

  extractAttachment(id: string, dest: string, opts: { onProgress?: Progress; purpose?: 'opened' | 'exported' } = {}) {
    return this.attachments.extract(id, dest, opts);
  }

  verifyAttachment(id: string, onProgress?: Progress) {
    return this.attachments.verify(id, onProgress);
  }

  // ---- import -------------------------------------------------------------------------------

  async importFile(path: string, opts: { format?: ImportFormat; onProgress?: Progress } = {}): Promise<{ imported: number; ids: string[] }> {
    const format = opts.format ?? (extname(path).toLowerCase() === '.csv' ? 'csv' : 'json');
    // Refuses a file over the import limit before reading it (importer.ts).
    return this.importText(readImportFile(path), format, opts);
  }

  /** Imports records from text already in memory (an upload: it never touches a temp file). */
  async importText(text: string | Uint8Array, format: ImportFormat, opts: { onProgress?: Progress } = {}): Promise<{ imported: number; ids: string[] }> {
    const done = await importRecords(this.vault, text, format, { onProgress: opts.onProgress });
    this.indexKeeper.inserted(done.map((r) => this.#splitImported(r)));
    return { imported: done.length, ids: done.map((r) => r.id) };
  }

  #splitImported(r: { id: string; data: RecordData }): { summary: RecordSummary; content: { body: string; fields: RecordData['fields'] } } {
    const now = new Date().toISOString();
    return {
      summary: { id: r.id, kind: r.data.kind, title: r.data.title, case: r.data.case, tags: r.data.tags, classification: r.data.classification, capturedAt: r.data.capturedAt ? new Date(r.data.capturedAt).toISOString() : now, updatedAt: now, version: 1, deletedAt: null },
      content: { body: r.data.body, fields: r.data.fields },
    };
  }

  // ---- audit ----------------------------------------------------------------------------------

  /** Reads the log, the searches made before included (a pending one is written first). */
  async auditQuery(q: AuditQuery): Promise<AuditRow[]> {
    await this.searchAudit.flush().catch(() => undefined);
    return this.vault.audit.query(q);
  }

  /** Counts over the log, the searches made before included (a pending one is written first). */
  async auditStats(range?: { from?: string; to?: string }): Promise<AuditStats> {
    await this.searchAudit.flush().catch(() => undefined);
    return this.vault.audit.stats(range);
  }

  async auditFailures(limit?: number): Promise<AuditRow[]> {
    await this.searchAudit.flush().catch(() => undefined);
    return this.vault.audit.failures(limit);
  }

  /**
   * Verifies the whole audit log (docs/architecture.md, "The audit log"); see verifyLog for what is checked and
   * Vault.verifyAudit for which signing keys are trusted (`vkey`: the reader's pinned key).
   */
  async verifyAudit(onProgress?: Progress, opts: { vkey?: string } = {}) {
    await this.searchAudit.flush().catch(() => undefined);
    return this.vault.verifyAudit(onProgress, opts);
  }

  /** Records an export of a record's content (e.g. the CLI printing it as JSON to a file). */
  async recordExported(id: string, details: Record<string, string>): Promise<void> {
    await this.vault.record({ event: 'record.exported', target: target.record(id), details });
  }
}
