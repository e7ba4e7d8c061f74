// SyncEngine: the core's sync API, for the CLI and the desktop app (through the core worker).
//
//   configure({ url })   store the server (sealed with the vault key), register vault and device
//   status()             configured, lastSyncAt, pending, online, lastError, conflicts
//   syncNow(onProgress)  audit pull and verification, pull (only changes other devices signed),
//                        push (with merges of refused edits, each batch after its audit entries)
//   conflicts()          edits that overlapped, for the user to resolve
//   resolveConflict(id, 'mine' | 'theirs')
//   verifyServer()       full comparison of the server's audit copies with the local ones
//   start() / stop()     background syncs with backoff and a circuit breaker
//   SyncEngine.join(dir, { url, password | recoveryKey+newPassword })   a second device
//
// Offline is the normal state: local changes queue in the outbox (in their own transactions),
// and a failed sync only records its error and when to try again.
import type { SyncConflictView, SyncResultView, SyncStatusView } from '../../../shared/contract.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustodyError } from '../../../shared/errors.ts';
import type { RecordPatch, RecordInput } from '../../../shared/records.ts';
import { AttachmentRows } from '../../attachments/rows.ts';
import { target, type AuditInput } from '../../audit/entry.ts';
import { Custody } from '../../custody.ts';
import { Mutex } from '../../util/mutex.ts';
import { iso } from '../../util/time.ts';
import { readHeader, writeHeader } from '../../vault/header.ts';
import { joinVault, type VaultSecret } from '../../vault/vault.ts';
import { redactUrl } from '../server/connectionString.ts';
import { pullAttachments, pushAttachments } from './attachmentSync.ts';
import { pullAudit, pushAudit, verifyServerAudit } from './auditSync.ts';
import type { SyncContext, SyncProblem, SyncProgress } from './context.ts';
import { registerDevice } from './device.ts';
import { exchangeEpochRoots } from '../../keys/syncKeys.ts';
import { lockIfRevoked } from '../../keys/deviceRevocation.ts';
import { publishDeviceRecipient } from '../../keys/deviceIdentity.ts';
import { followVaultKey, publishVaultKey } from '../../keys/vaultKeyEnvelopes.ts';
import { keysForJoin } from '../../keys/joinKeys.ts';
import { setMetaValue } from '../../vault/meta.ts';
import { MERGE_KEYS, threeWayMerge, type MergeKey, type RecordValues } from './merge.ts';
import { checkMissing, pullIds, pullRecords, pullRefused, refusals } from './pull.ts';
import { pushRecords } from './push.ts';
import { CircuitBreaker, DEFAULT_RETRY, type RetryPolicy } from './retry.ts';
import { decodeVersions, fromLocal, fromLocalVersion, valuesOf, type LocalRecord, type LocalVersion, type SealedVersion } from './rows.ts';
import { SyncServer, SyncServerError } from './server.ts';
import { SYNC_URL_KEY, SyncState } from './state.ts';

// The views the desktop's sync panel shows are the contract's (electron/shared/contract.ts).
export type SyncStatus = SyncStatusView;
export type SyncResult = SyncResultView;
export type ConflictView = SyncConflictView;

export interface ConflictDetail extends ConflictView {
  /** This device's values of the conflicting fields, and the other device's (null: purged). */
  mine: Partial<RecordValues>;
  theirs: Partial<RecordValues> | null;
}

export interface JoinOptions {
  url: string;
  /** Unlock with the vault's master password... */
  password?: string;
  /** ...or with its recovery key, choosing a new master password for this device. */
  recoveryKey?: string;
  newPassword?: string;
  /** Needed only when the analyst's role holds several vaults on the server. */
  vaultId?: string;
  actor?: string;
  /** The CLI command joining: the session is that command's (OpenVaultOptions.command). */
  command?: string;
  onProgress?: (p: SyncProgress) => void;
}

interface ConflictRow {
  id: string;
  record_id: string;
  base_version: number;
  fields: string;
  mine: Buffer;
  theirs: Buffer | null;
  status: ConflictView['status'];
  created_at: number;
  resolved_at: number | null;
}

export class SyncEngine {
  readonly #custody: Custody;
  readonly #state: SyncState;
  readonly #breaker: CircuitBreaker;
  readonly #mutex = new Mutex();
  #server: SyncServer | null = null;
  #registered = false;
  #online = false;
  #timer: NodeJS.Timeout | null = null;

  /** `now` is the circuit breaker's clock (injected by tests). */
  constructor(custody: Custody, opts: { retry?: RetryPolicy; now?: () => number } = {}) {
    this.#custody = custody;
    this.#state = new SyncState(custody.vault);
    this.#breaker = new CircuitBreaker(opts.retry ?? DEFAULT_RETRY, opts.now);
  }

