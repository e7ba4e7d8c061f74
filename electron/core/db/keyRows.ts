// Rows of key_registry read with prepared statements on the shared connection, shaped as Prisma
// returns them (dates as Date, blobs as bytes). Every open and unlock reads the registry: through
// Prisma each query shape is planned by its query compiler the first time a process runs it, which
// cost a one-shot command (`custody add`) and the app's first unlock tens of milliseconds per query.
import type Database from 'better-sqlite3';
import type { KeyEntry } from './generated/client.ts';

type KeyTuple = [string, string, string, string, number | string, number | string | null, number | string | null, string, number, Uint8Array | null, Uint8Array | null, Uint8Array | null, string | null, string | null, string | null];

const COLUMNS = 'SELECT id, kind, algorithm, status, created_at, rotated_at, expires_at, fingerprint, usage_count, public_key, wrapped, attestation, from_day, until_day, replaces FROM key_registry';

const date = (v: number | string | null): Date | null => (v === null ? null : new Date(v));
// A plain Uint8Array over the same memory, as Prisma returns (better-sqlite3 gives a Buffer).
const bytes = (v: Uint8Array | null) => (v === null ? null : new Uint8Array(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength));

function toEntry(t: KeyTuple): KeyEntry {
  const [id, kind, algorithm, status, createdAt, rotatedAt, expiresAt, fingerprint, usageCount, publicKey, wrapped, attestation, fromDay, untilDay, replaces] = t;
  return { id, kind, algorithm, status, createdAt: date(createdAt)!, rotatedAt: date(rotatedAt), expiresAt: date(expiresAt), fingerprint, usageCount, publicKey: bytes(publicKey), wrapped: bytes(wrapped), attestation: bytes(attestation), fromDay, untilDay, replaces };
}

/**
 * The registry's rows of these kinds (all kinds when none are named), with this status if given,
 * oldest first (created_at, then id when `byId`): what `findMany({ where, orderBy })` returned.
 */
export function keyRows(sql: Database.Database, where: { kinds?: readonly string[]; status?: string; byId?: boolean } = {}): KeyEntry[] {
  const conditions = [where.kinds ? `kind IN (${where.kinds.map(() => '?').join(', ')})` : '1', where.status !== undefined ? 'status = ?' : '1'];
  const params = [...(where.kinds ?? []), ...(where.status !== undefined ? [where.status] : [])];
  const rows = sql
    .prepare(`${COLUMNS} WHERE ${conditions.join(' AND ')} ORDER BY created_at${where.byId ? ', id' : ''}`)
    .safeIntegers(false)
    .raw()
    .all(...params) as KeyTuple[];
  return rows.map(toEntry);
}
