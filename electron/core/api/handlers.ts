// The IPC contract's methods over one Custody instance: what Electron main's core worker and
// the loopback web shell serve. Requests arrive validated (main's dispatch) and are validated
// again here, because this is the last door before keys and plaintext. Core shows no dialogs
// and asks for none: for a method that needs a file from a native dialog, main asks `plan`
// first, shows the dialog, then calls `invokeWithFiles` with the chosen path(s) (protocol.ts).
//
// The methods live in areas (<area>Handlers.ts), each a function of the shared CoreContext;
// adding an area is one line in AREAS below.
import { ZodError, type z } from 'zod';
import { methods, uploads, type Envelope, type Method, type UploadMethod } from '../../shared/contract.ts';
import { CustodyError } from '../../shared/errors.ts';
import { parseAtCore } from '../../shared/parseRequest.ts';
import { badRequestMessage } from '../../shared/schemaIssues.ts';
import type { PlaintextSource } from '../attachments/blobfile.ts';
import { attachmentHandlers } from './attachmentHandlers.ts';
import { auditHandlers } from './auditHandlers.ts';
import { backupHandlers } from './backupHandlers.ts';
import { keyHandlers } from './keyHandlers.ts';
import type { CoreArea, CoreContext, FileHandlers, HandlerDeps, Handlers, Planners, UploadHandlers } from './coreContext.ts';
import { fileCalls } from './fileCalls.ts';
import { logFailure, progressOf } from './progressEvents.ts';
import { isDialogMethod, type DialogMethod, type DialogPlan } from './protocol.ts';
import { recordHandlers } from './recordHandlers.ts';
import { reportHandlers } from './reportHandlers.ts';
import { settingsHandlers, settingsState } from './settingsHandlers.ts';
import { sharingHandlers } from './sharingHandlers.ts';
import { disclosureHandlers } from './disclosureHandlers.ts';
import { syncHandlers } from './syncHandlers.ts';
import { syncSession } from './syncSession.ts';
import { vaultHandlers } from './vaultHandlers.ts';
import { vaultSession } from './vaultSession.ts';
import { DISK_FULL_MESSAGE, isDiskFull } from '../backup/diskFull.ts';
import { damagedDatabaseError, isDatabaseDamaged } from '../backup/damaged.ts';

export type { FileHandlers, HandlerDeps, Handlers, Planners } from './coreContext.ts';
export { READ_LIMIT } from './attachmentHandlers.ts';

/** Every area of the API, one line each. */
const AREAS = [
  vaultHandlers,
  settingsHandlers,
  recordHandlers,
  attachmentHandlers,
  auditHandlers,
  reportHandlers,
  syncHandlers,
  sharingHandlers,
  disclosureHandlers,
  backupHandlers,
  keyHandlers,
] as const;

// Compile-time: every method of the contract has a handler in some area (createCore checks the
// same at run time, and that no method has two).
type HandledBy<A> = A extends (ctx: CoreContext) => { handlers: infer H } ? keyof H : never;
type Unhandled = Exclude<Method, HandledBy<(typeof AREAS)[number]>>;
const everyMethodHandled: [Unhandled] extends [never] ? true : { unhandled: Unhandled } = true;
void everyMethodHandled;

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

