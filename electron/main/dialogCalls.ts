// Native file dialogs come before the call, never in the middle of it (docs/architecture.md,
// "Processes and trust"). For a dialog method (DIALOG_METHODS in core/api/protocol.ts) main
// asks core which dialog to show ('plan': core refuses here when the vault is locked or the
// record is gone, before a dialog opens for nothing), shows it, and only then forwards the call
// with the chosen path(s). A cancelled dialog is answered here: core's method never runs.
// The renderer never sends a path: the contract's requests have none, and its strict schemas
// refuse one (main's dispatch validates before anything here runs).
// No electron import: the dialogs themselves are passed in (electron/main/dialogs.ts).
import { basename, dirname, join } from 'node:path';
import type { Envelope, Method } from '../shared/contract.ts';
import { isDialogMethod, type ChosenFiles, type DialogMethod, type DialogPlan } from '../core/api/protocol.ts';
import { failure, type CoreBackend } from './dispatch.ts';

/** The native dialogs main shows (electron/main/dialogs.ts). Paths come only from here. */
export interface Dialogs {
  /** Files to attach; empty when the user cancelled. */
  openFiles(): Promise<string[]>;
  /** A JSON or CSV file of records to import; null when the user cancelled. */
  openImportFile(): Promise<string | null>;
  /** The sync server's CA certificate (PEM); null when the user cancelled. */
  openCertificate(): Promise<string | null>;
  /** Where to save an attachment; null when the user cancelled. */
  saveFile(defaultName: string): Promise<string | null>;
  /** Where to save a signed report (a zip); null when the user cancelled. */
  saveReport(defaultName: string): Promise<string | null>;
  /** Shows a file core just wrote (a saved report) in the system's file manager. */
  showInFolder(path: string): Promise<void>;
}

/** Core as main's host offers it (the worker, or core in-process in tests). */
export interface DialogCore extends CoreBackend {
  plan(method: DialogMethod, request: unknown): Promise<Envelope<DialogPlan>>;
  callWithFiles(method: DialogMethod, request: unknown): Promise<Envelope<unknown>>;
}

/** `core` as a backend whose dialog methods show their dialog first. */
export function withDialogs(core: DialogCore, dialogs: Dialogs): CoreBackend {
  return {
    call: (method: Method, request: unknown) => (isDialogMethod(method) ? callWithDialog(core, dialogs, method, request) : core.call(method, request)),
    ...(core.upload ? { upload: core.upload.bind(core) } : {}),
  };
}

async function callWithDialog(core: DialogCore, dialogs: Dialogs, method: DialogMethod, request: unknown): Promise<Envelope<unknown>> {
  const plan = await core.plan(method, request);
  if (!plan.ok) return plan;
  const p = plan.value;
  if (p.dialog === null) return core.call(method, request);
  let chosen: ChosenFiles[DialogMethod] | null;
  try {
    chosen = await show(dialogs, p);
  } catch (e) {
    // The name only: a dialog's message may quote its default path (an attachment's name).
    console.error('[custody] file dialog failed:', e instanceof Error ? e.name : 'unknown error');
    return failure('INTERNAL', 'the file dialog could not be shown');
  }
  if (!chosen) return { ok: true, value: p.cancelled };
  const env = await core.callWithFiles(method, { ...(request as object), ...chosen });
  if (env.ok && 'reveal' in p && p.reveal && 'path' in chosen) {
    // A report is written as the zip named in the answer, beside the path chosen.
    const name = (env.value as { fileName?: unknown } | null)?.fileName;
    await dialogs.showInFolder(typeof name === 'string' ? join(dirname(chosen.path), basename(name)) : chosen.path).catch(() => undefined);
  }
  return env;
}

/** Shows the plan's dialog; null when the user cancelled. */
async function show(dialogs: Dialogs, p: Exclude<DialogPlan, { dialog: null }>): Promise<ChosenFiles[DialogMethod] | null> {
  switch (p.dialog) {
    case 'openFiles': {
      const paths = await dialogs.openFiles();
      return paths.length ? { paths } : null;
    }
    case 'openImportFile':
      return orNull(await dialogs.openImportFile());
    case 'openCertificate':
      return orNull(await dialogs.openCertificate());
    case 'saveFile':
      return orNull(await dialogs.saveFile(p.defaultName));
    case 'saveReport':
      return orNull(await dialogs.saveReport(p.defaultName));
  }
}

const orNull = (path: string | null): { path: string } | null => (path ? { path } : null);
