// The IPC contract between the renderer and main (docs/architecture.md, "Processes and trust"): one entry per
// method, with the schema main validates the request against and the response type.
// No method takes a table, a key or a file path from the renderer: files come from main's
// own dialogs, or as bytes the user dropped or picked.
import { z } from 'zod';
import { AuditQuerySchema, type AuditRow, type AuditStats } from './audit.ts';
import type { ErrorCode } from './errors.ts';
import { FILE_PARAMS_REFUSED, fileParamsOf } from './syncUrl.ts';
import {
  AddRecipientSchema,
  DiscloseRequestSchema,
  RemoveRecipientSchema,
  SharingPolicySchema,
  type DisclosureIssuedView,
  type EnvelopeInfo,
  type IdentityView,
  type IssuedGrantInfo,
  type PolicyName,
  type ReceivedGrantInfo,
  type ReceivedRecordInfo,
  type RecipientView,
  type SharingPolicy,
} from './sharing.ts';
import {
  RecordInputSchema,
  RecordPatchSchema,
  SearchQuerySchema,
  type AttachmentView,
  type RecordSummary,
  type RecordVersionView,
  type RecordView,
  type SearchResult,
} from './records.ts';

const id = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not an id');
const password = z.string().min(1).max(1024);
const none = z.object({}).strict();
const isoTime = z.iso.datetime({ offset: true });
/** Bytes the user handed over (drag-and-drop, a file picker in the browser shell). */
const bytes = z.instanceof(Uint8Array).refine((b) => b.byteLength <= 256 * 1024 * 1024, 'at most 256 MiB per upload');

export const SettingsSchema = z
  .object({
    autoLockMinutes: z.number().int().min(0).max(24 * 60),
    lockOnSuspend: z.boolean(),
    theme: z.enum(['system', 'light', 'dark']),
    /** Sync in the background every N minutes while unlocked (0: only when asked). */
    syncIntervalMinutes: z.number().int().min(0).max(24 * 60),
  })
  .strict();
export type Settings = z.infer<typeof SettingsSchema>;

/** What a signed report covers; the export itself happens in core (docs/architecture.md, "Signed reports"). */
export const ReportRequestSchema = z
  .object({
    purpose: z.string().trim().min(1, 'a report needs a purpose').max(500),
    recipient: z.string().trim().max(200).optional(),
    case: z.string().trim().max(200).optional(),
    recordIds: z.array(id).min(1).max(10_000).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
  })
  .strict();

