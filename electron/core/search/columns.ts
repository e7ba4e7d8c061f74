// What search filters, sorts and counts on, one typed array per key, indexed by slot. A filter then
// reads a few dense bytes per record instead of chasing pointers to 100k summaries scattered over
// the heap (that pointer chasing, not the comparisons, was most of a 100k-record listing). Cases
// and tags are numbers into name tables; the columns are persisted as they are, so a loaded index
// makes no object per record (docs/performance.md, "Memory").
import { CLASSIFICATIONS, RECORD_KINDS, type ParsedSearchQuery, type RecordSummary } from '../../shared/records.ts';
import { ByteReader, ByteWriter } from './bytes.ts';

/** Names (cases, tags) as numbers: each distinct name once. */
class Names {
  readonly list: string[] = [];
  readonly #ids = new Map<string, number>();

  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(name);
      this.#ids.set(name, id);
    }
    return id;
  }

  find(name: string): number | undefined {
    return this.#ids.get(name);
  }
}

/** Slots grouped by a key (a tag, a case). */
class Groups {
  readonly #slots = new Map<number, Set<number>>();

  add(key: number, slot: number): void {
    let slots = this.#slots.get(key);
    if (!slots) this.#slots.set(key, (slots = new Set()));
    slots.add(slot);
  }

  delete(key: number, slot: number): void {
    const slots = this.#slots.get(key);
    if (!slots) return;
    slots.delete(slot);
    if (slots.size === 0) this.#slots.delete(key);
  }

