// The IPC contract's methods over one Custody instance: what Electron main's core worker and
// the loopback web shell serve. Requests arrive validated (main's dispatch) and are validated
// again here, because this is the last door before keys and plaintext. Core shows no dialogs
// and asks for none: for a method that needs a file from a native dialog, main asks `plan`
// first, shows the dialog, then calls `invokeWithFiles` with the chosen path(s) (protocol.ts).
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ZodError, type z } from 'zod';
import {
  methods,
  uploads,
  type Envelope,
  type EventName,
  type Events,
  type Method,
  type ParsedRequestOf,
  type ProgressEvent,
  type Responses,
  type Settings,
  type UploadMethod,
  type VaultStatusView,
} from '../../shared/contract.ts';
import { CustodyError } from '../../shared/errors.ts';
import type { AttachmentView } from '../../shared/records.ts';
import { bytesSource, type PlaintextSource } from '../attachments/blobfile.ts';
import { Custody } from '../custody.ts';
import { calibrateKdf } from '../crypto/kdf.ts';
import { HEADER_FILE } from '../vault/header.ts';
import { exportReport } from '../reports/export.ts';
import { SyncEngine } from '../sync/client/engine.ts';
import { configureFromWindow } from './syncHandlers.ts';
import { fileCalls } from './fileCalls.ts';
import { firstIssue } from './issues.ts';
import { isDialogMethod, type DialogMethod, type DialogPlan } from './protocol.ts';
import { changedKeys, isSealedKey, readSettings, reconcileSettings, saveSettings, writeSettings } from './settings.ts';

export interface HandlerDeps {
  vaultDir: string;
  settingsFile: string;
  emit: <E extends EventName>(event: E, payload: Events[E]) => void;
  /** Whether the shell shows native file dialogs before dialog methods (Electron main) or not (the web shell). */
  nativeDialogs: boolean;
  shell: 'electron' | 'web';
  appVersion: string;
}

export type Handlers = { [M in Method]: (request: ParsedRequestOf<M>) => Promise<Responses[M]> };
/** Before a dialog method runs with a file: which dialog main shows (or none), checked against the vault now. */
export type Planners = { [M in DialogMethod]: (request: ParsedRequestOf<M>) => Promise<DialogPlan> };
/** Dialog methods with the path(s) main's dialog gave. */
export type FileHandlers = { [M in DialogMethod]: (request: z.output<(typeof fileCalls)[M]>) => Promise<Responses[M]> };

export interface CoreApi {
  handlers: Handlers;
  /** Validates and runs one call; every failure becomes a typed error envelope. */
  invoke(method: Method, request: unknown): Promise<Envelope<unknown>>;
  /** For a dialog method: the dialog main must show before the call, or a refusal (changes nothing). */
  plan(method: DialogMethod, request: unknown): Promise<Envelope<DialogPlan>>;
  /** Runs a dialog method with the path(s) main's dialog gave (`fileCalls` schemas). */
  invokeWithFiles(method: DialogMethod, request: unknown): Promise<Envelope<unknown>>;
  /**
   * Runs an upload method with its bytes streamed from `source` (the web shell's raw request
   * body) straight into the vault's encryption: never whole in memory, never in a temp file.
   * `request` is the call without `data`. Consumes nothing of `source` when refused early.
   */
  upload(method: UploadMethod, request: unknown, source: PlaintextSource): Promise<Envelope<unknown>>;
  /** Locks and closes the vault (app quit). */
  close(): Promise<void>;
}

// No plaintext temp files (uploads, imports, opened attachments, reports for the browser): bytes
// pass through memory, or stream straight into the vault's encrypted format.

/** Opening an attachment in the page sends its bytes over IPC: larger ones are saved instead. */
export const READ_LIMIT = 256 * 1024 * 1024;

const NO_VAULT: VaultStatusView = { exists: false, unlocked: false, vaultId: null, actor: null, kdf: null, index: { ready: false, size: 0 } };

