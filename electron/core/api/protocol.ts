// Messages between Electron main (or the web shell) and the core worker thread. Main sends
// only validated calls; the worker asks main for native dialogs, since only main can show them.
// An upload (the web shell's raw request body) travels as chunks the worker acknowledges once
// encrypted, so main never holds more than a few MiB of it (UPLOAD_WINDOW).
import type { Envelope, EventName, Events, Method, UploadMethod } from '../../shared/contract.ts';
import type { Dialogs } from './handlers.ts';

export interface WorkerConfig {
  vaultDir: string;
  settingsFile: string;
  shell: 'electron' | 'web';
  appVersion: string;
  /** Whether main answers dialog requests (the desktop app) or not (the web shell). */
  dialogs: boolean;
}

export type DialogKind = keyof Dialogs;

/** Bytes of an upload main may have sent that the worker has not yet acknowledged. */
export const UPLOAD_WINDOW = 8 * 1024 * 1024;

export type ToWorker =
  | { type: 'call'; id: number; method: Method; request: unknown }
  /** Starts an upload: `request` is the validated call without `data`; chunks follow. */
  | { type: 'upload'; id: number; method: UploadMethod; request: unknown; size: number }
  | { type: 'upload-chunk'; id: number; data: Uint8Array }
  | { type: 'upload-end'; id: number }
  /** The body broke off (client gone): the worker drops what it encrypted so far. */
  | { type: 'upload-abort'; id: number }
  | { type: 'dialog-result'; id: number; result: string[] | string | null }
  | { type: 'close' };

export type FromWorker =
  | { type: 'reply'; id: number; envelope: Envelope<unknown> }
  | { type: 'event'; event: EventName; payload: Events[EventName] }
  /** `bytes` of upload `id` were encrypted: main may send that much more. */
  | { type: 'upload-ack'; id: number; bytes: number }
  /** arg: the default file name of a save dialog, or the path to show in its folder. */
  | { type: 'dialog'; id: number; kind: DialogKind; arg?: string }
  | { type: 'closed' };
