// Connection strings carry a password: this is the one place that knows how to hide it.
// Every message about a server names it through redactUrl, and every error a driver raises
// passes through safeError before it reaches a log, a status line or the user.
import { CustodyError, type ErrorCode } from '../../../shared/errors.ts';

/** The URL with its password (userinfo or `password=` parameter) replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/@:?#]*:)[^@/?#]*@/, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** The password of a connection string (decoded), or undefined. */
export function urlPassword(url: string): string | undefined {
  const m = /\/\/[^/@:?#]*:([^@/?#]*)@/.exec(url) ?? /[?&]password=([^&#]*)/i.exec(url);
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/** A driver error's message with the URL's password removed wherever it might appear. */
export function safeMessage(e: unknown, url: string): string {
  let message = e instanceof Error ? e.message : String(e);
  if (e instanceof AggregateError && e.errors.length) message = e.errors.map((x: unknown) => (x instanceof Error ? x.message : String(x))).join('; ');
  const password = urlPassword(url);
  for (const secret of [password, password && encodeURIComponent(password)]) if (secret) message = message.split(secret).join('***');
  return message.replace(/postgres(?:ql)?:\/\/\S+/g, (u) => redactUrl(u));
}

/** Wraps a driver error as a CustodyError whose message is safe to show. */
export function safeError(e: unknown, url: string, what: string, code: ErrorCode = 'INTERNAL'): CustodyError {
  if (e instanceof CustodyError) return new CustodyError(e.code, safeMessage(e, url));
  return new CustodyError(code, `${what} (${redactUrl(url)}): ${safeMessage(e, url)}`);
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
export const sqlState = (e: unknown): string | undefined => (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined);
