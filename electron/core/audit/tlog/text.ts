// Strict text helpers shared by the note, checkpoint and proof formats.

/**
 * Decodes standard padded base64 (RFC 4648 §4) only in its canonical form:
 * Buffer.from(…, 'base64') silently skips invalid characters, accepts the
 * URL-safe alphabet and ignores non-zero padding bits, so without this check
 * different strings would decode to the same bytes.
 */
export function decodeBase64(s: string): Buffer | undefined {
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

/** ASCII decimal with no leading zeros, as a safe integer; undefined if not. */
export function parseDecimal(s: string): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

// ASCII control characters other than newline (forbidden in signed notes), and
// lone UTF-16 surrogates (a string holding one is not valid UTF-8 text).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /\p{Cs}/u;

/** Returns why `s` is not valid note text material, or undefined if it is. */
export function textProblem(s: string): string | undefined {
  if (LONE_SURROGATE.test(s)) return 'is not valid UTF-8';
  if (CONTROL.test(s)) return 'contains a control character other than newline';
  return undefined;
}