  get #vault() {
    return this.#custody.vault;
  }

  // ---- configuration ---------------------------------------------------------------------------

  /** Connects to the server, registers this vault and device, and stores the address sealed. */
  async configure(opts: { url: string }): Promise<void> {
    await this.#mutex.run(async () => {
      const vault = this.#vault;
      vault.keys();
      const server = await SyncServer.connect(opts.url);
      try {
        const created = await registerDevice(server, vault);
        await vault.db.writeSync(() => {
          setMetaValue(vault.db.sql, SYNC_URL_KEY, this.#state.sealUrl(opts.url));
          // A server that had never seen this vault starts from nothing: so does our bookkeeping of it.
          if (created || this.#state.get('server_vault') !== vault.vaultId) resetBookkeeping(this.#state);
          this.#state.set('server_vault', vault.vaultId);
          // Everything not known to be on the server is queued (pushing is idempotent).
          const now = Date.now();
          vault.db.sql.prepare("INSERT INTO sync_outbox (kind, target_id, created_at) SELECT 'record', id, ? FROM record WHERE id NOT IN (SELECT record_id FROM sync_record)").run(now);
          const queue = vault.db.sql.prepare("INSERT INTO sync_outbox (kind, target_id, created_at) VALUES ('attachment', ?, ?)");
          for (const id of new AttachmentRows(vault.db.sql).allIds()) queue.run(id, now);
          vault.audit.appendSync(vault.meta, [{ event: 'settings.changed', details: { keys: ['sync'], sync: 'configured' } }]);
        });
      } catch (e) {
        await server.close();
        throw e;
      }
      await this.#server?.close();
      this.#server = server;
      this.#registered = true;
      this.#breaker.success();
    });
  }

  status(): SyncStatus {
    const vault = this.#vault;
    const configured = this.#state.configured;
    let server: string | null = null;
    if (configured && vault.unlocked) server = redactUrl(this.#state.url());
    const lastSyncAt = this.#state.get('last_sync_at');
    const open = (vault.db.sql.prepare("SELECT count(*) AS n FROM sync_conflict WHERE status = 'open'").get() as { n: number }).n;
    return {
      configured,
      server,
      lastSyncAt: lastSyncAt ? iso(Number(lastSyncAt)) : null,
      pending: configured ? this.#state.pendingCount() : 0,
      online: this.#online,
      lastError: this.#state.get('last_error') ?? null,
      conflicts: open,
      nextAttemptAt: this.#breaker.retryAt ? iso(this.#breaker.retryAt) : null,
    };
  }

  // ---- syncing -----------------------------------------------------------------------------------

  /** One full sync, now (also when the circuit breaker would wait). */
  syncNow(onProgress?: (p: SyncProgress) => void): Promise<SyncResult> {
    return this.#mutex.run(() => this.#sync(onProgress));
  }

  /** A sync after a local change or on a timer: skipped while the server is known to be down. */
  async requestSync(): Promise<SyncResult | null> {
    if (!this.#state.configured || !this.#vault.unlocked || !this.#breaker.allows()) return null;
    return this.syncNow().catch(() => null);
  }

  /** Syncs in the background every intervalMs (sooner after a failure's backoff ends). */
  start(intervalMs = 60_000): void {
    this.stop();
    const tick = async () => {
      await this.requestSync();
      const wait = this.#breaker.failures ? Math.max(250, this.#breaker.retryAt - Date.now()) : intervalMs;
      if (this.#timer) this.#timer = setTimeout(() => void tick(), Math.min(wait, intervalMs)).unref();
    };
    this.#timer = setTimeout(() => void tick(), 0).unref();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async close(): Promise<void> {
    this.stop();
    await this.#mutex.run(async () => {
      await this.#server?.close();
      this.#server = null;
    });
  }

  async #connected(): Promise<SyncServer> {
    this.#server ??= await SyncServer.connect(this.#state.url());
    return this.#server;
  }

  #context(server: SyncServer, onProgress?: (p: SyncProgress) => void): SyncContext {
    const vault = this.#vault;
    return {
      vault,
      records: this.#custody.records,
      state: this.#state,
      server,
      vaultId: vault.vaultId,
      deviceId: vault.meta.deviceId,
      onProgress,
      removeBlobs: (ids) => this.#custody.attachments.removeBlobs(ids),
    };
  }

  async #sync(onProgress?: (p: SyncProgress) => void): Promise<SyncResult> {
    const vault = this.#vault;
    vault.keys();
    if (!this.#state.configured) throw new CustodyError('BAD_REQUEST', 'sync is not configured; run "custody sync configure --url ..." or "custody sync join"');
    const result: SyncResult = { pulled: { records: 0, attachments: 0, auditEntries: 0 }, pushed: { records: 0, attachments: 0, auditEntries: 0 }, merged: 0, conflicts: 0, problems: [] };
    const changed: string[] = [];
    try {
      const server = await this.#connected();
      const ctx = this.#context(server, onProgress);
      if (!this.#registered) {
        await registerDevice(server, vault);
        this.#registered = true;
      }
      // A device another device revoked is told so and locks (keys/deviceRevocation.ts).
      const revocationProblems = await lockIfRevoked(server, this.#custody);
      // This device's encryption key, then vault key rotations: one made here and not yet sent,
      // and those other devices sent here (keys/deviceIdentity.ts, keys/vaultKeyEnvelopes.ts).
      await publishDeviceRecipient(server, vault);
      await publishVaultKey(server, this.#custody);
      const keyProblems = [...revocationProblems, ...(await followVaultKey(server, this.#custody)).problems];
      // Epoch roots a rotation made here or elsewhere, before records sealed under them (keys/syncKeys.ts).
      await exchangeEpochRoots(server, vault);
      // The other devices' audit first: a pulled edit, trash change or purge is applied only
      // with its device's signed entry (evidence.ts), looked for again when one is missing.
      const auditProblems: SyncProblem[] = [];
      const pullAuditNow = async () => {
        const audit = await pullAudit(ctx);
        result.pulled.auditEntries += audit.entries;
        for (const p of audit.problems) if (!auditProblems.some((q) => q.message === p.message)) auditProblems.push(p);
      };
      await pullAuditNow();
      ctx.refreshAudit = pullAuditNow;
      const took = (pulled: Awaited<ReturnType<typeof pullRecords>>) => {
        changed.push(...pulled.changed);
        result.merged += pulled.merged;
        result.conflicts += pulled.conflicts;
      };
      const pulled = await pullRecords(ctx);
      took(pulled);
      result.pulled.records += pulled.records;
      // Rows refused before, in case the server put them right; then rows it lost outright.
      const retried = await pullRefused(ctx);
      took(retried);
      await checkMissing(ctx);
      result.pulled.attachments += await pullAttachments(ctx);
      if (retried.changed.length) result.pulled.attachments += await pullAttachments(ctx, retried.changed);
      // A refused push means another device got there first: pull that record, merge, push again.
      for (let round = 0; round < 3; round++) {
        const pushed = await pushRecords(ctx);
        result.pushed.records += pushed.records;
        result.pushed.auditEntries += pushed.auditEntries;
        if (pushed.rejected.length === 0) break;
        const again = await pullIds(ctx, pushed.rejected);
        took(again);
        result.pulled.attachments += await pullAttachments(ctx, again.changed);
      }
      result.pushed.attachments += await pushAttachments(ctx);
      result.pushed.auditEntries += await pushAudit(ctx);
      result.problems = [...keyProblems, ...auditProblems, ...refusals(ctx)];
      // Syncs that moved only audit entries are not themselves logged, or two devices would
      // keep sending each other the entry about the last exchange.
      const entries: AuditInput[] = [];
      if (result.pushed.records || result.pushed.attachments) entries.push({ event: 'sync.pushed', details: { records: result.pushed.records, attachments: result.pushed.attachments, auditEntries: result.pushed.auditEntries } });
      if (result.pulled.records || result.pulled.attachments) entries.push({ event: 'sync.pulled', details: { records: result.pulled.records, attachments: result.pulled.attachments, auditEntries: result.pulled.auditEntries, merged: result.merged, conflicts: result.conflicts } });
      await vault.db.writeSync(() => {
        if (entries.length) vault.audit.appendSync(vault.meta, entries);
        this.#state.set('last_sync_at', Date.now());
        this.#state.set('last_error', result.problems.length ? `the server misbehaved: ${result.problems[0]!.message}` : null);
      });
      this.#online = true;
      this.#breaker.success();
    } catch (e) {
      const err = e instanceof CustodyError ? e : new CustodyError('INTERNAL', `sync failed: ${(e as Error).message}`);
      const transient = err instanceof SyncServerError && err.transient;
      this.#online = !transient && err instanceof SyncServerError;
      this.#breaker.failure();
      if (transient) {
        // Reconnect from scratch next time (the pool may hold connections the server dropped).
        await this.#server?.close();
        this.#server = null;
      }
      await vault.db.writeSync(() => {
        this.#state.set('last_error', err.message);
        this.#state.failed(this.#breaker.retryAt, err.message);
      });
      throw err;
    } finally {
      await this.#custody.reindex([...new Set(changed)]);
    }
    return result;
  }

  /** Compares the server's copies of every device's audit log with the copies held here. */
  async verifyServer(): Promise<SyncProblem[]> {
    return this.#mutex.run(async () => {
      this.#vault.keys();
      return verifyServerAudit(this.#context(await this.#connected()));
    });
  }

  // ---- conflicts ----------------------------------------------------------------------------------

  conflicts(opts: { all?: boolean } = {}): ConflictView[] {
    const rows = this.#vault.db.sql.prepare(`SELECT * FROM sync_conflict ${opts.all ? '' : "WHERE status = 'open'"} ORDER BY created_at`).all() as ConflictRow[];
    return rows.map((r) => this.#view(r));
  }

  /** A conflict with both sides' values of the fields in question (recorded as a view). */
  async conflict(id: string): Promise<ConflictDetail> {
    const row = this.#row(id);
    const mine = this.#values(row.record_id, decodeVersions(row.mine).at(-1)!);
    const theirsVersions = row.theirs ? decodeVersions(row.theirs) : null;
    const theirs = theirsVersions ? this.#values(row.record_id, theirsVersions.at(-1)!) : null;
    const keys = (JSON.parse(row.fields) as string[]).filter((k): k is MergeKey => (MERGE_KEYS as readonly string[]).includes(k));
    const pick = (v: RecordValues) => Object.fromEntries((keys.length ? keys : MERGE_KEYS).map((k) => [k, v[k]])) as Partial<RecordValues>;
    await this.#vault.record({ event: 'record.viewed', target: target.record(row.record_id), details: { via: 'sync conflict', conflict: id } });
    return { ...this.#view(row), mine: pick(mine), theirs: theirs ? pick(theirs) : null };
  }

  /**
   * Resolves a conflict. theirs: the record stays as it is. mine: the fields in conflict take
   * this device's values, as a new version (pushed like any edit); for a record another device
   * purged, this device's version comes back as a new record.
   */
  async resolveConflict(id: string, choice: 'mine' | 'theirs'): Promise<{ recordId: string; version: number | null }> {
    const row = this.#row(id);
    if (row.status !== 'open') throw new CustodyError('CONFLICT', `conflict ${id} is already resolved (${row.status})`);
    let result: { recordId: string; version: number | null } = { recordId: row.record_id, version: null };
    if (choice === 'mine') {
      const mineVersion = decodeVersions(row.mine).at(-1)!;
      const mine = this.#values(row.record_id, mineVersion);
      const current = this.#vault.db.sql.prepare('SELECT version FROM record WHERE id = ?').get(row.record_id) as { version: number } | undefined;
      if (!row.theirs || !current) {
        const r = await this.#custody.createRecord({ kind: mineVersion.kind as RecordInput['kind'], ...mine });
        result = { recordId: r.id, version: r.version };
      } else {
        const base = this.#vault.db.sql.prepare('SELECT * FROM record_version WHERE record_id = ? AND version = ?').get(row.record_id, row.base_version) as LocalVersion | undefined;
        const theirs = this.#values(row.record_id, decodeVersions(row.theirs).at(-1)!);
        const { merged } = threeWayMerge(base ? this.#values(row.record_id, fromLocalVersion(base)) : null, mine, theirs, 'mine');
        const keys = JSON.parse(row.fields) as MergeKey[];
        const patch = Object.fromEntries(keys.map((k) => [k, merged[k]])) as RecordPatch;
        const r = await this.#custody.updateRecord(row.record_id, current.version, patch);
        result = { recordId: r.id, version: r.version };
      }
    }
    const status = choice === 'mine' ? 'kept_mine' : 'kept_theirs';
    await this.#vault.db.writeSync(() => {
      this.#vault.db.sql.prepare('UPDATE sync_conflict SET status = ?, resolved_at = ? WHERE id = ?').run(status, Date.now(), id);
      this.#vault.audit.appendSync(this.#vault.meta, [{ event: 'sync.conflict', target: target.record(row.record_id), details: { conflict: id, resolution: choice, ...(result.recordId !== row.record_id ? { restoredAs: result.recordId } : {}) } }]);
    });
    return result;
  }

  #row(id: string): ConflictRow {
    const row = this.#vault.db.sql.prepare('SELECT * FROM sync_conflict WHERE id = ?').get(id) as ConflictRow | undefined;
    if (!row) throw new CustodyError('NOT_FOUND', `no conflict ${id}`);
    return row;
  }

  #values(recordId: string, v: SealedVersion): RecordValues {
    return valuesOf(this.#custody.records, recordId, v);
  }

  #view(r: ConflictRow): ConflictView {
    const current = this.#vault.db.sql.prepare('SELECT * FROM record WHERE id = ?').get(r.record_id) as LocalRecord | undefined;
    const title = this.#values(r.record_id, current ? fromLocal(current) : decodeVersions(r.mine).at(-1)!).title;
    return {
      id: r.id,
      recordId: r.record_id,
      title,
      fields: JSON.parse(r.fields) as string[],
      status: r.status,
      createdAt: iso(r.created_at),
      resolvedAt: r.resolved_at === null ? null : iso(r.resolved_at),
    };
  }

  // ---- a second device ------------------------------------------------------------------------------

  /**
   * Creates a vault in `dir` (new or empty) from the server: the same vault, opened by the
   * same password or recovery key, with a new device id and signing key (registered on the
   * server), then pulls everything. Returns the unlocked vault and its engine.
   */
  static async join(dir: string, opts: JoinOptions): Promise<{ custody: Custody; engine: SyncEngine; result: SyncResult }> {
    if (!opts.password && !opts.recoveryKey) throw new CustodyError('BAD_REQUEST', "joining needs the vault's master password or its recovery key");
    if (opts.recoveryKey && !opts.newPassword) throw new CustodyError('BAD_REQUEST', 'joining with the recovery key needs a new master password for this device');
    const secret: VaultSecret = opts.recoveryKey ? { recoveryKey: opts.recoveryKey } : { password: opts.password! };
    const server = await SyncServer.connect(opts.url);
    try {
      const vaults = await server.query('list vaults', (p) => p.serverVault.findMany({ where: opts.vaultId ? { id: opts.vaultId } : {}, select: { id: true, header: true } }));
      if (vaults.length === 0) throw new CustodyError('NOT_FOUND', opts.vaultId ? `the server holds no vault ${opts.vaultId} for this role` : 'the server holds no vault for this role; configure sync on the first device');
      if (vaults.length > 1) throw new CustodyError('BAD_REQUEST', `this role holds ${vaults.length} vaults on the server (${vaults.map((v) => v.id).join(', ')}); choose one with --vault-id`);
      const remote = vaults[0]!;
      const header = parseHeader(remote.header);
      if (header.vaultId !== remote.id) throw new CustodyError('TAMPERED', 'the vault header on the server names another vault');
      // After vault key rotations: the newest header the secret opens, and every key re-wrapped by its key (keys/joinKeys.ts).
      const [keys, later] = await server.query('read the vault keys', (p) =>
        Promise.all([p.serverVaultKey.findMany({ where: { vaultId: remote.id } }), p.serverVaultHeader.findMany({ where: { vaultId: remote.id }, orderBy: { createdAt: 'desc' } })]),
      );
      const headers = [...later.map((h) => parseHeader(h.header)).filter((h) => h.vaultId === remote.id && h.createdAt === header.createdAt), header];
      const joined = await keysForJoin(remote.id, headers, keys, secret);
      await joinVault(
        dir,
        joined.header,
        joined.rows,
        secret,
        { actor: opts.actor },
      );
    } finally {
      await server.close();
    }
    const custody = await Custody.open(dir, opts.command ? { command: opts.command } : {});
    try {
      if (opts.recoveryKey) await custody.recover(opts.recoveryKey, opts.newPassword!);
      else await custody.unlock(opts.password!, { buildIndex: false });
      const engine = new SyncEngine(custody);
      await engine.configure({ url: opts.url });
      const result = await engine.syncNow(opts.onProgress);
      return { custody, engine, result };
    } catch (e) {
      await custody.close();
      throw e;
    }
  }
}

function resetBookkeeping(state: SyncState): void {
  state.sql.exec('DELETE FROM sync_record; DELETE FROM remote_record_event; DELETE FROM remote_audit_entry; DELETE FROM remote_device; DELETE FROM sync_refusal;');
  for (const key of ['cursor_records', 'cursor_attachments', 'audit_pushed', 'checkpoint_pushed', 'last_sync_at', 'last_error'] as const) state.set(key, null);
}

/** Validates a header the server sent exactly as a vault.json is validated. */
function parseHeader(json: string): ReturnType<typeof readHeader> {
  const dir = mkdtempSync(join(tmpdir(), 'custody-join-'));
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new CustodyError('VAULT_CORRUPT', 'the vault header on the server is not JSON');
    }
    writeHeader(dir, parsed as Parameters<typeof writeHeader>[1]);
    return readHeader(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
