// Sharing vocabulary (docs/sharing.md) shared by core, the IPC contract and the renderer:
// sharing policies, the address book's views, the vault identity's view, envelopes.
import { z } from 'zod';
import { CLASSIFICATIONS, type Classification } from './records.ts';

/** Limits on what a disclosure may carry: vault settings, sealed, every change audited. */
export const SharingPolicySchema = z
  .object({
    /** A disclosure must say why (its purpose). */
    purposeRequired: z.boolean(),
    /** Recipients only from the address book (no age1… typed in directly). */
    addressBookOnly: z.boolean(),
    /** At most this many days (from..until, inclusive); null: no limit. */
    maxRangeDays: z.number().int().min(1).max(36600).nullable(),
    /** Nothing above this classification may leave; null: no limit. */
    maxClassification: z.enum(CLASSIFICATIONS).nullable(),
    /** A disclosure must expire within this many days of issue; null: no limit (and no expiry needed). */
    maxExpiryDays: z.number().int().min(1).max(36600).nullable(),
    /** Attachments may be included. */
    attachmentsAllowed: z.boolean(),
  })
  .strict();
export type SharingPolicy = z.infer<typeof SharingPolicySchema>;
export type PolicyName = keyof SharingPolicy;

export const DEFAULT_SHARING_POLICY: Readonly<SharingPolicy> = {
  purposeRequired: true,
  addressBookOnly: false,
  maxRangeDays: null,
  maxClassification: null,
  maxExpiryDays: null,
  attachmentsAllowed: true,
};

/** How each policy is named to people (refusals, the Settings panel, `custody policy show`). */
export const POLICY_LABELS: Readonly<Record<PolicyName, string>> = {
  purposeRequired: 'purpose required',
  addressBookOnly: 'recipients only from the address book',
  maxRangeDays: 'maximum range in days',
  maxClassification: 'maximum classification',
  maxExpiryDays: 'maximum expiry in days',
  attachmentsAllowed: 'attachments allowed',
};

export const classificationRank = (c: Classification): number => CLASSIFICATIONS.indexOf(c);

/** An address book name: what a person types after --to. */
export const RecipientNameSchema = z
  .string()
  .trim()
  .min(1, 'a recipient needs a name')
  .max(80, 'a recipient name has at most 80 characters')
  .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), 'a recipient name cannot contain control characters')
  .refine((s) => !s.toLowerCase().startsWith('age1'), 'a recipient name cannot start with "age1" (that is how recipients are written)');
export const RecipientNoteSchema = z
  .string()
  .max(1000, 'a note has at most 1000 characters')
  .refine((s) => !/[\p{Cc}]/u.test(s.replace(/[\n\t]/g, '')), 'a note cannot contain control characters');

export interface RecipientView {
  id: string;
  name: string;
  note: string;
  recipient: string;
  fingerprint: string;
  /** 'hybrid': post-quantum (age1pq1…); 'x25519': classical, accepted only when allowed. */
  type: 'hybrid' | 'x25519';
  createdAt: string;
}

export interface IdentityView {
  recipient: string;
  fingerprint: string;
  createdAt: string;
}

export const ENVELOPE_STATUSES = ['pending', 'delivered', 'opened', 'expired', 'withdrawn'] as const;
export type EnvelopeStatus = (typeof ENVELOPE_STATUSES)[number];

// ---- disclosures over IPC (the desktop dialogs and the received area) -------------------------

export interface GrantRecipientView {
  fingerprint: string;
  recipient: string;
}

export interface GrantFiltersView {
  case?: string;
  tags?: string[];
  maxClassification?: string;
  records?: string[];
  withAttachments?: boolean;
  withHistory?: boolean;
}

/** A disclosure received and opened here: the grant, always shown with its material. */
export interface ReceivedGrantInfo {
  grantId: string;
  issuerVaultId: string;
  issuerKey: string;
  issuerFingerprint: string;
  issuedAt: string;
  receivedAt: string;
  expiresAt: string | null;
  expired: boolean;
  from: string;
  until: string;
  scope: 'days' | 'records';
  purpose: string;
  filters: GrantFiltersView;
  recipients: GrantRecipientView[];
  postQuantum: boolean;
  records: number;
  grantSha256: string;
  packageSha256: string;
}

