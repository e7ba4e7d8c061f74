// Sealing a record version: a random data key (DEK) per record, wrapped by the epoch key of
// its captured-at day; two sealed fields (summary: what a list shows; content: the rest), each
// bound by associated data to vault, record, version and field, so rows cannot be swapped.
import { z } from 'zod';
import { CLASSIFICATIONS, FieldSchema, type Classification, type Field } from '../../shared/records.ts';
import { ad, open, seal } from '../crypto/aead.ts';
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

const SummarySchema = z.object({ title: z.string(), case: z.string(), tags: z.array(z.string()), classification: z.enum(CLASSIFICATIONS) });
const ContentSchema = z.object({ body: z.string(), fields: z.array(FieldSchema) });

export interface SealedVersion {
  wrappedDek: Buffer;
  summary: Buffer;
  content: Buffer;
}

const dekAd = (vaultId: string, recordId: string, day: string) => ad('dek', vaultId, recordId, day);
const fieldAd = (vaultId: string, recordId: string, version: number, field: 'summary' | 'content') => ad('record', vaultId, recordId, version, field);

export function wrapDek(keys: Keyring, vaultId: string, recordId: string, day: string, dek: Buffer): Buffer<ArrayBuffer> {
  return seal(keys.epochKey(day), dek, dekAd(vaultId, recordId, day));
}

export function unwrapDek(keys: Keyring, vaultId: string, recordId: string, day: string, wrapped: Uint8Array): Buffer {
  return open(keys.epochKey(day), wrapped, dekAd(vaultId, recordId, day), `the key of record ${recordId}`);
}

export function sealFields(dek: Buffer, vaultId: string, recordId: string, version: number, s: Summary, c: Content): { summary: Buffer<ArrayBuffer>; content: Buffer<ArrayBuffer> } {
  return {
    summary: seal(dek, Buffer.from(JSON.stringify(s)), fieldAd(vaultId, recordId, version, 'summary')),
    content: seal(dek, Buffer.from(JSON.stringify(c)), fieldAd(vaultId, recordId, version, 'content')),
  };
}

export function openSummary(dek: Buffer, vaultId: string, recordId: string, version: number, sealed: Uint8Array): Summary {
  return SummarySchema.parse(JSON.parse(open(dek, sealed, fieldAd(vaultId, recordId, version, 'summary'), `record ${recordId}`).toString('utf8')));
}

export function openContent(dek: Buffer, vaultId: string, recordId: string, version: number, sealed: Uint8Array): Content {
  return ContentSchema.parse(JSON.parse(open(dek, sealed, fieldAd(vaultId, recordId, version, 'content'), `record ${recordId}`).toString('utf8')));
}
