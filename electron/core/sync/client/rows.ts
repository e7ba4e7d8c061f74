// Sealed record rows as sync moves them: the local SQLite rows (raw, times in ms), the
// server's rows, and the JSON form conflicts keep them in. Only ciphertext columns and
// routing metadata ever appear here; decrypting is RecordStore's job.
import type { RecordStore } from '../../records/recordStore.ts';
import type { RecordValues } from './merge.ts';

/** A row of the local record table as better-sqlite3 returns it. */
export interface LocalRecord {
  id: string;
  kind: string;
  captured_at: number;
  epoch_day: string;
  created_at: number;
  updated_at: number;
  version: number;
  deleted_at: number | null;
  wrapped_dek: Buffer;
  summary: Buffer;
  content: Buffer;
}

/** A row of the local record_version table. */
export interface LocalVersion {
  record_id: string;
  version: number;
  kind: string;
  captured_at: number;
  epoch_day: string;
  saved_at: number;
  wrapped_dek: Buffer;
  summary: Buffer;
  content: Buffer;
}

/** A record as the server holds it (a tombstone when purgedAt is set). */
export interface RemoteRecord {
  id: string;
  kind: string;
  capturedAt: number;
  epochDay: string;
  createdAt: number;
  updatedAt: number;
  version: number;
  deletedAt: number | null;
  purgedAt: number | null;
  wrappedDek: Buffer | null;
  summary: Buffer | null;
  content: Buffer | null;
  changeSeq: number;
  /** The device the server names as the row's last writer (its word only). */
  deviceId: string;
}

/** One sealed version, in the form conflicts store and everything converts to. */
export interface SealedVersion {
  version: number;
  kind: string;
  capturedAt: number;
  epochDay: string;
  savedAt: number;
  wrappedDek: Buffer;
  summary: Buffer;
  content: Buffer;
}

export const fromLocal = (r: LocalRecord): SealedVersion => ({
  version: r.version,
  kind: r.kind,
  capturedAt: r.captured_at,
  epochDay: r.epoch_day,
  savedAt: r.updated_at,
  wrappedDek: r.wrapped_dek,
  summary: r.summary,
  content: r.content,
});

export const fromLocalVersion = (v: LocalVersion): SealedVersion => ({
  version: v.version,
  kind: v.kind,
  capturedAt: v.captured_at,
  epochDay: v.epoch_day,
  savedAt: v.saved_at,
  wrappedDek: v.wrapped_dek,
  summary: v.summary,
  content: v.content,
});

/** The sealed version of a live (not purged) server record. */
export function fromRemote(r: RemoteRecord): SealedVersion {
  if (!r.wrappedDek || !r.summary || !r.content) throw new Error(`record ${r.id} was purged on the server`);
  return { version: r.version, kind: r.kind, capturedAt: r.capturedAt, epochDay: r.epochDay, savedAt: r.updatedAt, wrappedDek: r.wrappedDek, summary: r.summary, content: r.content };
}

/** Same ciphertext: the same push (random nonces make a coincidence impossible). */
export const sameSealed = (a: Pick<SealedVersion, 'version' | 'summary' | 'content'>, b: Pick<SealedVersion, 'version' | 'summary' | 'content'>): boolean =>
  a.version === b.version && a.summary.equals(b.summary) && a.content.equals(b.content);

const b64 = (b: Buffer) => b.toString('base64');

export function encodeVersions(versions: readonly SealedVersion[]): Buffer {
  return Buffer.from(JSON.stringify(versions.map((v) => ({ ...v, wrappedDek: b64(v.wrappedDek), summary: b64(v.summary), content: b64(v.content) }))), 'utf8');
}

export function decodeVersions(blob: Uint8Array): SealedVersion[] {
  const list = JSON.parse(Buffer.from(blob).toString('utf8')) as (Omit<SealedVersion, 'wrappedDek' | 'summary' | 'content'> & { wrappedDek: string; summary: string; content: string })[];
  return list.map((v) => ({ ...v, wrappedDek: Buffer.from(v.wrappedDek, 'base64'), summary: Buffer.from(v.summary, 'base64'), content: Buffer.from(v.content, 'base64') }));
}

/** Decrypts a sealed version of record `id` into the values merges compare. */
export function valuesOf(records: RecordStore, id: string, v: SealedVersion): RecordValues {
  const d = records.decrypt({ id, kind: v.kind, capturedAt: new Date(v.capturedAt), epochDay: v.epochDay, updatedAt: new Date(v.savedAt), version: v.version, deletedAt: null, wrappedDek: new Uint8Array(v.wrappedDek), summary: new Uint8Array(v.summary), content: new Uint8Array(v.content) });
  return { title: d.summary.title, case: d.summary.case, tags: d.summary.tags, classification: d.summary.classification, body: d.content.body, fields: d.content.fields, capturedAt: d.summary.capturedAt };
}
