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
