// Damaged vault files, each told plainly: which file, what is wrong, what to do. SQLite reports
// a damaged database as SQLITE_CORRUPT ("database disk image is malformed") or SQLITE_NOTADB
// ("file is not a database"), wherever the damaged page is first read.
import { CustodyError } from '../../shared/errors.ts';

const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;

export function isDatabaseDamaged(e: unknown): boolean {
  if (e instanceof CustodyError) return false;
  const err = e as { code?: unknown; message?: unknown; cause?: { originalCode?: unknown } } | null;
  const message = typeof err?.message === 'string' ? err.message : '';
  // Prisma wraps it in its own error, whose message quotes SQLite's code and text.
  return CORRUPT.test(String(err?.code)) || CORRUPT.test(String(err?.cause?.originalCode)) || /SQLITE_(CORRUPT|NOTADB)|database disk image is malformed|file is not a database/.test(message);
}

export const RESTORE_HINT = 'restore the vault from a backup into a new folder: custody restore BACKUP_FILE --vault NEW_FOLDER (docs/backup.md)';

export function damagedDatabaseError(e: unknown): CustodyError {
  const why = /file is not a database/.test(String((e as Error).message)) ? 'file is not a database' : 'database disk image is malformed';
  return new CustodyError('VAULT_CORRUPT', `the vault database custody.db is damaged (${why}); nothing more is read or written from it. ${RESTORE_HINT}`);
}
