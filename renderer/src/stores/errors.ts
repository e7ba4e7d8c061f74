// One place decides what an API failure means for the UI: LOCKED sends the user back to the
// unlock screen (the session is gone); anything else becomes an error toast with its message.
import { toApiError, type ApiError } from '../lib/errors.ts';
import { useSession } from './session.ts';
import { toast } from './toasts.ts';

export function reportError(e: unknown, context?: string): ApiError {
  const err = toApiError(e);
  if (err.code === 'LOCKED') {
    useSession.getState().markLocked();
    return err;
  }
  toast.error(context ? `${context}: ${err.message}` : err.message);
  return err;
}
