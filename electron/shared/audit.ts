// Audit log vocabulary (docs/architecture.md, "The audit log") shared by core, IPC and the renderer.
import { z } from 'zod';

export const AUDIT_EVENTS = [
  'vault.created',
  'vault.unlocked',
  'vault.unlock_failed',
  'vault.locked',
  'vault.password_changed',
  'vault.recovered',
  'vault.recovery_failed',
  'record.created',
  'record.viewed',
  'record.updated',
  'record.deleted',
  'record.restored',
  'record.purged',
  'record.exported',
  'record.history_viewed',
  'record.update_rejected',
  'attachment.added',
  'attachment.opened',
  'attachment.exported',
  'attachment.verified',
  'attachment.tamper_detected',
  'search',
  'import',
  'key.created',
  'key.rotated',
  'key.revoked',
  'key.expired',
  'key.attested',
  'key.tamper_detected',
  'grant.issued',
  'grant.opened',
  'grant.open_refused',
  'grant.record_viewed',
  'grant.attachment_opened',
  'grant.acknowledged',
  'grant.ack_imported',
  'grant.refused',
  'recipient.added',
  'recipient.removed',
  'policy.changed',
  'envelope.pushed',
  'envelope.withdrawn',
  'envelope.fetched',
  'report.exported',
  'sync.pushed',
  'sync.pulled',
  'sync.conflict',
  'sync.server_misbehaved',
  'settings.changed',
  'settings.tamper_detected',
  'retention.run',
  'audit.verified',
  'backup.created',
  'vault.restored',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/**
 * One audit entry exactly as it is hashed into the log: its RFC 8785 canonical
 * JSON is the Merkle leaf's input. No plaintext content, ever: targets are ids.
 */
export interface AuditEntry {
  v: 1;
  seq: number;
  time: string;
  device: string;
  actor: string;
  event: AuditEvent;
  target: string | null;
  success: boolean;
  range?: { from: string; to: string };
  details: Record<string, string | number | boolean | null | string[]>;
}

/** A row of the audit viewer: the entry, or only its hash once retention pruned it. */
export interface AuditRow {
  seq: number;
  time: string;
  event: string;
  actor: string;
  target: string | null;
  success: boolean;
  pruned: boolean;
  entry: AuditEntry | null;
  leafHash: string;
}

export const AuditQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    event: z.string().max(64).optional(),
    actor: z.string().max(200).optional(),
    target: z.string().max(200).optional(),
    success: z.boolean().optional(),
    limit: z.number().int().min(1).max(10_000).default(100),
    /** Return entries with seq < before (paging backwards from the newest). */
    before: z.number().int().min(0).optional(),
    order: z.enum(['asc', 'desc']).default('desc'),
  })
  .strict();
export type AuditQuery = z.input<typeof AuditQuerySchema>;

export interface AuditStats {
  total: number;
  pruned: number;
  successRate: number;
  byEvent: Record<string, number>;
  byDay: { day: string; total: number; byEvent: Record<string, number> }[];
}
