// Backups over IPC (docs/backup.md): the status (last successful backup, the schedule), the
// schedule's interval and count, and "back up now". The folder is set with the CLI only: a
// request from the window never names files on this computer. Scheduled backups run here, in
// core, every N hours while the vault is unlocked (a timer checks once a minute).
import { basename } from 'node:path';
import type { BackupStatusView } from '../../shared/contract.ts';
import { CustodyError } from '../../shared/errors.ts';
import { BackupScheduler, readSchedule, saveSchedule } from '../backup/schedule.ts';
import type { Vault } from '../vault/vault.ts';
import type { CoreContext, Handlers } from './coreContext.ts';

const TICK_MS = 60_000;

export function backupHandlers({ vault, progress }: CoreContext) {
  const scheduler = new BackupScheduler();
  const unlockedVault = async (): Promise<Vault | null> => {
    const c = await vault.current();
    return c?.vault.unlocked ? c.vault : null;
  };
  const view = async (): Promise<BackupStatusView> => {
    const v = await unlockedVault();
    const s = scheduler.status(v);
    return {
      unlocked: v !== null,
      schedule: s.schedule ? { enabled: s.schedule.enabled, folderName: basename(s.schedule.folder), everyHours: s.schedule.everyHours, keep: s.schedule.keep } : null,
      lastBackupAt: s.lastBackupAt,
      nextDueAt: s.nextDueAt,
      lastError: s.lastError,
      running: s.running,
    };
  };
  setInterval(() => {
    void unlockedVault()
      .then((v) => (v ? scheduler.tick(v) : null))
      .catch(() => undefined);
  }, TICK_MS).unref();
  return {
    handlers: {
      'backup.status': async () => view(),
      'backup.setSchedule': async (req) => {
        const v = await unlockedVault();
        if (!v) throw new CustodyError('LOCKED', 'unlock the vault to change scheduled backups');
        const current = readSchedule(v);
        if (!current) throw new CustodyError('BAD_REQUEST', 'choose the backup folder first, on the command line: custody backup schedule --folder DIR');
        await saveSchedule(v, { ...current, ...req });
        return view();
      },
      'backup.runNow': async () => {
        const v = await unlockedVault();
        if (!v) throw new CustodyError('LOCKED', 'unlock the vault to back it up');
        await scheduler.tick(v, Date.now(), { force: true, onProgress: progress('backup') });
        return view();
      },
    } satisfies Partial<Handlers>,
  };
}
