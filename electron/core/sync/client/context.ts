// What every sync step works with, and the shapes they report.
import type { RecordStore } from '../../records/recordStore.ts';
import type { Vault } from '../../vault/vault.ts';
import type { SyncServer } from './server.ts';
import type { SyncState } from './state.ts';

export interface SyncProgress {
  phase: 'pull' | 'push' | 'audit';
  done: number;
  total: number;
}

/** Something the server did that an honest server cannot do (found by audit verification, or in a pulled row). */
export interface SyncProblem {
  /** The device whose log it concerns ('' for a record row). */
  device: string;
  kind: string;
  seq?: number;
  /** The record whose server row was refused. */
  record?: string;
  message: string;
}

export interface SyncContext {
  vault: Vault;
  records: RecordStore;
  state: SyncState;
  server: SyncServer;
  vaultId: string;
  deviceId: string;
  /** After each batch; a returned promise holds the pull or push until it settles (tests fault the connection there). */
  onProgress?: (p: SyncProgress) => void | Promise<void>;
  /** Deletes attachment blobs whose rows are gone (Attachments.removeBlobs). */
  removeBlobs(ids: readonly string[]): void;
  /**
   * Pulls and checks the other devices' audit entries again (auditSync.pullAudit): a pulled
   * change whose signed entry is missing may be one its device pushed a moment after this
   * device last pulled the audit.
   */
  refreshAudit?: () => Promise<void>;
}

/** Change numbers a push handed out: (from, to]. Lets the pull cursors skip our own changes. */
export interface SeqRange {
  from: number;
  to: number;
}

/** Moves every pull cursor that stood exactly at `from` to `to` (call inside writeSync). */
export function skipOwnChanges(state: SyncState, range: SeqRange | null): void {
  if (!range) return;
  for (const key of ['cursor_records', 'cursor_attachments'] as const) if (state.num(key) === range.from) state.set(key, range.to);
}