export const methods = {
  'app.info': none,
  'vault.status': none,
  'vault.create': z.object({ password: z.string().min(8, 'at least 8 characters').max(1024), actor: z.string().trim().min(1).max(100).optional(), kdfTargetMs: z.number().int().min(200).max(10_000).optional() }).strict(),
  'vault.unlock': z.object({ password }).strict(),
  'vault.lock': none,
  'vault.changePassword': z.object({ oldPassword: password, newPassword: z.string().min(8).max(1024) }).strict(),
  'vault.recover': z.object({ recoveryKey: z.string().max(200), newPassword: z.string().min(8).max(1024) }).strict(),
  'vault.calibrateKdf': z.object({ targetMs: z.number().int().min(200).max(10_000) }).strict(),
  'records.search': SearchQuerySchema,
  'records.facets': none,
  'records.get': z.object({ id }).strict(),
  'records.create': RecordInputSchema,
  'records.update': z.object({ id, version: z.number().int().min(1), patch: RecordPatchSchema }).strict(),
  'records.delete': z.object({ id }).strict(),
  'records.restore': z.object({ id }).strict(),
  'records.purge': z.object({ id }).strict(),
  'records.history': z.object({ id }).strict(),
  'records.importFromDialog': none,
  'records.importBytes': z.object({ name: z.string().max(255), format: z.enum(['json', 'csv']), data: bytes }).strict(),
  'attachments.addFromDialog': z.object({ recordId: id }).strict(),
  'attachments.addBytes': z.object({ recordId: id, name: z.string().min(1).max(255), data: bytes }).strict(),
  'attachments.saveToDialog': z.object({ id }).strict(),
  'attachments.read': z.object({ id }).strict(),
  'attachments.verify': z.object({ id }).strict(),
  'audit.query': AuditQuerySchema,
  'audit.stats': z.object({ from: isoTime.optional(), to: isoTime.optional() }).strict(),
  'audit.verify': none,
  'reports.export': ReportRequestSchema,
  'sync.status': none,
  // A string from the window never names files on this computer (syncUrl.ts).
  'sync.configure': z
    .object({
      url: z.string().trim().min(1).max(2000).regex(/^postgres(ql)?:\/\//, 'a postgresql:// connection string').refine((u) => fileParamsOf(u).length === 0, FILE_PARAMS_REFUSED),
      /** Desktop: main asks for the server's CA certificate with its file dialog (sslrootcert). */
      caCertificateFromDialog: z.boolean().optional(),
    })
    .strict(),
  'sync.now': none,
  'sync.conflicts': none,
  'sync.conflict': z.object({ id }).strict(),
  'sync.resolve': z.object({ id, keep: z.enum(['mine', 'theirs']) }).strict(),
  'settings.get': none,
  'settings.set': SettingsSchema.partial().strict(),
  // Backups (docs/backup.md): the folder is set with the CLI (a window never names files here).
  'backup.status': none,
  'backup.setSchedule': z.object({ enabled: z.boolean(), everyHours: z.number().int().min(1).max(744), keep: z.number().int().min(1).max(1000) }).strict(),
  'backup.runNow': none,
  // Keys (docs/keys.md): the key registry, no key material.
  'keys.list': none,
  // Sharing (docs/sharing.md): identity, address book, policies, disclosures.
  'sharing.identity': none,
  'sharing.createIdentity': z.object({ replace: z.boolean().optional() }).strict(),
  'sharing.recipients': none,
  'sharing.addRecipient': AddRecipientSchema,
  'sharing.removeRecipient': RemoveRecipientSchema,
  'sharing.policy': none,
  'sharing.setPolicy': SharingPolicySchema.partial().strict(),
  'disclosures.issue': DiscloseRequestSchema,
  'disclosures.open': z.object({ data: bytes }).strict(),
  'disclosures.received': none,
  'disclosures.receivedGrant': z.object({ grantId: id }).strict(),
  'disclosures.viewReceived': z.object({ grantId: id, recordId: id }).strict(),
  'disclosures.issued': none,
  'envelopes.publish': none,
  'envelopes.list': z.object({ box: z.enum(['inbox', 'sent']) }).strict(),
  'envelopes.open': z.object({ id }).strict(),
  'envelopes.withdraw': z.object({ id }).strict(),
  'disclosures.receivedAttachment': z.object({ grantId: id, attachmentId: id }).strict(),
  'disclosures.acknowledge': z.object({ grantId: id }).strict(),
  'disclosures.importAck': z.object({ data: bytes }).strict(),
} as const satisfies Record<string, z.ZodType>;

export type Method = keyof typeof methods;

/**
 * Methods whose bytes may instead arrive as a raw request body, streamed into the vault's
 * encryption (the web shell's upload endpoint): the request's other fields, checked alike.
 */
export const uploads = { 'attachments.addBytes': methods['attachments.addBytes'].omit({ data: true }) } as const;
export type UploadMethod = keyof typeof uploads;
/** Most bytes one upload may carry (as for `data` in a call). */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
export const METHOD_NAMES = Object.keys(methods) as Method[];
export type RequestOf<M extends Method> = z.input<(typeof methods)[M]>;
export type ParsedRequestOf<M extends Method> = z.output<(typeof methods)[M]>;

export interface AppInfo {
  name: string;
  version: string;
  shell: 'electron' | 'web';
  platform: string;
  /** True when files can be picked with native dialogs (the desktop app). */
  nativeDialogs: boolean;
}

export interface VaultStatusView {
  exists: boolean;
  unlocked: boolean;
  vaultId: string | null;
  actor: string | null;
  kdf: { memoryKiB: number; iterations: number; parallelism: number } | null;
  index: { ready: boolean; size: number };
}

/** Result of checking the whole audit log (filled in by the tamper-evident log module). */
export interface AuditVerification {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /**
   * One per cause, with where it is. A cause that makes signed checkpoints fail (a deleted,
   * inserted or reordered row; a rewritten leaf) says how many: `affectedCheckpoints`.
   */
  problems: { kind: string; seq?: number; message: string; affectedCheckpoints?: number }[];
  checkedAt: string;
  /** Entries after the newest signed checkpoint (e.g. failed unlocks while locked): not yet signed. */
  unsignedTail?: number;
  /**
   * Which signing keys the checkpoints were checked against, and why they were trusted:
   * attested by the vault key (unlocked), pinned by the reader (--vkey), or read from the key
   * registry (locked: someone able to write the vault folder could have replaced it).
   */
  trust?: { basis: 'attested' | 'pinned' | 'registry'; keys: { fingerprint: string; vkey: string }[] };
}

export interface Responses {
  'sharing.identity': IdentityView | null;
  'sharing.createIdentity': IdentityView;
  'sharing.recipients': RecipientView[];
  /** warning: set when a classical (not post-quantum) recipient was accepted. */
  'sharing.addRecipient': { entry: RecipientView; warning: string | null };
  'sharing.removeRecipient': { ok: true };
  'sharing.policy': SharingPolicy;
  'sharing.setPolicy': { policy: SharingPolicy; changed: PolicyName[] };
  'disclosures.issue': DisclosureIssuedView;
  'disclosures.open': { grant: ReceivedGrantInfo; records: number; attachments: number; again: boolean };
  'disclosures.received': ReceivedGrantInfo[];
  'disclosures.receivedGrant': { grant: ReceivedGrantInfo; records: RecordSummary[] };
  'disclosures.viewReceived': ReceivedRecordInfo;
  'disclosures.issued': IssuedGrantInfo[];
  'envelopes.publish': { fingerprint: string; published: boolean };
  'envelopes.list': EnvelopeInfo[];
  'envelopes.open': { grant: ReceivedGrantInfo; records: number; attachments: number; again: boolean };
  'envelopes.withdraw': { ok: true };
  'disclosures.receivedAttachment': { name: string; mediaType: string; sha256: string; data: Uint8Array };
  'disclosures.acknowledge': { fileName: string; data: Uint8Array; grantSha256: string; reviewerFingerprint: string };
  'disclosures.importAck': { grantId: string; reviewerFingerprint: string; reviewerVaultId: string; acknowledgedAt: string; again: boolean };
  'app.info': AppInfo;
  'vault.status': VaultStatusView;
  'vault.create': { vaultId: string; recoveryKey: string };
  'vault.unlock': VaultStatusView;
  'vault.lock': VaultStatusView;
  'vault.changePassword': { ok: true };
  'vault.recover': VaultStatusView;
  'vault.calibrateKdf': { memoryKiB: number; iterations: number; parallelism: number };
  'records.search': SearchResult;
  'records.facets': { cases: string[]; tags: string[] };
  'records.get': RecordView;
  'records.create': RecordView;
  'records.update': RecordView;
  'records.delete': RecordSummary;
  'records.restore': RecordSummary;
  'records.purge': { ok: true };
  'records.history': RecordVersionView[];
  'records.importFromDialog': { imported: number } | null;
  'records.importBytes': { imported: number };
  'attachments.addFromDialog': AttachmentView[];
  'attachments.addBytes': AttachmentView;
  'attachments.saveToDialog': { saved: boolean };
  'attachments.read': { name: string; mediaType: string; data: Uint8Array };
  'attachments.verify': { ok: true; size: number; sha256: string };
  'audit.query': AuditRow[];
  'audit.stats': AuditStats;
  'audit.verify': AuditVerification;
  /** Desktop: saved as a zip where the user chose (null if cancelled). Browser: the zip's bytes to download. */
  /** vkeyFingerprint: of the key the report carries; the analyst gives it to the recipient out of band (custody verify shows it). */
  'reports.export': { fileName: string; records: number; entries: number; manifestSha256: string; checkpointSize: number; vkeyFingerprint: string; data?: Uint8Array } | null;
  'sync.status': SyncStatusView;
  /** cancelled: the CA certificate dialog was closed, nothing changed. */
  'sync.configure': SyncStatusView & { cancelled?: true };
  'sync.now': SyncResultView;
  'sync.conflicts': SyncConflictView[];
  'sync.conflict': SyncConflictDetailView;
  'sync.resolve': { recordId: string; version: number | null };
  'settings.get': Settings;
  'settings.set': Settings;
  'backup.status': BackupStatusView;
  'backup.setSchedule': BackupStatusView;
  'backup.runNow': BackupStatusView;
  'keys.list': KeysView;
}

/** One key of the registry (docs/keys.md); never key material. */
export interface KeyView {
  id: string;
  kind: string;
  algorithm: string;
  status: 'active' | 'rotation_queued' | 'retired' | 'expired' | 'revoked';
  createdAt: string;
  rotatedAt: string | null;
  expiresAt: string | null;
  fingerprint: string;
  usageCount: number;
  /** Epoch roots: the UTC days the root serves. */
  serves?: string;
  /** Days until expiry, when 30 or fewer. */
  expiresInDays?: number;
}

export interface KeysView {
  keys: KeyView[];
  /** Expiry and rotation warnings, one sentence each. */
  warnings: string[];
}

/** Scheduled backups; the folder is shown by its last path segment only (a full path can say too much). */
export interface BackupStatusView {
  unlocked: boolean;
  /** null: never set (custody backup schedule --folder DIR). */
  schedule: { enabled: boolean; folderName: string; everyHours: number; keep: number } | null;
  lastBackupAt: string | null;
  nextDueAt: string | null;
  lastError: string | null;
  running: boolean;
}

/** Sync with a PostgreSQL server (docs/architecture.md, "Sync"); the server address never includes its password here. */
export interface SyncStatusView {
  configured: boolean;
  server: string | null;
  lastSyncAt: string | null;
  pending: number;
  online: boolean;
  lastError: string | null;
  conflicts: number;
  nextAttemptAt: string | null;
}

export interface SyncResultView {
  pulled: { records: number; attachments: number; auditEntries: number };
  pushed: { records: number; attachments: number; auditEntries: number };
  merged: number;
  conflicts: number;
  /** What verifying the other devices' audit logs, and the records pulled, found wrong with the server (record: a server row refused). */
  problems: { device: string; kind: string; seq?: number; record?: string; message: string }[];
}

export interface SyncConflictView {
  id: string;
  recordId: string;
  title: string;
  fields: string[];
  status: 'open' | 'merged' | 'kept_mine' | 'kept_theirs';
  createdAt: string;
  resolvedAt: string | null;
}

export interface SyncConflictDetailView extends SyncConflictView {
  /** This device's and the other device's values of the conflicting fields (theirs null: purged there). */
  mine: Record<string, unknown>;
  theirs: Record<string, unknown> | null;
}

/** What crosses the wire: a value, or a typed error (never a stack, never a secret). */
export type Envelope<T> = { ok: true; value: T } | { ok: false, error: { code: ErrorCode; message: string; /** TOO_MANY_ATTEMPTS: seconds to wait. */ retryAfter?: number } };

/** Events main pushes to the renderer. */
export interface ProgressEvent {
  op: 'unlock' | 'index' | 'import' | 'attachment' | 'verify' | 'report' | 'sync' | 'backup';
  done: number;
  total: number;
  label?: string;
}
export interface Events {
  progress: ProgressEvent;
  /** The vault was locked by main (idle timer, suspend, screen lock, menu). */
  locked: { reason: 'idle' | 'suspend' | 'screen-lock' | 'menu' | 'user' };
  'index.ready': { size: number };
  /** A menu item or accelerator asked the UI to do something. */
  command: { name: 'new-record' | 'search' | 'lock' | 'settings' | 'audit' | 'about' };
}
export type EventName = keyof Events;

/** The API the renderer sees: exactly one function per method, plus event subscription. */
export type CustodyApi = { [M in Method]: (request: RequestOf<M>) => Promise<Responses[M]> } & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

/**
 * What the preload exposes as `window.custody`: the same methods, resolving to envelopes.
 * contextBridge drops custom properties of a rejected Error (the code would be lost), so
 * the renderer's client (renderer/src/api/client.ts) turns `ok: false` into a CustodyError.
 */
export type CustodyBridge = { [M in Method]: (request: RequestOf<M>) => Promise<Envelope<Responses[M]>> } & Pick<CustodyApi, 'on'>;

export const EVENT_CHANNEL = 'custody:event';
export const channelOf = (m: Method): string => `custody:${m}`;
