// Record summaries by slot: what a hit shows. A loaded index keeps each summary as the bytes it
// was stored in (slices of the decrypted index file) and decodes one only when it is shown: a
// search shows a page of hits, and 100k summaries as objects were most of the memory of a
// `custody search` (docs/performance.md, "Memory"). Summaries set after the load, or by a
// build, are kept as objects.
import { CLASSIFICATIONS, RECORD_KINDS, type RecordSummary } from '../../shared/records.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import type { Columns } from './columns.ts';

/**
 * What a stored summary holds beyond the filter columns (kind, classification, case, tags and
 * the captured time are read from those) and its id (kept apart, so a lookup by id decodes no
 * summary): title, version, updated-at and deleted-at as epoch ms (or the string itself when it
 * is not in the form toISOString gives back), and captured-at only when that form differs too.
 */
type Row = [title: string, version: number, updatedAt: number | string, deletedAt: number | string | null, capturedAt?: string];

/** A time as epoch ms when its ISO string comes back exactly from it, else the string. */
function compactTime(t: string): number | string {
  const ms = Date.parse(t);
  return Number.isFinite(ms) && new Date(ms).toISOString() === t ? ms : t;
}

/** The ISO string of an epoch-ms time; the last one is remembered (records imported together share one). */
let lastMs = NaN;
let lastIso = '';
function isoOf(t: number | string): string {
  if (typeof t !== 'number') return t;
  if (t !== lastMs) {
    lastIso = new Date(t).toISOString();
    lastMs = t;
  }
  return lastIso;
}

const NO_BYTES = Buffer.alloc(0);

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

/** Per-slot offsets into a blob: raw little-endian uint32s, copied so that they are aligned. */
function offsets(bytes: Uint8Array, count: number, blobLength: number): Uint32Array<ArrayBuffer> {
  if (bytes.length !== (count + 1) * 4) throw new RangeError('summary offsets do not match');
  const at = new Uint32Array(count + 1);
  new Uint8Array(at.buffer).set(bytes);
  if (at[0] !== 0 || at[count] !== blobLength) throw new RangeError('summary offsets out of range');
  for (let i = 0; i < count; i++) if (at[i]! > at[i + 1]!) throw new RangeError('summary offsets out of order');
  return at;
}

export class Summaries {
  #ids: Buffer = NO_BYTES;
  #idAt = new Uint32Array(1);
  #rows: Buffer = NO_BYTES;
  #rowAt = new Uint32Array(1);
  /** Loaded slots whose summary is still the stored one. */
  #stored = new Uint8Array(0);
  /** Summaries set since the load (every summary, for an index built in memory). */
  #own: (RecordSummary | undefined)[] = [];

  has(slot: number): boolean {
    return this.#own[slot] !== undefined || this.#stored[slot] === 1;
  }

