// The API client rejects with `{ code, message }` objects (see Envelope in the contract).
// Everything the UI shows about a failure goes through here, so a thrown Error, a string or
// a typed API error all end up as one readable message.
import type { ErrorCode } from '../../../electron/shared/errors.ts';

export interface ApiError {
  code: ErrorCode | 'NETWORK';
  message: string;
  /** TOO_MANY_ATTEMPTS: seconds until the next attempt is allowed. */
  retryAfter?: number;
}

export function toApiError(e: unknown): ApiError {
  if (typeof e === 'object' && e !== null && 'code' in e && 'message' in e) {
    const { code, message, retryAfter } = e as { code: unknown; message: unknown; retryAfter?: unknown };
    return { code: String(code) as ApiError['code'], message: String(message), ...(typeof retryAfter === 'number' && retryAfter > 0 ? { retryAfter } : {}) };
  }
  if (e instanceof TypeError) return { code: 'NETWORK', message: 'Custody could not reach its background service. Restart the app if this persists.' };
  if (e instanceof Error) return { code: 'INTERNAL', message: e.message };
  return { code: 'INTERNAL', message: 'Something went wrong.' };
}

export const isCode = (e: unknown, code: ApiError['code']): boolean => toApiError(e).code === code;