export function createCore(deps: HandlerDeps): CoreApi {
  const { vaultDir, settingsFile, emit } = deps;
  let opened: Promise<Custody> | null = null;

  const vaultExists = () => existsSync(join(vaultDir, HEADER_FILE));

  /** The vault, opened on first use (locked); a failed open is retried on the next call. */
  function custody(): Promise<Custody> {
    if (!opened) {
      if (!vaultExists()) return Promise.reject(new CustodyError('VAULT_NOT_FOUND', 'there is no vault yet: create one first'));
      const p = Custody.open(vaultDir);
      p.catch(() => {
        if (opened === p) opened = null;
      });
      opened = p;
    }
    return opened;
  }

  async function unlocked(): Promise<Custody> {
    const c = await custody();
    c.vault.keys();
    return c;
  }

  // Sync: one engine while unlocked (its server address is sealed with the vault key), stopped
  // before the vault locks so a sync in flight never runs into wiped keys.
  let engine: SyncEngine | null = null;
  async function sync(): Promise<SyncEngine> {
    const c = await unlocked();
    engine ??= new SyncEngine(c);
    return engine;
  }
  async function startSyncLoop(): Promise<void> {
    const minutes = currentSettings().syncIntervalMinutes;
    const e = await sync();
    e.stop();
    if (minutes > 0 && e.status().configured) e.start(minutes * 60_000);
  }
  async function stopSync(): Promise<void> {
    const e = engine;
    engine = null;
    await e?.close();
  }

  // The settings in force while unlocked: the copy sealed in the vault wins over the file
  // beside it, which only a folder writer could have changed (see settings.ts).
  let effective: Settings | null = null;
  function currentSettings(): Settings {
    return effective ?? readSettings(settingsFile);
  }
  async function afterUnlock(c: Custody): Promise<void> {
    effective = await reconcileSettings(c.vault, settingsFile);
  }

  const progress =
    (op: ProgressEvent['op'], label?: string) =>
    (done: number, total: number): void =>
      emit('progress', label === undefined ? { op, done, total } : { op, done, total, label });

  function statusOf(c: Custody): VaultStatusView {
    const s = c.status();
    return { exists: true, unlocked: s.unlocked, vaultId: s.vaultId, actor: s.actor, kdf: s.kdf, index: s.index };
  }

  /** Builds the search index in the background after an unlock, reporting progress. */
  function startIndex(c: Custody): void {
    c.buildIndex(progress('index')).then(
      () => {
        if (c.index.ready) emit('index.ready', { size: c.index.size });
      },
      (e: unknown) => logFailure('search index build', e),
    );
  }

  /** A dialog method called without its file: the web shell, which has no native dialogs. */
  const noDialog = (alternative: Method) => new CustodyError('BAD_REQUEST', `native file dialogs are only available in the desktop app; use ${alternative} here`);
  const reportFileName = () => `custody-report-${new Date().toISOString().slice(0, 10)}.zip`;
  const reportProgress = (done: number, total: number, label: string) => emit('progress', { op: 'report', done, total, label });

  /** Encrypts plaintext as it arrives (from memory or a streamed request body) into a new attachment. */
  async function addStreamed(recordId: string, name: string, source: PlaintextSource): Promise<AttachmentView> {
    const c = await unlocked();
    return c.attachments.add(recordId, source, { name, onProgress: progress('attachment', name) });
  }

  async function attachmentMeta(c: Custody, id: string): Promise<AttachmentView> {
    const row = await c.vault.db.prisma.attachment.findUnique({ where: { id }, select: { recordId: true } });
    const meta = row && (await c.attachments.list(row.recordId)).find((a) => a.id === id);
    if (!meta) throw new CustodyError('NOT_FOUND', `no attachment ${id}`);
    return meta;
  }

  const handlers: Handlers = {
    'app.info': async () => ({ name: 'Custody', version: deps.appVersion, shell: deps.shell, platform: process.platform, nativeDialogs: deps.nativeDialogs }),

    // ---- vault --------------------------------------------------------------------------------
    'vault.status': async () => (vaultExists() ? statusOf(await custody()) : NO_VAULT),
    'vault.create': async ({ password, actor, kdfTargetMs }) => {
      const created = await Custody.create(vaultDir, { password, actor, kdfTargetMs });
      await custody();
      return created;
    },
    'vault.unlock': async ({ password }) => {
      const c = await custody();
      const step = progress('unlock');
      step(0, 1);
      try {
        await c.unlock(password, { buildIndex: false });
      } finally {
        step(1, 1);
      }
      await afterUnlock(c);
      startIndex(c);
      void startSyncLoop().catch((e: unknown) => logFailure('background sync', e));
      return statusOf(c);
    },
    'vault.lock': async () => {
      if (!opened) return vaultExists() ? statusOf(await custody()) : NO_VAULT;
      const c = await custody();
      // The lock must happen even if stopping sync fails.
      await stopSync().catch((e: unknown) => logFailure('stopping sync before the lock', e));
      effective = null;
      await c.lock();
      return statusOf(c);
    },
    'vault.changePassword': async ({ oldPassword, newPassword }) => {
      await (await unlocked()).changePassword(oldPassword, newPassword);
      return { ok: true };
    },
    'vault.recover': async ({ recoveryKey, newPassword }) => {
      const c = await custody();
      await c.recover(recoveryKey, newPassword);
      await afterUnlock(c);
      startIndex(c);
      return statusOf(c);
    },
    'vault.calibrateKdf': async ({ targetMs }) => calibrateKdf(targetMs),

    // ---- records ------------------------------------------------------------------------------
    'records.search': async (q) => (await unlocked()).search(q),
    'records.facets': async () => {
      const c = await unlocked();
      await c.buildIndex();
      return c.index.facets();
    },
    'records.get': async ({ id }) => (await unlocked()).getRecord(id),
    'records.create': async (input) => (await unlocked()).createRecord(input),
    'records.update': async ({ id, version, patch }) => (await unlocked()).updateRecord(id, version, patch),
    'records.delete': async ({ id }) => (await unlocked()).deleteRecord(id),
    'records.restore': async ({ id }) => (await unlocked()).restoreRecord(id),
    'records.purge': async ({ id }) => {
      await (await unlocked()).purgeRecord(id);
      return { ok: true };
    },
    'records.history': async ({ id }) => (await unlocked()).history(id),
    'records.importFromDialog': async () => {
      await unlocked();
      throw noDialog('records.importBytes');
    },
    'records.importBytes': async ({ name, format, data }) => {
      const c = await unlocked();
      // Parsed from memory; the name stays out of the audit log (it can say too much).
      const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
      const { imported } = await c.importText(text, format, { onProgress: progress('import', name) });
      return { imported };
    },

    // ---- attachments --------------------------------------------------------------------------
    'attachments.addFromDialog': async ({ recordId }) => {
      await (await unlocked()).currentVersion(recordId);
      throw noDialog('attachments.addBytes');
    },
    'attachments.addBytes': async ({ recordId, name, data }) => addStreamed(recordId, name, bytesSource(data)),
    'attachments.saveToDialog': async ({ id }) => {
      await attachmentMeta(await unlocked(), id);
      throw noDialog('attachments.read');
    },
    'attachments.read': async ({ id }) => {
      const c = await unlocked();
      const meta = await attachmentMeta(c, id);
      if (meta.size > READ_LIMIT) throw new CustodyError('BAD_REQUEST', `"${meta.name}" is too large to open here (${meta.size} bytes); save it to a file instead`);
      const { data } = await c.attachments.read(id, { onProgress: progress('attachment', meta.name) });
      return { name: meta.name, mediaType: meta.mediaType, data };
    },
    'attachments.verify': async ({ id }) => (await unlocked()).verifyAttachment(id, progress('verify')),

    // ---- audit --------------------------------------------------------------------------------
    'audit.query': async (q) => (await unlocked()).auditQuery(q),
    'audit.stats': async (range) => (await unlocked()).auditStats(range),
    'audit.verify': async () => (await unlocked()).verifyAudit(progress('verify')),

    // ---- reports ------------------------------------------------------------------------------
    // Without a file (the web shell): the zip's bytes, for the page to download.
    'reports.export': async (req) => {
      const c = await unlocked();
      const r = await exportReport(c, { ...req, zip: true, onProgress: reportProgress, outDir: '', toMemory: true });
      return { fileName: reportFileName(), records: r.records, entries: r.entries, manifestSha256: r.manifestSha256, checkpointSize: r.checkpointSize, vkeyFingerprint: r.vkeyFingerprint, data: r.data };
    },

    // ---- settings -----------------------------------------------------------------------------
    // ---- sync --------------------------------------------------------------------------------
    'sync.status': async () => (await sync()).status(),
    'sync.configure': async ({ url, caCertificateFromDialog }) => {
      const e = await sync();
      if (caCertificateFromDialog) throw new CustodyError('BAD_REQUEST', "choosing a CA certificate needs the desktop app's file dialog; here, use the command line: custody sync configure --ssl-root-cert <file>");
      await configureFromWindow(e, url);
      await startSyncLoop();
      return e.status();
    },
    'sync.now': async () => {
      const phases = { pull: 'pulling', push: 'pushing', audit: 'checking the other devices\' audit logs' } as const;
      return (await sync()).syncNow((p) => emit('progress', { op: 'sync', done: p.done, total: p.total, label: phases[p.phase] }));
    },
    'sync.conflicts': async () => (await sync()).conflicts({ all: true }),
    'sync.conflict': async ({ id }) => (await sync()).conflict(id) as Promise<Responses['sync.conflict']>,
    'sync.resolve': async ({ id, keep }) => (await sync()).resolveConflict(id, keep),

    'settings.get': async () => currentSettings(),
    'settings.set': async (patch) => {
      const c = opened ? await opened.catch(() => null) : null;
      if (c?.vault.unlocked && effective) {
        const before = effective;
        const after: Settings = { ...before, ...patch };
        const changed = await saveSettings(c.vault, settingsFile, before, after);
        effective = after;
        if (changed.includes('syncIntervalMinutes')) await startSyncLoop();
        return after;
      }
      // Locked: only the theme (the lock screen's look) lives outside the vault; the rest is
      // sealed in it and would be replaced by the sealed copy at the next unlock anyway.
      const sealed = Object.keys(patch).filter(isSealedKey);
      if (sealed.length > 0) throw new CustodyError('LOCKED', `unlock the vault to change ${sealed.join(', ')}`);
      const before = readSettings(settingsFile);
      const after: Settings = { ...before, ...patch };
      const changed = changedKeys(before, after);
      if (changed.length === 0) return before;
      writeSettings(settingsFile, after);
      if (vaultExists()) {
        const locked = await custody();
        await locked.vault.record({ event: 'settings.changed', details: { changed, ...Object.fromEntries(changed.map((k) => [k, after[k]])) } });
      }
      return after;
    },
  };

  // Dialog methods in the desktop app: what main's dialog must be (checked now, so a locked
  // vault or a missing record is refused before a dialog opens for nothing) ...
  const planners: Planners = {
    'records.importFromDialog': async () => {
      await unlocked();
      return { dialog: 'openImportFile', cancelled: null };
    },
    'attachments.addFromDialog': async ({ recordId }) => {
      await (await unlocked()).currentVersion(recordId);
      return { dialog: 'openFiles', cancelled: [] };
    },
    'attachments.saveToDialog': async ({ id }) => {
      const meta = await attachmentMeta(await unlocked(), id);
      return { dialog: 'saveFile', defaultName: meta.name, cancelled: { saved: false } };
    },
    'reports.export': async () => {
      await unlocked();
      return { dialog: 'saveReport', defaultName: reportFileName(), cancelled: null, reveal: true };
    },
    'sync.configure': async ({ caCertificateFromDialog }) => {
      if (!caCertificateFromDialog) return { dialog: null };
      const e = await sync();
      return { dialog: 'openCertificate', cancelled: { ...e.status(), cancelled: true } };
    },
  };

  // ... and the method itself, with the path(s) the dialog gave.
  const fileHandlers: FileHandlers = {
    'records.importFromDialog': async ({ path }) => {
      const { imported } = await (await unlocked()).importFile(path, { onProgress: progress('import', basename(path)) });
      return { imported };
    },
    'attachments.addFromDialog': async ({ recordId, paths }) => {
      const c = await unlocked();
      const added: AttachmentView[] = [];
      for (const path of paths) added.push(await c.attachments.add(recordId, path, { onProgress: progress('attachment', basename(path)) }));
      return added;
    },
    'attachments.saveToDialog': async ({ id, path }) => {
      const c = await unlocked();
      const meta = await attachmentMeta(c, id);
      await c.extractAttachment(id, path, { purpose: 'exported', onProgress: progress('attachment', meta.name) });
      return { saved: true };
    },
    'reports.export': async ({ path, ...req }) => {
      const c = await unlocked();
      const r = await exportReport(c, { ...req, zip: true, onProgress: reportProgress, outDir: path });
      return { fileName: basename(r.path), records: r.records, entries: r.entries, manifestSha256: r.manifestSha256, checkpointSize: r.checkpointSize, vkeyFingerprint: r.vkeyFingerprint };
    },
    'sync.configure': async ({ url, path }) => {
      const e = await sync();
      await configureFromWindow(e, url, path);
      await startSyncLoop();
      return e.status();
    },
  };

  return {
    handlers,
    async plan(method, request) {
      if (!isDialogMethod(method)) return fail('BAD_REQUEST', 'this method takes no file dialog');
      const parsed = methods[method].safeParse(request);
      if (!parsed.success) return fail('BAD_REQUEST', firstIssue(parsed.error));
      try {
        const run = planners[method] as (request: unknown) => Promise<DialogPlan>;
        return { ok: true, value: await run(parsed.data) };
      } catch (e) {
        return failureOf(method, e);
      }
    },
    async invokeWithFiles(method, request) {
      if (!isDialogMethod(method)) return fail('BAD_REQUEST', 'this method takes no file dialog');
      const parsed = fileCalls[method].safeParse(request);
      if (!parsed.success) return fail('BAD_REQUEST', firstIssue(parsed.error));
      try {
        const run = fileHandlers[method] as (request: unknown) => Promise<unknown>;
        return { ok: true, value: await run(parsed.data) };
      } catch (e) {
        return failureOf(method, e);
      }
    },
    async invoke(method, request) {
      const schema = Object.hasOwn(methods, method) ? methods[method] : undefined;
      if (!schema) return fail('BAD_REQUEST', `unknown method "${String(method)}"`);
      const parsed = schema.safeParse(request);
      if (!parsed.success) return fail('BAD_REQUEST', firstIssue(parsed.error));
      try {
        const run = handlers[method] as (request: unknown) => Promise<unknown>;
        return { ok: true, value: await run(parsed.data) };
      } catch (e) {
        return failureOf(method, e);
      }
    },
    async upload(method, request, source) {
      const schema = Object.hasOwn(uploads, method) ? uploads[method] : undefined;
      if (!schema) return fail('BAD_REQUEST', 'this method takes no upload');
      const parsed = schema.safeParse(request);
      if (!parsed.success) return fail('BAD_REQUEST', firstIssue(parsed.error));
      try {
        return { ok: true, value: await addStreamed(parsed.data.recordId, parsed.data.name, source) };
      } catch (e) {
        return failureOf(method, e);
      }
    },
    async close() {
      effective = null;
      await stopSync().catch(() => undefined);
      const c = opened ? await opened.catch(() => null) : null;
      opened = null;
      await c?.close();
    },
  };
}

const fail = (code: CustodyError['code'], message: string, retryAfter?: number): Envelope<never> => ({ ok: false, error: { code, message, ...(retryAfter !== undefined ? { retryAfter } : {}) } });

function failureOf(method: Method, e: unknown): Envelope<never> {
  if (e instanceof CustodyError) return fail(e.code, e.message, e.retryAfter);
  if (e instanceof ZodError) return fail('BAD_REQUEST', firstIssue(e));
  logFailure(method, e);
  return fail('INTERNAL', 'an unexpected error happened in the vault; the details are in the application log');
}

/** To stderr, without the request (it may hold passwords or content). */
function logFailure(what: string, e: unknown): void {
  console.error(`[custody] ${what} failed:`, e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
}
