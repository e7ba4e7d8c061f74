// What a pulled change must come with before it touches the vault. The sync server is not
// trusted (a PostgreSQL superuser can write any row), so a pull applies an edit, a trash or
// restore, or a purge only when another device of this vault signed it: an audit entry of that
// device (record.updated with the version, record.deleted / record.restored, record.purged)
// that this device pulled and checked (auditSync.ts: attested key, unbroken log) and that lies
// under a checkpoint it verified (seq < verified_size). Ciphertext is trial-decrypted with the
// record's own keys before it is stored, so nothing the server made up or moved between rows
// gets in. Everything else is refused and reported as server misbehaviour (pull.ts).
//
// A trash or restore is a state, not a version: a server could replay an old one. So only the
// newest trash entry of each device counts, and each is used once (applied).
import type Database from 'better-sqlite3';
import { CustodyError } from '../../../shared/errors.ts';
import { target } from '../../audit/entry.ts';
import type { AuditLog } from '../../audit/log.ts';
import type { RecordStore } from '../../records/recordStore.ts';
import { utcDay } from '../../util/time.ts';
import type { SealedVersion } from './rows.ts';

/** The audit events that change a record on another device and so may back a pulled change. */
export const RECORD_EVENTS: readonly string[] = ['record.updated', 'record.deleted', 'record.restored', 'record.purged'];

/** The signed entry a change rests on. */
export interface Backing {
  device: string;
  seq: number;
}

interface PulledEntry {
  seq: number;
  entry: string | null;
}

/** Indexes the record events among the entries accepted from a device (inside pullAudit's write). */
export function indexRecordEvents(sql: Database.Database, device: string, entries: readonly PulledEntry[]): void {
  const insert = sql.prepare('INSERT OR IGNORE INTO remote_record_event (device_id, seq, record_id, event, version) VALUES (?, ?, ?, ?, ?)');
  for (const e of entries) {
    if (e.entry === null) continue;
    let parsed: { event?: unknown; target?: unknown; details?: { version?: unknown } };
    try {
      parsed = JSON.parse(e.entry) as typeof parsed;
    } catch {
      continue; // auditSync.ts checked it against its leaf hash; a device never writes one
    }
    const { event, target } = parsed;
    if (typeof event !== 'string' || !RECORD_EVENTS.includes(event) || typeof target !== 'string' || !target.startsWith('record:')) continue;
    const version = parsed.details?.version;
    insert.run(device, e.seq, target.slice('record:'.length), event, Number.isSafeInteger(version) ? (version as number) : null);
  }
}

const TRASH = "('record.deleted', 'record.restored')";
// Under a checkpoint this device verified, from a device it checked (never this one: its own
// entries describe what it did, not what it may take from the server).
const VERIFIED = 'FROM remote_record_event e JOIN remote_device d ON d.id = e.device_id WHERE e.seq < d.verified_size AND e.record_id = ?';

export class Evidence {
  readonly #edit: Database.Statement<[string, number], Backing>;
  readonly #purge: Database.Statement<[string], Backing>;
  readonly #trash: Database.Statement<[string], Backing & { event: string; applied: number }>;
  readonly #apply: Database.Statement<[string, number]>;
  readonly #audit: AuditLog;

  constructor(sql: Database.Database, audit: AuditLog) {
    this.#audit = audit;
    this.#edit = sql.prepare(`SELECT e.device_id AS device, e.seq ${VERIFIED} AND e.event = 'record.updated' AND e.version = ? ORDER BY e.device_id, e.seq`);
    this.#purge = sql.prepare(`SELECT e.device_id AS device, e.seq ${VERIFIED} AND e.event = 'record.purged' ORDER BY e.device_id, e.seq`);
    this.#trash = sql.prepare(
      `SELECT e.device_id AS device, e.seq, e.event, e.applied ${VERIFIED} AND e.event IN ${TRASH}
       AND e.seq = (SELECT max(x.seq) FROM remote_record_event x WHERE x.device_id = e.device_id AND x.record_id = e.record_id AND x.event IN ${TRASH} AND x.seq < d.verified_size)
       ORDER BY e.device_id`,
    );
    this.#apply = sql.prepare('UPDATE remote_record_event SET applied = 1 WHERE device_id = ? AND seq = ?');
  }

  /** A signed record.updated that made `version` of the record. */
  edit(recordId: string, version: number, prefer: string): Backing | undefined {
    return preferred(this.#edit.all(recordId, version), prefer);
  }

  /** A signed purge of the record. */
  purge(recordId: string, prefer: string): Backing | undefined {
    return preferred(this.#purge.all(recordId), prefer);
  }

  /** The newest trash entry of some device that put the record in (or out of) the trash, not used yet. */
  trash(recordId: string, deleted: boolean, prefer: string): Backing | undefined {
    const event = deleted ? 'record.deleted' : 'record.restored';
    return preferred(
      this.#trash.all(recordId).filter((t) => t.event === event && !t.applied),
      prefer,
    );
  }

  /** Marks a trash entry as used (call in the transaction that applies it). */
  applied(b: Backing): void {
    this.#apply.run(b.device, b.seq);
  }

  /** Whether this device's own log records the record's purge (here, or applied from another device). */
  purgedHere(recordId: string): boolean {
    return this.#audit.hasEntry('record.purged', { target: target.record(recordId) });
  }
}

/** The entry of the device the server names as the last writer, else the first. */
function preferred(list: readonly Backing[], device: string): Backing | undefined {
  const b = list.find((x) => x.device === device) ?? list[0];
  return b && { device: b.device, seq: b.seq };
}

/**
 * Whether a sealed version opens with this vault's keys as version `version` of record `id`
 * (the wrapped data key under the epoch key of its day, the fields under their associated
 * data) and its day is the one its capture time falls on. A server cannot make one up, nor
 * pass off another record's or another version's ciphertext as this one.
 */
export function opens(records: RecordStore, id: string, v: SealedVersion): boolean {
  if (!Number.isFinite(v.capturedAt) || utcDay(new Date(v.capturedAt)) !== v.epochDay) return false;
  try {
    records.decrypt({
      id,
      kind: v.kind,
      capturedAt: new Date(v.capturedAt),
      epochDay: v.epochDay,
      updatedAt: new Date(v.savedAt),
      version: v.version,
      deletedAt: null,
      wrappedDek: new Uint8Array(v.wrappedDek),
      summary: new Uint8Array(v.summary),
      content: new Uint8Array(v.content),
    });
    return true;
  } catch (e) {
    if (e instanceof CustodyError && e.code === 'LOCKED') throw e;
    return false;
  }
}
