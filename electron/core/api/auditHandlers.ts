// The audit log over IPC: query, statistics and verification.
import type { CoreContext, Handlers } from './coreContext.ts';

export function auditHandlers({ vault, progress }: CoreContext) {
  return {
    handlers: {
      'audit.query': async (q) => (await vault.unlocked()).auditQuery(q),
      'audit.stats': async (range) => (await vault.unlocked()).auditStats(range),
      'audit.verify': async () => (await vault.unlocked()).verifyAudit(progress('verify')),
    } satisfies Partial<Handlers>,
  };
}
