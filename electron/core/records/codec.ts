// Sealing a record version: a random data key (DEK) per record, wrapped by the epoch key of
// its captured-at day; two sealed fields (summary: what a list shows; content: the rest).
//
// Formats of a sealed field (summary, content; in record and record_version rows alike):
//   v1 (vaults made before format 2): nonce || ciphertext || tag, associated data = vault,
//      record, version, field. Still read, never written.
//   v2: 0x02 || nonce || ciphertext || tag, associated data = vault, record, version, field,
//      kind, captured-at (ms) and its UTC day: a folder writer (or a server) who changes or
//      swaps a row's kind, captured_at or epoch_day makes the record fail as TAMPERED.
// The format byte travels with the ciphertext, so sync and conflict copies need no new column.
// A v1 nonce may begin with 0x02 too: such a blob fails as v2 and is then read as v1; a real v2
// blob never opens as v1 (other nonce, other associated data), so nothing is downgraded.
//
// The wrapped DEK's plaintext is the record's key chain: its current DEK, then the keys it had
// before it moved to another day (newest first). Moving a record to another UTC day draws a new
// DEK, wrapped under the new day's epoch key, so a holder of the old day's key cannot read what
// is written after the move; the older keys stay in the chain for the attachments (sealed once,
// under the key current when they were added, and immutable on the sync server) and for the
// versions in the record's history, which keep their own wrapped DEK.
import { z } from 'zod';
import { CLASSIFICATIONS, FieldSchema, type Classification, type Field } from '../../shared/records.ts';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { randomKey, wipe } from '../crypto/keys.ts';
import { utcDay } from '../util/time.ts';
import type { Keyring } from '../vault/keyring.ts';

export interface Summary {
  title: string;
  case: string;
  tags: string[];
  classification: Classification;
}
export interface Content {
  body: string;
  fields: Field[];
}

/** What of a record is stored in the clear beside its ciphertext, and bound to it (format 2). */
export interface RecordMeta {
  kind: string;
  capturedAt: Date | number;
}

const SummarySchema = z.object({ title: z.string(), case: z.string(), tags: z.array(z.string()), classification: z.enum(CLASSIFICATIONS) });
const ContentSchema = z.object({ body: z.string(), fields: z.array(FieldSchema) });

export const FORMAT_V2 = 0x02;
const KEY = 32;

type FieldName = 'summary' | 'content';
const ms = (t: Date | number) => (typeof t === 'number' ? t : t.getTime());
const dekAd = (vaultId: string, recordId: string, day: string) => ad('dek', vaultId, recordId, day);
const fieldAdV1 = (vaultId: string, recordId: string, version: number, field: FieldName) => ad('record', vaultId, recordId, version, field);
const fieldAdV2 = (vaultId: string, recordId: string, version: number, field: FieldName, meta: RecordMeta) =>
  ad('record/v2', vaultId, recordId, version, field, meta.kind, ms(meta.capturedAt), utcDay(new Date(ms(meta.capturedAt))));

/** Wraps a key chain (current DEK first) under the epoch key of `day`. */
export function wrapKeys(keys: Keyring, vaultId: string, recordId: string, day: string, chain: readonly Uint8Array[]): Buffer<ArrayBuffer> {
  const plain = Buffer.concat(chain);
  try {
    return seal(keys.epochKey(day), plain, dekAd(vaultId, recordId, day));
  } finally {
    wipe(plain);
  }
}

export function wrapDek(keys: Keyring, vaultId: string, recordId: string, day: string, dek: Buffer): Buffer<ArrayBuffer> {
  return wrapKeys(keys, vaultId, recordId, day, [dek]);
}

/** The record's key chain: [current DEK, keys it had before moving to another day...]. */
export function unwrapKeys(keys: Pick<Keyring, 'epochKey'>, vaultId: string, recordId: string, day: string, wrapped: Uint8Array): Buffer[] {
  const plain = open(keys.epochKey(day), wrapped, dekAd(vaultId, recordId, day), `the key of record ${recordId}`);
  if (plain.length === 0 || plain.length % KEY !== 0) {
    wipe(plain);
    throw new CustodyError('TAMPERED', `the key of record ${recordId} is malformed`);
  }
  const chain: Buffer[] = [];
  for (let i = 0; i < plain.length; i += KEY) chain.push(Buffer.from(plain.subarray(i, i + KEY)));
  wipe(plain);
  return chain;
}

