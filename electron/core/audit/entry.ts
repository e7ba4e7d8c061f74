// An audit entry's canonical bytes (RFC 8785) are the Merkle leaf's input.
import canonicalize from 'canonicalize';
import type { AuditEntry, AuditEvent } from '../../shared/audit.ts';

export interface AuditInput {
  event: AuditEvent;
  target?: string | null;
  success?: boolean;
  range?: { from: string; to: string };
  details?: AuditEntry['details'];
  /** Defaults to the session's actor. */
  actor?: string;
}

export function canonicalEntry(e: AuditEntry): string {
  return canonicalize(e)!;
}

/** Targets name what an entry is about without revealing content. */
export const target = {
  record: (id: string) => `record:${id}`,
  attachment: (id: string) => `attachment:${id}`,
  key: (id: string) => `key:${id}`,
  vault: (id: string) => `vault:${id}`,
  report: (id: string) => `report:${id}`,
  /** One import of a file (its name stays out of the log: names can say too much). */
  import: (id: string) => `import:${id}`,
};
