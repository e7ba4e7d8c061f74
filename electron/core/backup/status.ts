// `custody status`: what can be known about a vault without its password, read from the
// folder: records, the last audit entry, the last signed checkpoint, the last backup, sync,
// keys near or past expiry. Whether another process has the vault unlocked is NOT knowable:
// unlocking leaves no lock file (a crashed process would leave a stale one), and the keys live
// only in that process's memory. It also compares the key registry with the state the log
// committed (a deleted, replayed or edited row is shown as a PROBLEM).
import type Database from 'better-sqlite3';
import { AttachmentRows } from '../attachments/rows.ts';
import { AuditReads } from '../audit/reads.ts';
import { registryProblems } from '../audit/registryState.ts';
import { iso } from '../util/time.ts';
import type { Vault } from '../vault/vault.ts';
import { metaValue } from '../vault/meta.ts';

/** Keys expiring within this many days are warned about. */
export const EXPIRY_WARNING_DAYS = 30;

export interface VaultStatusReport {
  vault: string;
  vaultId: string;
  deviceId: string;
  records: { total: number; inTrash: number };
  attachments: number;
  lastAuditEntry: { seq: number; time: string; event: string } | null;
  lastCheckpoint: { size: number; createdAt: string; reason: string } | null;
  lastBackup: { time: string; auditSize: number | null; encryption: string | null; reason: string | null } | null;
  sync: { configured: boolean; lastSyncAt: string | null; lastError: string | null; pendingChanges: number; openConflicts: number };
  keyWarnings: { id: string; kind: string; expiresAt: string; expired: boolean; message: string }[];
  integrityProblem: string | null;
  /** The key registry against the state the log last committed (audit/registryState.ts): each edit found. */
  registryProblems: string[];
  unlockedElsewhere: 'not knowable';
}

const count = (db: Database.Database, sql: string): number => {
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } catch {
    return 0;
  }
};

/** A few rows read: cheap enough for every status. A damaged log is audit verify's to report. */
function registryChecked(db: Database.Database): string[] {
  try {
    return registryProblems(db).map((p) => p.message);
  } catch {
    return [];
  }
}

export function vaultStatusReport(vault: Vault, now = Date.now()): VaultStatusReport {
  const db = vault.db.sql;
  const reads = new AuditReads(db);
  const size = reads.size();
  const lastRow = size > 0 ? reads.entryAt(size - 1) : undefined;
  const last = lastRow ? { seq: lastRow.seq, time: lastRow.time, event: lastRow.entry ? (JSON.parse(lastRow.entry) as { event: string }).event : '(pruned by retention)' } : undefined;
  const cp = vault.checkpoints.latest();
  const backup = reads.lastEntryOf('backup.created');
  const details = backup?.entry ? ((JSON.parse(backup.entry) as { details?: Record<string, unknown> }).details ?? {}) : {};
  const state = (key: string) => (db.prepare('SELECT value FROM sync_state WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
  const horizon = now + EXPIRY_WARNING_DAYS * 86_400_000;
  const expiring = db
    .prepare("SELECT id, kind, expires_at AS expiresAt FROM key_registry WHERE expires_at IS NOT NULL AND status IN ('active', 'rotation_queued') AND expires_at <= ? ORDER BY expires_at")
    .all(horizon) as { id: string; kind: string; expiresAt: number }[];
  const lastSync = state('last_sync_at');
  return {
    vault: vault.dir,
    vaultId: vault.vaultId,
    deviceId: vault.meta.deviceId,
    records: { total: count(db, 'SELECT count(*) AS n FROM record'), inTrash: count(db, 'SELECT count(*) AS n FROM record WHERE deleted_at IS NOT NULL') },
    attachments: new AttachmentRows(db).allIds().length,
    lastAuditEntry: last ? { seq: last.seq, time: iso(last.time), event: last.event } : null,
    lastCheckpoint: cp ? { size: cp.size, createdAt: iso(cp.createdAt), reason: cp.reason } : null,
    lastBackup: backup
      ? { time: iso(backup.time), auditSize: typeof details.auditSize === 'number' ? details.auditSize : null, encryption: typeof details.encryption === 'string' ? details.encryption : null, reason: typeof details.reason === 'string' ? details.reason : null }
      : null,
    sync: {
      configured: metaValue(db, 'sync_url') !== undefined,
      lastSyncAt: lastSync && /^\d+$/.test(lastSync) ? iso(Number(lastSync)) : lastSync,
      lastError: state('last_error'),
      pendingChanges: count(db, 'SELECT count(*) AS n FROM sync_outbox'),
      openConflicts: count(db, "SELECT count(*) AS n FROM sync_conflict WHERE status = 'open'"),
    },
    keyWarnings: expiring.map((k) => {
      const expired = k.expiresAt <= now;
      const days = Math.ceil((k.expiresAt - now) / 86_400_000);
      return { id: k.id, kind: k.kind, expiresAt: iso(k.expiresAt), expired, message: expired ? `the ${k.kind} key ${k.id} expired on ${iso(k.expiresAt).slice(0, 10)}` : `the ${k.kind} key ${k.id} expires in ${days} day${days === 1 ? '' : 's'} (${iso(k.expiresAt).slice(0, 10)})` };
    }),
    integrityProblem: vault.integrityProblem,
    registryProblems: registryChecked(db),
    unlockedElsewhere: 'not knowable',
  };
}
