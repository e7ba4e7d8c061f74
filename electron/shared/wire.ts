// JSON over HTTP between the page and the web shell (docs/architecture.md, "Processes and
// trust"): binary fields (Uint8Array) travel as {"$bytes": "<base64>"}. One definition for
// both ends, the web shell's server (electron/web/webShell.ts) and the renderer's client
// (renderer/src/api/client.ts), so what one encodes the other decodes by the same code.
// Plain JavaScript (no Buffer, no btoa/atob) and TextDecoder, a global of Node and browsers
// alike: it runs in both.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** Character code -> 6-bit value, or -1 for anything outside the alphabet. */
const VALUES = (() => {
  const v = new Int8Array(128).fill(-1);
  CODES.forEach((code, i) => (v[code] = i));
  return v;
})();
/** ASCII bytes to a string in native code (a character at a time is 100 times slower). */
const ascii = new TextDecoder('utf-8');

export class WireError extends Error {}

/** Standard base64 (RFC 4648, with padding) of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = CODES[(n >>> 6) & 63]!;
    out[o++] = CODES[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = rest === 2 ? CODES[(n >>> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return ascii.decode(out);
}

/**
 * The bytes of canonical base64: the standard alphabet, a length divisible by 4, padding only
 * at the end, and no stray bits in the last character (so each value has one spelling).
 * Throws WireError otherwise. No regex: a pattern over several MB overflows the regex stack.
 */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new WireError('malformed base64');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  const value = (at: number): number => {
    const code = text.charCodeAt(at);
    const v = code < 128 ? VALUES[code]! : -1;
    if (v < 0) throw new WireError('malformed base64');
    return v;
  };
  const full = text.length - (pad ? 4 : 0);
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const n = (value(i) << 18) | (value(i + 1) << 12) | (value(i + 2) << 6) | value(i + 3);
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 255;
    out[o++] = n & 255;
  }
  if (pad) {
    const a = value(full);
    const b = value(full + 1);
    const c = pad === 1 ? value(full + 2) : 0;
    // Bits past the last byte must be zero: "QR==" and "QQ==" would otherwise both mean "A".
    if (pad === 2 ? (b & 15) !== 0 : (c & 3) !== 0) throw new WireError('malformed base64');
    out[o++] = (a << 2) | (b >>> 4);
    if (pad === 1) out[o++] = ((b & 15) << 4) | (c >>> 2);
  }
  return out;
}

/** Replaces every Uint8Array (Buffer included) with its {"$bytes"} form. */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: encodeBase64(value) };
  if (Array.isArray(value)) return value.map(toWire);
  // fromEntries: a "__proto__" key stays an own key, as JSON.parse makes it (assigning would set the prototype).
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

export const stringifyWire = (value: unknown): string => JSON.stringify(toWire(value));

/** JSON.parse reviver: a {"$bytes"} object becomes its Uint8Array; a malformed one throws WireError. */
export function wireReviver(_key: string, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, '$bytes')) return v;
  const b64 = (v as { $bytes: unknown }).$bytes;
  if (Object.keys(v).length === 1 && typeof b64 === 'string') {
    try {
      return decodeBase64(b64);
    } catch {
      // the same answer as for any other malformed value below
    }
  }
  throw new WireError('malformed {"$bytes"} value');
}

/** Parses JSON, turning {"$bytes"} objects into Uint8Arrays; throws WireError on malformed input. */
export function parseWire(text: string): unknown {
  try {
    return JSON.parse(text, wireReviver);
  } catch (e) {
    throw e instanceof WireError ? e : new WireError('the request body is not valid JSON');
  }
}