/** A disclosure this vault issued. */
export interface IssuedGrantInfo {
  grantId: string;
  createdAt: string;
  expiresAt: string | null;
  expired: boolean;
  from: string;
  until: string;
  scope: 'days' | 'records';
  records: number;
  recipients: GrantRecipientView[];
  packageSha256: string;
  grantSha256: string;
  purpose: string;
  filters: GrantFiltersView;
  acknowledgements: { reviewerKey: string; acknowledgedAt: string; importedAt: string }[];
}

/** The package just issued: its bytes to save, and what it grants. */
export interface DisclosureIssuedView {
  fileName: string;
  data: Uint8Array;
  grantId: string;
  scope: 'days' | 'records';
  records: number;
  attachments: number;
  days: string[];
  recipients: GrantRecipientView[];
  postQuantum: boolean;
  expiresAt: string | null;
  packageSha256: string;
  issuerFingerprint: string;
  /** With `deliver`: the envelopes waiting on the sync server. */
  delivered?: { id: string; fingerprint: string }[];
}

/** An envelope on the sync server (docs/sharing.md, "Delivery through the sync server"). */
export interface EnvelopeInfo {
  id: string;
  direction: 'received' | 'sent';
  issuer: string;
  recipientRole: string;
  recipientFingerprint: string;
  packageSha256: string;
  size: number;
  createdAt: string;
  expiresAt: string | null;
  status: EnvelopeStatus;
  openedAt: string | null;
  events: { status: EnvelopeStatus; actor: string; at: string }[];
  openAttempts: { actor: string; at: string; success: boolean }[];
}

/** One received record, read-only, with the issuer's audit entries about it. */
export interface ReceivedRecordInfo {
  grantId: string;
  record: { id: string; kind: string; title: string; case: string; tags: string[]; classification: string; capturedAt: string; updatedAt: string; createdAt: string; version: number; body: string; fields: unknown[] };
  history: { version: number; savedAt: string; record: { title: string; body: string } }[];
  attachments: { id: string; name: string; size: number; sha256: string; mediaType: string; createdAt: string }[];
  audit: { seq: number; entry: string | null; leafHash: string }[];
}

const dayString = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day YYYY-MM-DD');
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'not an id');

/** A disclosure asked for from the desktop (the same choices as `custody disclose`, no file path). */
export const DiscloseRequestSchema = z
  .object({
    /** Address-book names or age recipients. */
    to: z.array(z.string().trim().min(1).max(4000)).min(1, 'choose at least one recipient').max(20),
    from: dayString,
    until: dayString,
    case: z.string().trim().min(1).max(200).optional(),
    tags: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
    maxClassification: z.enum(CLASSIFICATIONS).optional(),
    records: z.array(uuid).min(1).max(10_000).optional(),
    withAttachments: z.boolean().optional(),
    withHistory: z.boolean().optional(),
    allowClassical: z.boolean().optional(),
    purpose: z.string().trim().max(1000),
    /** YYYY-MM-DD (through that UTC day) or an ISO time. */
    expires: z.string().trim().min(1).max(40).optional(),
    /** Also deliver it through the sync server (one envelope per recipient). */
    deliver: z.boolean().optional(),
  })
  .strict();
export type DiscloseRequest = z.infer<typeof DiscloseRequestSchema>;

export const RemoveRecipientSchema = z.object({ fingerprint: z.string().regex(/^[0-9a-f]{4}(-[0-9a-f]{4}){4}$/, 'not a recipient fingerprint') }).strict();
export const AddRecipientSchema = z
  .object({ name: RecipientNameSchema, recipient: z.string().trim().min(4).max(4000), note: RecipientNoteSchema.optional(), allowClassical: z.boolean().optional() })
  .strict();
