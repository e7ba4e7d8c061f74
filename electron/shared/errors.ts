// Error codes every layer agrees on. Messages are for people; codes are for code.
export const ERROR_CODES = [
  'BAD_REQUEST',
  'LOCKED',
  'WRONG_PASSWORD',
  'WRONG_RECOVERY_KEY',
  'VAULT_NOT_FOUND',
  'VAULT_EXISTS',
  'VAULT_CORRUPT',
  'KDF_TOO_WEAK',
  'KDF_TOO_COSTLY',
  'TOO_MANY_ATTEMPTS',
  'NOT_FOUND',
  'CONFLICT',
  'TAMPERED',
  'IMPORT_FAILED',
  'DATABASE_TOO_NEW',
  'ROLLED_BACK',
  /** A disclosure request breaks a sharing policy (sharing/policy.ts); the message names it. */
  'POLICY_REFUSED',
  /** The disk has no room for a change (SQLITE_FULL, ENOSPC): reading still works. */
  'DISK_FULL',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class CustodyError extends Error {
  override readonly name = 'CustodyError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** TOO_MANY_ATTEMPTS: seconds until the next attempt is allowed. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export const isCustodyError = (e: unknown): e is CustodyError => e instanceof CustodyError;
