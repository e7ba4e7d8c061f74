// A full disk, told plainly. SQLite says SQLITE_FULL ("database or disk is full"), Node says
// ENOSPC (or EDQUOT over a quota); the user is told the same thing either way.
import { statfsSync } from 'node:fs';
import { CustodyError } from '../../shared/errors.ts';

export const DISK_FULL_MESSAGE = 'the disk is full: free space to save changes';

const FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

export function isDiskFull(e: unknown): boolean {
  if (e instanceof CustodyError) return e.code === 'DISK_FULL';
  const err = e as { code?: unknown; message?: unknown; cause?: { originalCode?: unknown; code?: unknown } } | null;
  // better-sqlite3 and Node give a code; Prisma's driver adapter keeps SQLite's in its cause.
  return FULL_CODES.has(String(err?.code)) || FULL_CODES.has(String(err?.cause?.originalCode)) || FULL_CODES.has(String(err?.cause?.code)) || /SQLITE_FULL|database or disk is full/.test(typeof err?.message === 'string' ? err.message : '');
}

/** An I/O error from SQLite, which on a full disk is what a failed WAL or shared-memory write gives. */
export function isIoError(e: unknown): boolean {
  const err = e as { code?: unknown; cause?: { originalCode?: unknown } } | null;
  return /^SQLITE_IOERR/.test(String(err?.code)) || /^SQLITE_IOERR/.test(String(err?.cause?.originalCode)) || (e as Error)?.message === 'disk I/O error';
}

/** Whether the file system holding `dir` has less than `bytes` free (false when unknown). */
export function lowOnSpace(dir: string, bytes = 1 << 20): boolean {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize < bytes;
  } catch {
    return false;
  }
}

/** The error to report: DISK_FULL for a full disk, else `e` itself. */
export function diskFullError(e: unknown, what?: string): unknown {
  if (!isDiskFull(e) || (e instanceof CustodyError && e.code === 'DISK_FULL')) return e;
  return new CustodyError('DISK_FULL', what ? `${DISK_FULL_MESSAGE} (${what})` : DISK_FULL_MESSAGE);
}
