// Scheduled backups (docs/backup.md): every N hours while the vault is unlocked in the app, a
// backup into a chosen folder, keeping the newest K there. The schedule is sealed in the vault
// (meta "backup_schedule", under a key derived from the vault key: the folder's path can say
// too much to sit in the clear); changing it is an audit entry. Files are named
// custody-backup-<vault id>-<UTC time>.tar; pruning only ever removes files of that pattern for
// this vault, never anything else in the folder.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { deriveKey, wipe } from '../crypto/keys.ts';
import { AuditReads } from '../audit/reads.ts';
import { iso } from '../util/time.ts';
import { metaValue, setMetaValue } from '../vault/meta.ts';
import type { Vault } from '../vault/vault.ts';
import { createBackup, type BackupResult } from './createBackup.ts';

export const SCHEDULE_META_KEY = 'backup_schedule';
/** How the schedule is sealed (a vault key rotation re-seals it: keys/rewrap.ts). */
export const scheduleAd = (vaultId: string) => ad('backup-schedule', vaultId);
export const scheduleKey = (vaultKey: Uint8Array) => deriveKey(vaultKey, 'custody/backup-schedule/v1');

export const BackupScheduleSchema = z
  .object({
    enabled: z.boolean(),
    folder: z.string().min(1).max(1024).refine(isAbsolute, 'an absolute folder path'),
    everyHours: z.number().int().min(1).max(24 * 31),
    keep: z.number().int().min(1).max(1000),
  })
  .strict();
export type BackupSchedule = z.infer<typeof BackupScheduleSchema>;

/** The schedule sealed in the vault, or null (never set, or sealed under a vault key since replaced). */
export function readSchedule(vault: Vault): BackupSchedule | null {
  const sealed = metaValue(vault.db.sql, SCHEDULE_META_KEY);
  if (!sealed) return null;
  const key = scheduleKey(vault.keys().vaultKey);
  try {
    return BackupScheduleSchema.parse(JSON.parse(open(key, Buffer.from(sealed, 'base64'), scheduleAd(vault.vaultId), 'the backup schedule').toString('utf8')));
  } catch {
    return null;
  } finally {
    wipe(key);
  }
}

export async function saveSchedule(vault: Vault, schedule: BackupSchedule): Promise<BackupSchedule> {
  const s = BackupScheduleSchema.parse(schedule);
  const key = scheduleKey(vault.keys().vaultKey);
  try {
    const sealed = seal(key, Buffer.from(JSON.stringify(s)), scheduleAd(vault.vaultId)).toString('base64');
    await vault.db.writeSync(() => {
      setMetaValue(vault.db.sql, SCHEDULE_META_KEY, sealed);
      // The folder stays out of the log (a path can say too much); the rest is plain settings.
      vault.audit.appendSync(vault.meta, [{ event: 'settings.changed', details: { changed: ['backupSchedule'], backupEnabled: s.enabled, backupEveryHours: s.everyHours, backupKeep: s.keep } }]);
    });
  } finally {
    wipe(key);
  }
  return s;
}

/** When the newest successful backup was made (ms), from the audit log, or null. */
export function lastBackupAt(vault: Vault): number | null {
  return new AuditReads(vault.db.sql).lastEntryOf('backup.created')?.time ?? null;
}

const FILE_RE = (vaultId: string) => new RegExp(`^custody-backup-${vaultId}-\\d{8}T\\d{6}Z\\.tar$`);
export const scheduledFileName = (vaultId: string, now: number): string => `custody-backup-${vaultId}-${iso(now).replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}.tar`;

/** Removes this vault's scheduled backups beyond the newest `keep`; returns what it removed. */
export function pruneBackups(folder: string, vaultId: string, keep: number): string[] {
  const re = FILE_RE(vaultId);
  const ours = readdirSync(folder)
    .filter((f) => re.test(f) && statSync(join(folder, f)).isFile())
    .sort();
  const gone = ours.slice(0, Math.max(0, ours.length - keep));
  for (const f of gone) rmSync(join(folder, f), { force: true });
  return gone;
}

export interface ScheduleStatus {
  schedule: BackupSchedule | null;
  lastBackupAt: string | null;
  nextDueAt: string | null;
  lastError: string | null;
  running: boolean;
}

/** Runs due backups for an unlocked vault; `tick(now)` is called by a timer (or a test). */
export class BackupScheduler {
  #running = false;
  #lastError: string | null = null;
  /** After a failure, the next try waits this long (not every tick). */
  #retryAt = 0;

  status(vault: Vault | null, now = Date.now()): ScheduleStatus {
    if (!vault?.unlocked) return { schedule: null, lastBackupAt: vault ? isoOrNull(lastBackupAt(vault)) : null, nextDueAt: null, lastError: this.#lastError, running: this.#running };
    const schedule = readSchedule(vault);
    const last = lastBackupAt(vault);
    const next = schedule?.enabled ? Math.max(last === null ? now : last + schedule.everyHours * 3_600_000, this.#retryAt) : null;
    return { schedule, lastBackupAt: isoOrNull(last), nextDueAt: isoOrNull(next), lastError: this.#lastError, running: this.#running };
  }

  /** Makes a backup if one is due (or `force`); null when none was due. */
  async tick(vault: Vault, now = Date.now(), opts: { force?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<BackupResult | null> {
    if (this.#running || !vault.unlocked) return null;
    const schedule = readSchedule(vault);
    if (!schedule || (!schedule.enabled && !opts.force)) {
      if (opts.force) throw new CustodyError('BAD_REQUEST', 'no backup folder is set: custody backup schedule --folder DIR');
      return null;
    }
    const last = lastBackupAt(vault);
    if (!opts.force && ((last !== null && now < last + schedule.everyHours * 3_600_000) || now < this.#retryAt)) return null;
    this.#running = true;
    try {
      if (!existsSync(schedule.folder)) throw new CustodyError('NOT_FOUND', `the backup folder ${schedule.folder} does not exist (is the drive connected?)`);
      const r = await createBackup(vault, join(schedule.folder, scheduledFileName(vault.vaultId, now)), { reason: 'scheduled', onProgress: opts.onProgress });
      pruneBackups(schedule.folder, vault.vaultId, schedule.keep);
      this.#lastError = null;
      this.#retryAt = 0;
      return r;
    } catch (e) {
      this.#lastError = e instanceof CustodyError ? e.message : 'the backup failed';
      // A failing backup (full or missing drive) is tried again in an hour, not every minute.
      this.#retryAt = now + 3_600_000;
      if (opts.force) throw e;
      return null;
    } finally {
      this.#running = false;
    }
  }
}

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
