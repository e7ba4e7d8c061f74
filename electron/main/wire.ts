// JSON over HTTP for the web shell: binary fields (Uint8Array) travel as {"$bytes": "<base64>"}.
// The renderer's client (renderer/src/api/client.ts) speaks the same format.

// Canonical base64 without a backtracking regex (a repeated group overflows the regex stack
// on uploads of several MB): the alphabet, padding only at the end, a length divisible by 4.
const isBase64 = (s: string): boolean => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);

export class WireError extends Error {}

/** Replaces every Uint8Array (Buffer included) with its {"$bytes"} form. */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toWire(v);
    return out;
  }
  return value;
}

export const stringifyWire = (value: unknown): string => JSON.stringify(toWire(value));

/** Parses JSON, turning {"$bytes"} objects into Buffers; throws WireError on malformed input. */
export function parseWire(text: string): unknown {
  try {
    return JSON.parse(text, (_key, v: unknown) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, '$bytes')) return v;
      const b64 = (v as { $bytes: unknown }).$bytes;
      if (Object.keys(v).length !== 1 || typeof b64 !== 'string' || !isBase64(b64)) throw new WireError('malformed {"$bytes"} value');
      return Buffer.from(b64, 'base64');
    });
  } catch (e) {
    throw e instanceof WireError ? e : new WireError('the request body is not valid JSON');
  }
}
