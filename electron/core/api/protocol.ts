// Messages between Electron main (or the web shell) and the core worker thread. Main sends
// only validated calls. The worker never asks main for anything mid-call: a method that needs
// a native file dialog (DIALOG_METHODS) is asked about first ('plan': which dialog, and the
// answer should the user cancel), main shows the dialog, and the call then comes down with the
// chosen path(s) ('call-with-files'); a cancelled dialog never reaches the method at all.
// An upload (the web shell's raw request body) travels as chunks the worker acknowledges once
// encrypted, so main never holds more than a few MiB of it (UPLOAD_WINDOW).
import type { Envelope, EventName, Events, Method, ParsedRequestOf, UploadMethod } from '../../shared/contract.ts';

export interface WorkerConfig {
  vaultDir: string;
  settingsFile: string;
  shell: 'electron' | 'web';
  appVersion: string;
  /** Whether main shows native file dialogs before dialog methods (the desktop app) or not (the web shell). */
  nativeDialogs: boolean;
}

/** Bytes of an upload main may have sent that the worker has not yet acknowledged. */
export const UPLOAD_WINDOW = 8 * 1024 * 1024;

/**
 * Renderer methods that, in the desktop app, take their file from a native dialog main shows
 * before forwarding them. The renderer's request never names a file (the contract's schemas
 * are strict and have no path); in the web shell these go down as plain calls (bytes variants,
 * the report as bytes, no CA certificate file).
 */
export const DIALOG_METHODS = ['records.importFromDialog', 'attachments.addFromDialog', 'attachments.saveToDialog', 'reports.export', 'sync.configure'] as const satisfies readonly Method[];
export type DialogMethod = (typeof DIALOG_METHODS)[number];
export const isDialogMethod = (m: unknown): m is DialogMethod => (DIALOG_METHODS as readonly unknown[]).includes(m);

/** What each dialog method gets from its dialog, added to the renderer's request (main to worker only). */
export interface ChosenFiles {
  /** The JSON or CSV file to import. */
  'records.importFromDialog': { path: string };
  /** The files to attach. */
  'attachments.addFromDialog': { paths: string[] };
  /** Where to write the decrypted attachment. */
  'attachments.saveToDialog': { path: string };
  /** Where to write the signed report (a zip). */
  'reports.export': { path: string };
  /** The sync server's CA certificate (PEM), carried as sslrootcert. */
  'sync.configure': { path: string };
}
/** A request's named fields (an empty strict object's type is {[k: string]: never}, which would swallow the path). */
type Fields<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
/** The request of a 'call-with-files': never from the renderer, only main builds it. */
export type FileRequestOf<M extends DialogMethod> = Fields<ParsedRequestOf<M>> & ChosenFiles[M];

/** Main's dialogs (electron/main/dialogs.ts): open ones give paths, save ones ask for one under a default name. */
export type DialogKind = 'openFiles' | 'openImportFile' | 'openCertificate' | 'saveFile' | 'saveReport';

/**
 * Core's answer to 'plan': no dialog (forward the call as it is), or the dialog to show, with
 * the default name of a save dialog, the method's answer if the user cancels, and whether to
 * show the written file in its folder afterwards. Core refuses here (LOCKED, NOT_FOUND …)
 * before a dialog opens for nothing.
 */
export type DialogPlan =
  | { dialog: null }
  | { dialog: 'openFiles' | 'openImportFile' | 'openCertificate'; cancelled: unknown }
  | { dialog: 'saveFile' | 'saveReport'; defaultName: string; cancelled: unknown; reveal?: boolean };

export type ToWorker =
  | { type: 'call'; id: number; method: Method; request: unknown }
  /** Which dialog a dialog method needs before it runs; replies with an Envelope<DialogPlan>. */
  | { type: 'plan'; id: number; method: DialogMethod; request: unknown }
  /** A dialog method with what its dialog gave (FileRequestOf<method>), validated again by core. */
  | { type: 'call-with-files'; id: number; method: DialogMethod; request: unknown }
  /** Starts an upload: `request` is the validated call without `data`; chunks follow. */
  | { type: 'upload'; id: number; method: UploadMethod; request: unknown; size: number }
  | { type: 'upload-chunk'; id: number; data: Uint8Array }
  | { type: 'upload-end'; id: number }
  /** The body broke off (client gone): the worker drops what it encrypted so far. */
  | { type: 'upload-abort'; id: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'reply'; id: number; envelope: Envelope<unknown> }
  | { type: 'event'; event: EventName; payload: Events[EventName] }
  /** `bytes` of upload `id` were encrypted: main may send that much more. */
  | { type: 'upload-ack'; id: number; bytes: number }
  | { type: 'closed' };
