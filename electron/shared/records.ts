// Record shapes shared by core, the IPC contract and the renderer.
// Schemas validate everything that crosses a trust boundary (IPC, import files).
import { z } from 'zod';

export const RECORD_KINDS = ['note', 'observation', 'file'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export const FIELD_TYPES = ['text', 'number', 'date', 'location'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

// Limits of what one record may hold (imports are held to them too, with clear errors).
export const MAX_TITLE = 500;
export const MAX_BODY = 1_000_000;
export const MAX_CASE = 200;
export const MAX_TAGS = 64;
export const MAX_TAG = 64;
export const MAX_FIELDS = 200;
export const MAX_FIELD_NAME = 100;
export const MAX_FIELD_TEXT = 10_000;
export const MAX_LABEL = 200;

const shortText = (max: number) => z.string().max(max);

export const LocationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  label: shortText(MAX_LABEL).optional(),
});
export type Location = z.infer<typeof LocationSchema>;

/** A typed field of an observation. Dates are ISO 8601 (YYYY-MM-DD or full timestamp). */
export const FieldSchema = z.discriminatedUnion('type', [
  z.object({ name: shortText(MAX_FIELD_NAME).min(1), type: z.literal('text'), value: shortText(MAX_FIELD_TEXT) }),
  z.object({ name: shortText(MAX_FIELD_NAME).min(1), type: z.literal('number'), value: z.number().finite() }),
  z.object({ name: shortText(MAX_FIELD_NAME).min(1), type: z.literal('date'), value: z.iso.date().or(z.iso.datetime({ offset: true })) }),
  z.object({ name: shortText(MAX_FIELD_NAME).min(1), type: z.literal('location'), value: LocationSchema }),
]);
export type Field = z.infer<typeof FieldSchema>;

const tag = z.string().trim().min(1).max(MAX_TAG);

/** What a person writes; everything here is encrypted at rest. */
export const RecordInputSchema = z
  .object({
    kind: z.enum(RECORD_KINDS),
    title: z.string().trim().min(1, 'a record needs a title').max(MAX_TITLE),
    body: z.string().max(MAX_BODY).default(''),
    fields: z.array(FieldSchema).max(MAX_FIELDS).default([]),
    case: z.string().trim().max(MAX_CASE).default(''),
    tags: z.array(tag).max(MAX_TAGS).default([]),
    classification: z.enum(CLASSIFICATIONS).default('internal'),
    /** When the material was collected (ISO 8601); defaults to now. */
    capturedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((r) => r.kind === 'observation' || r.fields.length === 0, {
    message: 'only observations have typed fields',
    path: ['fields'],
  });
export type RecordInput = z.input<typeof RecordInputSchema>;
export type RecordData = z.output<typeof RecordInputSchema>;

/** A partial edit; `version` is the version the editor started from (optimistic locking). */
export const RecordPatchSchema = z
  .object({
    title: z.string().trim().min(1).max(MAX_TITLE).optional(),
    body: z.string().max(MAX_BODY).optional(),
    fields: z.array(FieldSchema).max(MAX_FIELDS).optional(),
    case: z.string().trim().max(MAX_CASE).optional(),
    tags: z.array(tag).max(MAX_TAGS).optional(),
    classification: z.enum(CLASSIFICATIONS).optional(),
    capturedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type RecordPatch = z.infer<typeof RecordPatchSchema>;

export interface AttachmentView {
  id: string;
  name: string;
  size: number;
  sha256: string;
  mediaType: string;
  createdAt: string;
}

/** The decrypted view of one record version. */
export interface RecordView {
  id: string;
  kind: RecordKind;
  title: string;
  body: string;
  fields: Field[];
  case: string;
  tags: string[];
  classification: Classification;
  capturedAt: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  deletedAt: string | null;
  attachments: AttachmentView[];
}

/** What a list row shows. */
export interface RecordSummary {
  id: string;
  kind: RecordKind;
  title: string;
  case: string;
  tags: string[];
  classification: Classification;
  capturedAt: string;
  updatedAt: string;
  version: number;
  deletedAt: string | null;
}

export interface RecordVersionView {
  version: number;
  savedAt: string;
  current: boolean;
  record: Omit<RecordView, 'attachments' | 'createdAt' | 'deletedAt'>;
}

export const SearchQuerySchema = z
  .object({
    text: z.string().max(1000).default(''),
    case: z.string().max(200).optional(),
    tag: z.string().max(64).optional(),
    kind: z.enum(RECORD_KINDS).optional(),
    classification: z.enum(CLASSIFICATIONS).optional(),
    capturedFrom: z.iso.datetime({ offset: true }).optional(),
    capturedTo: z.iso.datetime({ offset: true }).optional(),
    deleted: z.enum(['exclude', 'include', 'only']).default('exclude'),
    limit: z.number().int().min(1).max(100_000).default(200),
    offset: z.number().int().min(0).default(0),
  })
  .strict();
export type SearchQuery = z.input<typeof SearchQuerySchema>;
/** A query with its defaults filled in. */
export type ParsedSearchQuery = z.output<typeof SearchQuerySchema>;

export interface SearchResult {
  total: number;
  hits: (RecordSummary & { score: number })[];
  /** False while the index is still being built after unlock. */
  indexReady: boolean;
}
