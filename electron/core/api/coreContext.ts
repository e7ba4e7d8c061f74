// What every area of the core API shares: the deps the shell gave, the vault session, the
// settings in force, the sync engine's lifetime, and progress events. An area
// (<area>Handlers.ts) is a function of this context returning its handlers; handlers.ts
// registers each area with one line.
import type { z } from 'zod';
import type { EventName, Events, Method, ParsedRequestOf, ProgressEvent, Responses, UploadMethod, uploads } from '../../shared/contract.ts';
import { CustodyError } from '../../shared/errors.ts';
import type { PlaintextSource } from '../attachments/blobfile.ts';
import type { Progress } from '../attachments/attachments.ts';
import type { fileCalls } from './fileCalls.ts';
import type { DialogMethod, DialogPlan } from './protocol.ts';
import type { SettingsState } from './settingsHandlers.ts';
import type { SyncSession } from './syncSession.ts';
import type { VaultSession } from './vaultSession.ts';

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
/** Upload methods with their bytes streamed from the request body (CoreApi.upload). */
export type UploadHandlers = { [M in UploadMethod]: (request: z.output<(typeof uploads)[M]>, source: PlaintextSource) => Promise<Responses[M]> };

/** What one area contributes; handlers.ts checks that every method has exactly one handler. */
export interface CoreArea {
  handlers: Partial<Handlers>;
  planners?: Partial<Planners>;
  fileHandlers?: Partial<FileHandlers>;
  uploads?: Partial<UploadHandlers>;
}

export interface CoreContext {
  deps: HandlerDeps;
  vault: VaultSession;
  settings: SettingsState;
  sync: SyncSession;
  /** A progress callback that emits `progress` events for `op`. */
  progress(op: ProgressEvent['op'], label?: string): Progress;
}

/** A dialog method called without its file: the web shell, which has no native dialogs. */
export const noDialog = (alternative: Method): CustodyError =>
  new CustodyError('BAD_REQUEST', `native file dialogs are only available in the desktop app; use ${alternative} here`);
