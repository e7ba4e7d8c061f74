// Messages between Electron main (or the web shell) and the core worker thread. Main sends
// only validated calls; the worker asks main for native dialogs, since only main can show them.
import type { Envelope, EventName, Events, Method } from '../../shared/contract.ts';
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

export type ToWorker =
  | { type: 'call'; id: number; method: Method; request: unknown }
  | { type: 'dialog-result'; id: number; result: string[] | string | null }
  | { type: 'close' };

export type FromWorker =
  | { type: 'reply'; id: number; envelope: Envelope<unknown> }
  | { type: 'event'; event: EventName; payload: Events[EventName] }
  /** arg: the default file name of a save dialog, or the path to show in its folder. */
  | { type: 'dialog'; id: number; kind: DialogKind; arg?: string }
  | { type: 'closed' };