  of(key: number | undefined): ReadonlySet<number> {
    return (key !== undefined && this.#slots.get(key)) || new Set();
  }
}

const NO_TAGS: readonly number[] = [];

function grown<T extends Uint8Array | Int32Array | Float64Array>(a: T, size: number, make: (n: number) => T): T {
  const b = make(size);
  b.set(a.subarray(0, Math.min(a.length, size)));
  return b;
}

/** Filter masks kept (a byte per slot each: 1 MiB apiece at 1M records). */
const MASKS_KEPT = 4;

/** A typed column read from the file, copied into an aligned array of `capacity` elements. */
function column<T extends Uint8Array | Int32Array | Float64Array>(bytes: Uint8Array, count: number, make: (n: number) => T): T {
  const out = make(capacityFor(count));
  if (bytes.length !== count * out.BYTES_PER_ELEMENT) throw new RangeError('column length does not match');
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function capacityFor(count: number): number {
  let capacity = 1024;
  while (capacity < count) capacity *= 2;
  return capacity;
}

export class Columns {
  /** A record is in this slot. */
  present = new Uint8Array(1024);
  deleted = new Uint8Array(1024);
  kind = new Uint8Array(1024);
  classification = new Uint8Array(1024);
  /** The case as written (a number into #caseNames), and without regard to case (#caseKeys). */
  caseName = new Int32Array(1024);
  caseId = new Int32Array(1024);
  captured = new Float64Array(1024);
  #caseNames = new Names();
  #caseKeys = new Names();
  /** caseId by caseName. */
  #keyOfName: number[] = [];
  #tagNames = new Names();
  /** Tags of loaded slots: slot i's tag numbers are #tagIds[#tagAt[i]..#tagAt[i+1]). */
  #tagAt = new Uint32Array(1);
  #tagIds = new Uint32Array(0);
  #loaded = 0;
  /** Tags of slots set since the load (every slot, for an index built in memory). */
  #ownTags: (readonly number[] | undefined)[] = [];
  /** The last few filter masks (see mask()), by query; dropped when any slot changes. */
  readonly #masks = new Map<string, Uint8Array>();
  /** Slots by tag and by case: made at the first query that names a tag or a case. */
  #groups: { tags: Groups; cases: Groups } | null = null;

  set(slot: number, s: RecordSummary): void {
    this.#masks.clear();
    if (slot >= this.present.length) this.#grow(slot + 1);
    if (this.present[slot]) this.#ungroup(slot);
    this.present[slot] = 1;
    this.deleted[slot] = s.deletedAt === null ? 0 : 1;
    this.kind[slot] = RECORD_KINDS.indexOf(s.kind);
    this.classification[slot] = CLASSIFICATIONS.indexOf(s.classification);
    const name = this.#caseNames.id(s.case);
    this.caseName[slot] = name;
    this.caseId[slot] = this.#keyOfName[name] ??= this.#caseKeys.id(s.case.toLowerCase());
    this.captured[slot] = Date.parse(s.capturedAt);
    this.#ownTags[slot] = s.tags.map((t) => this.#tagNames.id(t));
    this.#group(slot);
  }

  /** Forgets a slot (its keys are overwritten when the slot is reused). */
  remove(slot: number): void {
    if (!this.present[slot]) return;
    this.#masks.clear();
    this.#ungroup(slot);
    this.present[slot] = 0;
    this.#ownTags[slot] = undefined;
  }

  /** The slot's case as written, and its tags (what a summary shows; the columns keep them). */
  caseOf(slot: number): string {
    return this.#caseNames.list[this.caseName[slot]!]!;
  }

  tagsOf(slot: number): string[] {
    const own = this.#ownTags[slot];
    const names = this.#tagNames.list;
    if (own) return own.map((id) => names[id]!);
    const out: string[] = [];
    if (slot < this.#loaded) for (let i = this.#tagAt[slot]!; i < this.#tagAt[slot + 1]!; i++) out.push(names[this.#tagIds[i]!]!);
    return out;
  }

  #tagsOf(slot: number): ArrayLike<number> {
    const own = this.#ownTags[slot];
    if (own) return own;
    return slot < this.#loaded ? this.#tagIds.subarray(this.#tagAt[slot], this.#tagAt[slot + 1]) : NO_TAGS;
  }

  #group(slot: number): void {
    if (!this.#groups) return;
    const tags = this.#tagsOf(slot);
    for (let i = 0; i < tags.length; i++) this.#groups.tags.add(tags[i]!, slot);
    this.#groups.cases.add(this.caseId[slot]!, slot);
  }

  #ungroup(slot: number): void {
    if (!this.#groups) return;
    const tags = this.#tagsOf(slot);
    for (let i = 0; i < tags.length; i++) this.#groups.tags.delete(tags[i]!, slot);
    this.#groups.cases.delete(this.caseId[slot]!, slot);
  }

  /**
   * The only slots that can pass the query's filters when it names a tag or a case (the smaller
   * set), or undefined when any slot may: a listing by case or tag then sorts a few thousand
   * records instead of testing every one.
   */
  candidates(q: ParsedSearchQuery): ReadonlySet<number> | undefined {
    const sets = [q.tag === undefined ? undefined : this.#grouped().tags.of(this.#tagNames.find(q.tag)), q.case === undefined ? undefined : this.#grouped().cases.of(this.#caseId(q.case))];
    return sets.reduce((best, s) => (s && (!best || s.size < best.size) ? s : best), undefined);
  }

  #grouped(): { tags: Groups; cases: Groups } {
    if (!this.#groups) {
      this.#groups = { tags: new Groups(), cases: new Groups() };
      for (let slot = 0; slot < this.present.length; slot++) if (this.present[slot]) this.#group(slot);
    }
    return this.#groups;
  }

  #caseId(name: string): number {
    // A case no record has matches nothing (-2 is no case's id).
    return this.#caseKeys.find(name.toLowerCase()) ?? -2;
  }

  /**
   * The query's filters as one byte per slot (1: passes), for slots 0..count-1. A query reads it
   * once per match, a million times for a common word at 1M records: an array read, where a test
   * per slot would be a call. The last few are kept until a slot changes (search as you type
   * repeats the filters with every keystroke); the caller only reads it.
   */
  mask(q: ParsedSearchQuery, count: number): Uint8Array {
    const key = JSON.stringify([count, q.deleted, q.kind, q.classification, q.case, q.capturedFrom, q.capturedTo, q.tag]);
    const kept = this.#masks.get(key);
    if (kept) return kept;
    const mask = new Uint8Array(count);
    const deleted = q.deleted === 'exclude' ? 0 : q.deleted === 'only' ? 1 : -1;
    const kind = q.kind ? RECORD_KINDS.indexOf(q.kind) : -1;
    const classification = q.classification ? CLASSIFICATIONS.indexOf(q.classification) : -1;
    const from = q.capturedFrom ? Date.parse(q.capturedFrom) : -Infinity;
    const to = q.capturedTo ? Date.parse(q.capturedTo) : Infinity;
    const { present, deleted: deletedOf, kind: kindOf, classification: classOf, caseId: caseOf, captured } = this;
    const test = (slot: number) =>
      present[slot] === 1 &&
      (deleted < 0 || deletedOf[slot] === deleted) &&
      (kind < 0 || kindOf[slot] === kind) &&
      (classification < 0 || classOf[slot] === classification) &&
      captured[slot]! >= from &&
      captured[slot]! <= to;
    // A tag, or a case once its groups are made (a listing by case makes them): only its slots can
    // pass. A case alone is a column read: grouping a million slots costs a second.
    const caseId = q.case === undefined ? -1 : this.#caseId(q.case);
    const tagged = q.tag === undefined ? undefined : this.#grouped().tags.of(this.#tagNames.find(q.tag));
    const candidates = tagged || this.#groups ? this.candidates(q) : undefined;
    if (candidates) {
      for (const slot of candidates) {
        if (slot < count && test(slot) && (caseId === -1 || caseOf[slot] === caseId) && (!tagged || tagged.has(slot))) mask[slot] = 1;
      }
    } else if (caseId !== -1) {
      for (let slot = 0; slot < count; slot++) if (caseOf[slot] === caseId && test(slot)) mask[slot] = 1;
    } else if (deleted === 0 && kind < 0 && classification < 0 && from === -Infinity && to === Infinity) {
      for (let slot = 0; slot < count; slot++) mask[slot] = present[slot]! & (deletedOf[slot]! ^ 1);
    } else {
      for (let slot = 0; slot < count; slot++) if (test(slot)) mask[slot] = 1;
    }
    if (this.#masks.size >= MASKS_KEPT) this.#masks.delete(this.#masks.keys().next().value!);
    this.#masks.set(key, mask);
    return mask;
  }

  /** Distinct cases and tags of records not in the trash, for filter pickers. */
  facets(): { cases: string[]; tags: string[] } {
    const cases = new Set<number>();
    const tags = new Set<number>();
    for (let slot = 0; slot < this.present.length; slot++) {
      if (!this.present[slot] || this.deleted[slot]) continue;
      cases.add(this.caseName[slot]!);
      const t = this.#tagsOf(slot);
      for (let i = 0; i < t.length; i++) tags.add(t[i]!);
    }
    return {
      cases: [...cases].map((id) => this.#caseNames.list[id]!).filter((c) => c !== '').sort(),
      tags: [...tags].map((id) => this.#tagNames.list[id]!).sort(),
    };
  }

  /**
   * Slots 0..count-1: each column as raw bytes, then the names of cases and tags in use, and each
   * slot's tags as numbers with offsets. Names no record uses any more are left out.
   */
  writeTo(w: ByteWriter, count: number): void {
    const caseNames = new Names();
    const tagNames = new Names();
    const caseName = new Int32Array(count);
    const tagAt = new Uint32Array(count + 1);
    const tagIds: number[] = [];
    for (let slot = 0; slot < count; slot++) {
      if (this.present[slot]) {
        caseName[slot] = caseNames.id(this.#caseNames.list[this.caseName[slot]!]!);
        const t = this.#tagsOf(slot);
        for (let i = 0; i < t.length; i++) tagIds.push(tagNames.id(this.#tagNames.list[t[i]!]!));
      }
      tagAt[slot + 1] = tagIds.length;
    }
    for (const c of [this.present, this.deleted, this.kind, this.classification]) w.bytes(c.subarray(0, count));
    w.bytes(new Uint8Array(this.captured.buffer, 0, count * 8));
    w.bytes(new Uint8Array(caseName.buffer));
    w.string(JSON.stringify([caseNames.list, tagNames.list]));
    w.bytes(new Uint8Array(tagAt.buffer));
    w.bytes(new Uint8Array(Uint32Array.from(tagIds).buffer));
  }

  /** Reads what writeTo wrote, checking every number against its table (throws RangeError). */
  static readFrom(r: ByteReader, count: number): Columns {
    const c = new Columns();
    const u8 = (n: number) => new Uint8Array(n);
    c.present = column(r.bytes(), count, u8);
    c.deleted = column(r.bytes(), count, u8);
    c.kind = column(r.bytes(), count, u8);
    c.classification = column(r.bytes(), count, u8);
    c.captured = column(r.bytes(), count, (n) => new Float64Array(n));
    c.caseName = column(r.bytes(), count, (n) => new Int32Array(n));
    c.caseId = new Int32Array(c.caseName.length);
    const names = JSON.parse(r.string()) as unknown;
    if (!Array.isArray(names) || names.length !== 2 || !names.every((l) => Array.isArray(l) && l.every((n) => typeof n === 'string'))) throw new RangeError('bad name tables');
    const [caseNames, tagNames] = names as [string[], string[]];
    for (const name of caseNames) c.#keyOfName[c.#caseNames.id(name)] = c.#caseKeys.id(name.toLowerCase());
    for (const name of tagNames) c.#tagNames.id(name);
    if (c.#caseNames.list.length !== caseNames.length || c.#tagNames.list.length !== tagNames.length) throw new RangeError('names repeated');
    const tagAtBytes = r.bytes();
    const tagIdBytes = r.bytes();
    if (tagAtBytes.length !== (count + 1) * 4 || tagIdBytes.length % 4 !== 0) throw new RangeError('tag tables do not match');
    c.#tagAt = new Uint32Array(count + 1);
    new Uint8Array(c.#tagAt.buffer).set(tagAtBytes);
    c.#tagIds = new Uint32Array(tagIdBytes.length / 4);
    new Uint8Array(c.#tagIds.buffer).set(tagIdBytes);
    if (c.#tagAt[0] !== 0 || c.#tagAt[count] !== c.#tagIds.length) throw new RangeError('tag offsets out of range');
    for (const id of c.#tagIds) if (id >= tagNames.length) throw new RangeError('tag out of range');
    for (let slot = 0; slot < count; slot++) {
      if (c.#tagAt[slot]! > c.#tagAt[slot + 1]!) throw new RangeError('tag offsets out of order');
      const present = c.present[slot];
      if (present === 0) continue;
      if (present !== 1 || c.deleted[slot]! > 1 || c.kind[slot]! >= RECORD_KINDS.length || c.classification[slot]! >= CLASSIFICATIONS.length) throw new RangeError('bad column value');
      const name = c.caseName[slot]!;
      if (name < 0 || name >= caseNames.length) throw new RangeError('case out of range');
      c.caseId[slot] = c.#keyOfName[name]!;
    }
    c.#loaded = count;
    return c;
  }

  #grow(min: number): void {
    const size = Math.max(min, this.present.length * 2);
    this.present = grown(this.present, size, (n) => new Uint8Array(n));
    this.deleted = grown(this.deleted, size, (n) => new Uint8Array(n));
    this.kind = grown(this.kind, size, (n) => new Uint8Array(n));
    this.classification = grown(this.classification, size, (n) => new Uint8Array(n));
    this.caseName = grown(this.caseName, size, (n) => new Int32Array(n));
    this.caseId = grown(this.caseId, size, (n) => new Int32Array(n));
    this.captured = grown(this.captured, size, (n) => new Float64Array(n));
  }
}