  /** The slot's summary; a stored one is completed from `columns` (those the index wrote with it). */
  get(slot: number, columns: Columns): RecordSummary | undefined {
    const own = this.#own[slot];
    if (own || this.#stored[slot] !== 1) return own;
    return this.#decode(slot, columns);
  }

  /** The slot's summary with a search score (one object made, not a summary then its copy). */
  hit(slot: number, columns: Columns, score: number): RecordSummary & { score: number } {
    const own = this.#own[slot];
    if (own) return { ...own, score };
    if (this.#stored[slot] !== 1) throw new RangeError('no summary in this slot');
    const s = this.#decode(slot, columns) as RecordSummary & { score: number };
    s.score = score;
    return s;
  }

  #decode(slot: number, columns: Columns): RecordSummary {
    const [title, version, updatedAt, deletedAt, capturedAt] = JSON.parse(this.#rows.toString('utf8', this.#rowAt[slot], this.#rowAt[slot + 1])) as Row;
    return {
      id: this.#ids.toString('utf8', this.#idAt[slot], this.#idAt[slot + 1]),
      kind: RECORD_KINDS[columns.kind[slot]!]!,
      title,
      case: columns.caseOf(slot),
      tags: columns.tagsOf(slot),
      classification: CLASSIFICATIONS[columns.classification[slot]!]!,
      capturedAt: capturedAt ?? new Date(columns.captured[slot]!).toISOString(),
      updatedAt: isoOf(updatedAt),
      version,
      deletedAt: deletedAt === null ? null : isoOf(deletedAt),
    };
  }

  idOf(slot: number): string | undefined {
    const own = this.#own[slot];
    if (own || this.#stored[slot] !== 1) return own?.id;
    return this.#ids.toString('utf8', this.#idAt[slot], this.#idAt[slot + 1]);
  }

  set(slot: number, s: RecordSummary): void {
    this.#own[slot] = s;
    if (slot < this.#stored.length) this.#stored[slot] = 0;
  }

  delete(slot: number): void {
    this.#own[slot] = undefined;
    if (slot < this.#stored.length) this.#stored[slot] = 0;
  }

  /** Calls `fn` with each slot that has a summary, and its record id. */
  forEachId(fn: (slot: number, id: string) => void): void {
    const n = Math.max(this.#stored.length, this.#own.length);
    for (let slot = 0; slot < n; slot++) {
      const id = this.idOf(slot);
      if (id !== undefined) fn(slot, id);
    }
  }

  /**
   * Slots 0..count-1: the ids as one UTF-8 blob with offsets, then each summary's Row as JSON,
   * likewise (empty for a slot without one). A summary still as it was loaded is copied as its
   * bytes, not decoded and encoded again.
   */
  writeTo(w: ByteWriter, count: number): void {
    const ids = new ByteWriter();
    const rows = new ByteWriter();
    const idAt = new Uint32Array(count + 1);
    const rowAt = new Uint32Array(count + 1);
    for (let slot = 0; slot < count; slot++) {
      const own = this.#own[slot];
      if (own) {
        ids.raw(Buffer.from(own.id, 'utf8'));
        const row: Row = [own.title, own.version, compactTime(own.updatedAt), own.deletedAt === null ? null : compactTime(own.deletedAt)];
        if (typeof compactTime(own.capturedAt) === 'string') row.push(own.capturedAt);
        rows.raw(Buffer.from(JSON.stringify(row), 'utf8'));
      } else if (this.#stored[slot] === 1) {
        ids.raw(this.#ids.subarray(this.#idAt[slot], this.#idAt[slot + 1]));
        rows.raw(this.#rows.subarray(this.#rowAt[slot], this.#rowAt[slot + 1]));
      }
      idAt[slot + 1] = ids.length;
      rowAt[slot + 1] = rows.length;
    }
    w.bytes(new Uint8Array(idAt.buffer));
    w.bytes(ids.finish());
    w.bytes(new Uint8Array(rowAt.buffer));
    w.bytes(rows.finish());
  }

  /**
   * Reads what writeTo wrote; `present` says which slots have a summary (checked against the
   * offsets: a present slot has an id, an absent one nothing). The blobs are views of `r`'s bytes.
   */
  static readFrom(r: ByteReader, count: number, present: Uint8Array): Summaries {
    const s = new Summaries();
    const idAtBytes = r.bytes();
    const ids = r.bytes();
    const rowAtBytes = r.bytes();
    const rows = r.bytes();
    s.#idAt = offsets(idAtBytes, count, ids.length);
    s.#rowAt = offsets(rowAtBytes, count, rows.length);
    s.#ids = view(ids);
    s.#rows = view(rows);
    s.#stored = new Uint8Array(count);
    for (let slot = 0; slot < count; slot++) {
      const has = s.#idAt[slot + 1]! > s.#idAt[slot]!;
      if (has !== (present[slot] === 1) || has !== s.#rowAt[slot + 1]! > s.#rowAt[slot]!) throw new RangeError('summaries do not match the slots');
      s.#stored[slot] = has ? 1 : 0;
    }
    return s;
  }
}