export function createCore(deps: HandlerDeps): CoreApi {
  const vault = vaultSession(deps.vaultDir);
  const settings = settingsState(deps.settingsFile);
  const sync = syncSession(() => vault.unlocked(), () => settings.current());
  const ctx: CoreContext = { deps, vault, settings, sync, progress: progressOf(deps.emit) };

  const { handlers, planners, fileHandlers, uploadHandlers } = composeAreas(AREAS.map((area): CoreArea => area(ctx)));

  /** Parses the request with `schema`, then runs it; every failure becomes an envelope. */
  async function run<T>(method: Method, schema: z.ZodType, request: unknown, call: (parsed: unknown) => Promise<T>): Promise<Envelope<T>> {
    // Core's parse, whatever main checked (another thread); the domain's doors then take the
    // result as parsed (shared/parseRequest.ts).
    const parsed = parseAtCore(schema, request);
    if (!parsed.success) return fail('BAD_REQUEST', badRequestMessage(parsed.error));
    try {
      return { ok: true, value: await call(parsed.data) };
    } catch (e) {
      return failureOf(method, e);
    }
  }

  return {
    handlers,
    async plan(method, request) {
      if (!isDialogMethod(method)) return fail('BAD_REQUEST', 'this method takes no file dialog');
      return run(method, methods[method], request, planners[method] as (request: unknown) => Promise<DialogPlan>);
    },
    async invokeWithFiles(method, request) {
      if (!isDialogMethod(method)) return fail('BAD_REQUEST', 'this method takes no file dialog');
      return run(method, fileCalls[method], request, fileHandlers[method] as (request: unknown) => Promise<unknown>);
    },
    async invoke(method, request) {
      const schema = Object.hasOwn(methods, method) ? methods[method] : undefined;
      if (!schema) return fail('BAD_REQUEST', `unknown method "${String(method)}"`);
      return run(method, schema, request, handlers[method] as (request: unknown) => Promise<unknown>);
    },
    async upload(method, request, source) {
      const schema = Object.hasOwn(uploads, method) ? uploads[method] : undefined;
      if (!schema) return fail('BAD_REQUEST', 'this method takes no upload');
      const call = uploadHandlers[method] as (request: unknown, source: PlaintextSource) => Promise<unknown>;
      return run(method, schema, request, (parsed) => call(parsed, source));
    },
    async close() {
      settings.forget();
      await sync.stop().catch(() => undefined);
      await vault.close();
    },
  };
}

/**
 * The tables of every area together: a method two areas register, or one no area handles
 * (a planner and a file handler for each dialog method, a handler for each upload), is refused.
 */
export function composeAreas(areas: readonly CoreArea[]): { handlers: Handlers; planners: Planners; fileHandlers: FileHandlers; uploadHandlers: UploadHandlers } {
  const handlers = {} as Handlers;
  const planners = {} as Planners;
  const fileHandlers = {} as FileHandlers;
  const uploadHandlers = {} as UploadHandlers;
  for (const a of areas) {
    merge(handlers, a.handlers);
    merge(planners, a.planners);
    merge(fileHandlers, a.fileHandlers);
    merge(uploadHandlers, a.uploads);
  }
  for (const [what, table, names] of [
    ['handler', handlers, Object.keys(methods)],
    ['planner', planners, Object.keys(fileCalls)],
    ['file handler', fileHandlers, Object.keys(fileCalls)],
    ['upload handler', uploadHandlers, Object.keys(uploads)],
  ] as const) {
    const missing = names.filter((m) => !Object.hasOwn(table, m));
    if (missing.length > 0) throw new Error(`no ${what} for ${missing.join(', ')}`);
  }
  return { handlers, planners, fileHandlers, uploadHandlers };
}

/** Adds an area's entries to a table; a method registered by two areas is a bug. */
function merge(table: object, entries: object | undefined): void {
  for (const [name, fn] of Object.entries(entries ?? {})) {
    if (Object.hasOwn(table, name)) throw new Error(`two areas register ${name}`);
    Object.defineProperty(table, name, { value: fn, enumerable: true });
  }
}

const fail = (code: CustodyError['code'], message: string, retryAfter?: number): Envelope<never> => ({ ok: false, error: { code, message, ...(retryAfter !== undefined ? { retryAfter } : {}) } });

function failureOf(method: Method, e: unknown): Envelope<never> {
  if (e instanceof CustodyError) return fail(e.code, e.message, e.retryAfter);
  if (e instanceof ZodError) return fail('BAD_REQUEST', badRequestMessage(e));
  // SQLITE_FULL or ENOSPC from wherever: said plainly, reading still works (backup/diskReserve.ts).
  if (isDiskFull(e)) return fail('DISK_FULL', DISK_FULL_MESSAGE);
  if (isDatabaseDamaged(e)) return fail('VAULT_CORRUPT', damagedDatabaseError(e).message);
  logFailure(method, e);
  return fail('INTERNAL', 'an unexpected error happened in the vault; the details are in the application log');
}