/** The record's current data key. */
export function unwrapDek(keys: Keyring, vaultId: string, recordId: string, day: string, wrapped: Uint8Array): Buffer {
  const [dek, ...older] = unwrapKeys(keys, vaultId, recordId, day, wrapped);
  wipe(...older);
  return dek!;
}

/**
 * The wrapped key chain for a record whose version is sealed on `day`: the same wrapping when
 * the day is unchanged, else a new DEK with the old chain behind it, wrapped under the new
 * day's key. Returns the DEK to seal the version with (the caller wipes it).
 */
export function keyForDay(keys: Keyring, vaultId: string, recordId: string, from: { day: string; wrappedDek: Uint8Array }, day: string): { dek: Buffer; wrappedDek: Buffer<ArrayBuffer> } {
  const chain = unwrapKeys(keys, vaultId, recordId, from.day, from.wrappedDek);
  if (day === from.day) {
    wipe(...chain.slice(1));
    return { dek: chain[0]!, wrappedDek: Buffer.from(from.wrappedDek) as Buffer<ArrayBuffer> };
  }
  const dek = randomKey();
  try {
    return { dek, wrappedDek: wrapKeys(keys, vaultId, recordId, day, [dek, ...chain]) };
  } finally {
    wipe(...chain);
  }
}

function sealV2(dek: Buffer, plain: Buffer, adv2: Buffer): Buffer<ArrayBuffer> {
  return Buffer.concat([Buffer.of(FORMAT_V2), seal(dek, plain, adv2)]) as Buffer<ArrayBuffer>;
}

/** Seals both fields of a version in the current format (2). */
export function sealFields(dek: Buffer, vaultId: string, recordId: string, version: number, meta: RecordMeta, s: Summary, c: Content): { summary: Buffer<ArrayBuffer>; content: Buffer<ArrayBuffer> } {
  return {
    summary: sealV2(dek, Buffer.from(JSON.stringify(s)), fieldAdV2(vaultId, recordId, version, 'summary', meta)),
    content: sealV2(dek, Buffer.from(JSON.stringify(c)), fieldAdV2(vaultId, recordId, version, 'content', meta)),
  };
}

/** Opens a field of either format (see the top of this file). */
function openField(dek: Buffer, vaultId: string, recordId: string, version: number, field: FieldName, meta: RecordMeta, sealed: Uint8Array): Buffer {
  const what = `record ${recordId}`;
  if (sealed[0] === FORMAT_V2) {
    try {
      return open(dek, sealed.subarray(1), fieldAdV2(vaultId, recordId, version, field, meta), what);
    } catch (v2) {
      try {
        return open(dek, sealed, fieldAdV1(vaultId, recordId, version, field), what);
      } catch {
        throw v2;
      }
    }
  }
  return open(dek, sealed, fieldAdV1(vaultId, recordId, version, field), what);
}

/** The format a sealed field was written in (for tests and diagnostics; opening decides for real). */
export const fieldFormat = (sealed: Uint8Array): 1 | 2 => (sealed[0] === FORMAT_V2 ? 2 : 1);

export function openSummary(dek: Buffer, vaultId: string, recordId: string, version: number, meta: RecordMeta, sealed: Uint8Array): Summary {
  return SummarySchema.parse(JSON.parse(openField(dek, vaultId, recordId, version, 'summary', meta, sealed).toString('utf8')));
}

export function openContent(dek: Buffer, vaultId: string, recordId: string, version: number, meta: RecordMeta, sealed: Uint8Array): Content {
  return ContentSchema.parse(JSON.parse(openField(dek, vaultId, recordId, version, 'content', meta, sealed).toString('utf8')));
}

/**
 * The epoch_day column must be the UTC day of captured_at: the data key is unwrapped with the
 * day's key, and format 2 binds captured-at, so a row whose two columns disagree was altered.
 */
export function checkEpochDay(recordId: string, capturedAt: Date | number, epochDay: string): void {
  if (utcDay(new Date(ms(capturedAt))) !== epochDay) throw new CustodyError('TAMPERED', `record ${recordId} was modified: its captured-at time and its key's day disagree`);
}
