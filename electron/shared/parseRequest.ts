// A request is parsed twice on its way in: by main (electron/main/dispatch.ts, the trust
// boundary of both shells) and by core (createCore, electron/core/api/handlers.ts, the last door
// before keys and plaintext; it runs in another thread, so it cannot rely on main's check).
// The domain's own doors (RecordStore, Custody.search, the audit log's query), which the CLI
// reaches directly, then take a value core has already parsed with the same schema as it is,
// instead of parsing it a third time. Core marks what it parsed; a value nobody marked (the
// CLI's, a test's) is parsed here. The marks are kept in this module only, so no caller can mark
// a value it built itself, and they hold only the exact objects zod returned.
import { z } from 'zod';
import { CustodyError } from './errors.ts';
import { badRequestMessage } from './schemaIssues.ts';

const parsedBy = new WeakMap<object, z.ZodType>();

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** Marks `data`, just returned by `schema`'s parse, and the objects in it their own schemas returned. */
function mark(schema: z.ZodType, data: unknown): void {
  if (!isObject(data)) return;
  parsedBy.set(data, schema);
  if (!(schema instanceof z.ZodObject)) return;
  for (const [key, sub] of Object.entries(schema.shape as Record<string, z.ZodType>)) mark(sub, (data as Record<string, unknown>)[key]);
}

/**
 * Parses `value` with `schema` (safeParse's result) and marks the result as parsed: core's
 * door, which always parses.
 */
export function parseAtCore<S extends z.ZodType>(schema: S, value: unknown): ReturnType<S['safeParse']> {
  const p = schema.safeParse(value);
  if (p.success) mark(schema, p.data);
  return p as ReturnType<S['safeParse']>;
}

/** `value` as `schema` returns it: as is when core already parsed it with that schema, else parsed now. */
export function checkRequest<S extends z.ZodType>(schema: S, value: unknown): ReturnType<S['safeParse']> {
  if (isObject(value) && parsedBy.get(value) === schema) return { success: true, data: value } as ReturnType<S['safeParse']>;
  return parseAtCore(schema, value);
}

/** checkRequest(), throwing BAD_REQUEST with the one formatted message (`whole`: what the value is). */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, whole = 'the request'): z.output<S> {
  const p = checkRequest(schema, value);
  if (!p.success) throw new CustodyError('BAD_REQUEST', badRequestMessage(p.error!, whole));
  return p.data as z.output<S>;
}
