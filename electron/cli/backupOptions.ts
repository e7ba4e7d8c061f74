// The options of restoring a backup, apart from the backup code itself: `custody restore` is also a
// record command (restore from the trash), and loading the backup modules for it would slow every
// record command (main.ts loads only the named command's area).
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `custody restore X`: X is a backup when it is not a record id and names an existing file. */
export const isBackupArgument = (arg: string): boolean => !UUID.test(arg) && existsSync(arg) && statSync(arg).isFile();

export const collectList = (v: string, prev: string[] = []): string[] => [...prev, v];

export function secretOptions(c: Command): Command {
  return c
    .option('--passphrase', 'the backup is encrypted with a passphrase (asked, or --passphrase-file, or $CUSTODY_BACKUP_PASSPHRASE)')
    .option('--passphrase-file <file>', 'read the backup passphrase from a file')
    .option('--identity <file>', 'an age identity file (AGE-SECRET-KEY-…) for a backup made --to a recipient; repeatable', collectList);
}

/** Options of `custody restore FILE` (added to the record command of the same name). */
export function withBackupRestoreOptions(c: Command): Command {
  c.description('restore a record from the trash (ID), or restore a backup file into a new vault folder: custody restore FILE --vault NEW_DIR');
  c.option('--checkpoint <file-or-vault>', 'a checkpoint.txt you hold (or the folder of the vault the backup came from): an older backup is reported as a rollback');
  c.option('--recovery-key-file <file>', 'open the backup with the recovery key instead of the master password (else $CUSTODY_RECOVERY_KEY with --recovery-key); the restored vault gets a new master password');
  c.option('--recovery-key', 'open the backup with the recovery key (asked, or $CUSTODY_RECOVERY_KEY) and choose a new master password');
  c.option('--new-password-file <file>', 'with the recovery key: the restored vault\'s new master password (else $CUSTODY_NEW_PASSWORD, else asked twice)');
  return secretOptions(c);
}
