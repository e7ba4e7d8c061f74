// The vault's own files must be regular files. A FIFO (or a device, or a folder) planted at one of
// their names by someone who can write the folder would make the first read block for good, or
// read without end, instead of failing: refused up front, naming the file.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';

/** Every file custody reads from the vault folder at open (header.ts, checkpoints, pendingEntries, unlockThrottle, diskReserve). */
const VAULT_FILES = ['vault.json', 'vault.json.next', 'checkpoint.txt', 'custody.db', 'custody.db-wal', 'custody.db-shm', 'audit-pending.json', 'unlock-attempts.json', 'reserve.bin'];

const kindOf = (s: ReturnType<typeof statSync>): string => (s!.isFIFO() ? 'a FIFO' : s!.isDirectory() ? 'a folder' : s!.isSocket() ? 'a socket' : 'a device');

export function assertRegularVaultFiles(dir: string): void {
  for (const name of VAULT_FILES) {
    const st = statSync(join(dir, name), { throwIfNoEntry: false });
    if (st && !st.isFile())
      throw new CustodyError('VAULT_CORRUPT', `${join(dir, name)} is not a regular file (it is ${kindOf(st)}): custody did not put it there, and does not read it. Remove it if custody made no such file, or restore the vault from a backup into a new folder: custody restore BACKUP_FILE --vault NEW_FOLDER (docs/backup.md)`);
  }
}
