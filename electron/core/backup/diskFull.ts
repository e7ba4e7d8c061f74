// A full disk, told plainly. SQLite says SQLITE_FULL ("database or disk is full"), Node says
// ENOSPC (or EDQUOT over a quota); the user is told the same thing either way.
import { CustodyError } from '../../shared/errors.ts';

export const DISK_FULL_MESSAGE = 'the disk is full: free space to save changes';

export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || (e instanceof CustodyError && e.code === 'DISK_FULL');
}

/** The error to report: DISK_FULL for a full disk, else `e` itself. */
export function diskFullError(e: unknown, what?: string): unknown {
  if (!isDiskFull(e) || (e instanceof CustodyError && e.code === 'DISK_FULL')) return e;
  return new CustodyError('DISK_FULL', what ? `${DISK_FULL_MESSAGE} (${what})` : DISK_FULL_MESSAGE);
}
