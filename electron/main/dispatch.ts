// The one validation step between an untrusted caller (the renderer over IPC, a page over
// the web shell) and core: known method, plain data only, no prototype keys, bounded size,
// then the method's schema. A refused call changes nothing and echoes nothing back.
// No electron import: the web shell runs this in plain Node.
import { methods, uploads, type Envelope, type Method, type UploadMethod } from '../shared/contract.ts';
import type { ErrorCode } from '../shared/errors.ts';
import { badRequestMessage } from '../shared/schemaIssues.ts';

/** Far above anything the contract accepts, low enough that checking stays cheap. */
export const LIMITS = {
  depth: 12,
  nodes: 20_000,
  /** Characters over all strings and keys; a record body alone may hold 1,000,000. */
  chars: 4_000_000,
  /** Bytes over all binary fields (one upload is at most 256 MiB). */
  bytes: 256 * 1024 * 1024,
} as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type Validated = { ok: true; method: Method; request: unknown } | Extract<Envelope<never>, { ok: false }>;

export const failure = (code: ErrorCode, message: string): Extract<Envelope<never>, { ok: false }> => ({ ok: false, error: { code, message } });

export const isMethod = (m: unknown): m is Method => typeof m === 'string' && Object.hasOwn(methods, m);

/** Checks a call's shape and schema; returns the parsed request (defaults applied) or why not. */
export function validateCall(method: unknown, raw: unknown): Validated {
  if (!isMethod(method)) return failure('BAD_REQUEST', 'unknown method');
  const request = raw === undefined ? {} : raw;
  const shape = checkShape(request);
  if (shape) return failure('BAD_REQUEST', shape);
  const parsed = methods[method].safeParse(request);
  if (!parsed.success) return failure('BAD_REQUEST', badRequestMessage(parsed.error));
  return { ok: true, method, request: parsed.data };
}

/** The bytes of an upload as they arrive (the web shell's request body), and the size announced. */
export interface UploadSource {
  chunks: AsyncIterable<Uint8Array>;
  size: number;
}

/** Where the call goes once validated: the core worker (or, in tests, core in-process). */
export interface CoreBackend {
  call(method: Method, request: unknown): Promise<Envelope<unknown>>;
  /** An upload method with its bytes streamed (only the web shell has any). */
  upload?(method: UploadMethod, request: unknown, source: UploadSource): Promise<Envelope<unknown>>;
}

export async function dispatch(backend: CoreBackend, method: unknown, raw: unknown): Promise<Envelope<unknown>> {
  const v = validateCall(method, raw);
  return v.ok ? backend.call(v.method, v.request) : v;
}

export const isUploadMethod = (m: unknown): m is UploadMethod => typeof m === 'string' && Object.hasOwn(uploads, m);

/** Checks an upload's request (the call without its bytes) like a call's; reads none of the bytes. */
export function validateUpload(method: unknown, raw: unknown): { ok: true; method: UploadMethod; request: unknown } | Extract<Envelope<never>, { ok: false }> {
  if (!isUploadMethod(method)) return failure('BAD_REQUEST', 'this method takes no upload');
  const shape = checkShape(raw);
  if (shape) return failure('BAD_REQUEST', shape);
  const parsed = uploads[method].safeParse(raw);
  if (!parsed.success) return failure('BAD_REQUEST', badRequestMessage(parsed.error));
  return { ok: true, method, request: parsed.data };
}

/**
 * Walks the payload before any schema sees it: only JSON-like values and byte arrays, no
 * key that could reach a prototype, bounded depth, node count and size. Returns a problem.
 */
export function checkShape(value: unknown): string | null {
  let nodes = 0;
  let chars = 0;
  let bytes = 0;
  const walk = (v: unknown, depth: number): string | null => {
    if (++nodes > LIMITS.nodes) return 'the request has too many values';
    if (depth > LIMITS.depth) return 'the request is nested too deeply';
    if (v === null || typeof v === 'boolean') return null;
    if (typeof v === 'number') return Number.isFinite(v) ? null : 'numbers must be finite';
    if (typeof v === 'string') {
      chars += v.length;
      return chars > LIMITS.chars ? 'the request is too large' : null;
    }
    if (v instanceof Uint8Array) {
      bytes += v.byteLength;
      return bytes > LIMITS.bytes ? 'the request carries too many bytes' : null;
    }
    if (Array.isArray(v)) {
      for (const item of v) {
        const p = walk(item, depth + 1);
        if (p) return p;
      }
      return null;
    }
    if (typeof v === 'object') {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return 'the request may hold only plain data';
      for (const key of Reflect.ownKeys(v)) {
        if (typeof key !== 'string') return 'the request may hold only plain data';
        if (FORBIDDEN_KEYS.has(key)) return `the key "${key}" is not allowed`;
        chars += key.length;
        const p = walk((v as Record<string, unknown>)[key], depth + 1);
        if (p) return p;
      }
      return null;
    }
    return 'the request may hold only plain data';
  };
  return walk(value, 0);
}

/** The IPC sender check: the calling frame must show our renderer (same scheme, host and port). */
export function isRendererUrl(frameUrl: string | null | undefined, rendererUrl: string): boolean {
  if (!frameUrl) return false;
  try {
    const got = new URL(frameUrl);
    const want = new URL(rendererUrl);
    return got.protocol === want.protocol && got.host === want.host && got.username === '' && got.password === '';
  } catch {
    return false;
  }
}
