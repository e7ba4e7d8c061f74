// What search filters and sorts on, one typed array per key, indexed by slot. A filter then reads
// a few dense bytes per record instead of chasing pointers to 100k summaries scattered over the
// heap (that pointer chasing, not the comparisons, was most of a 100k-record listing).
import { CLASSIFICATIONS, RECORD_KINDS, type ParsedSearchQuery, type RecordSummary } from '../../shared/records.ts';

/** Slots grouped by a key (a tag, a case): which slots carry it, and each slot's keys. */
class Groups<K> {
  readonly #slots = new Map<K, Set<number>>();
  readonly #keysOf = new Map<number, readonly K[]>();

  set(slot: number, keys: readonly K[]): void {
    this.remove(slot);
    for (const key of keys) {
      let slots = this.#slots.get(key);
      if (!slots) this.#slots.set(key, (slots = new Set()));
      slots.add(slot);
    }
    this.#keysOf.set(slot, keys);
  }

  remove(slot: number): void {
    for (const key of this.#keysOf.get(slot) ?? []) {
      const slots = this.#slots.get(key)!;
      slots.delete(slot);
      if (slots.size === 0) this.#slots.delete(key);
    }
    this.#keysOf.delete(slot);
  }

  of(key: K): ReadonlySet<number> {
    return this.#slots.get(key) ?? new Set();
  }
}

export class Columns {
  deleted = new Uint8Array(1024);
  kind = new Uint8Array(1024);
  classification = new Uint8Array(1024);
  caseId = new Int32Array(1024);
  captured = new Float64Array(1024);
  /** Case names compared without regard to case, as numbers. */
  readonly #caseIds = new Map<string, number>();
  /**
   * Each present slot's tags (undefined: no record). The groups by tag and case are made from
   * these and the case ids at the first query that names a tag or a case: a loaded index of
   * 100k records need not build them to answer a text search.
   */
  readonly #tagsOf: (readonly string[] | undefined)[] = [];
  #groups: { tags: Groups<string>; cases: Groups<number> } | null = null;

  set(slot: number, s: RecordSummary): void {
    if (slot >= this.deleted.length) this.#grow(slot + 1);
    this.deleted[slot] = s.deletedAt === null ? 0 : 1;
    this.kind[slot] = RECORD_KINDS.indexOf(s.kind);
    this.classification[slot] = CLASSIFICATIONS.indexOf(s.classification);
    const key = s.case.toLowerCase();
    let id = this.#caseIds.get(key);
    if (id === undefined) this.#caseIds.set(key, (id = this.#caseIds.size));
    this.caseId[slot] = id;
    this.captured[slot] = Date.parse(s.capturedAt);
    this.#tagsOf[slot] = s.tags;
    if (this.#groups) {
      this.#groups.tags.set(slot, s.tags);
      this.#groups.cases.set(slot, [id]);
    }
  }

  /** Forgets a slot's tags and case (its other keys are overwritten when the slot is reused). */
  remove(slot: number): void {
    this.#tagsOf[slot] = undefined;
    if (this.#groups) {
      this.#groups.tags.remove(slot);
      this.#groups.cases.remove(slot);
    }
  }

  /**
   * The only slots that can pass the query's filters when it names a tag or a case (the smaller
   * set), or undefined when any slot may: a listing by case or tag then sorts a few thousand
   * records instead of testing every one.
   */
  candidates(q: ParsedSearchQuery): ReadonlySet<number> | undefined {
    const sets = [q.tag === undefined ? undefined : this.#grouped().tags.of(q.tag), q.case === undefined ? undefined : this.#grouped().cases.of(this.#caseId(q.case))];
    return sets.reduce((best, s) => (s && (!best || s.size < best.size) ? s : best), undefined);
  }

  #grouped(): { tags: Groups<string>; cases: Groups<number> } {
    if (!this.#groups) {
      const groups = { tags: new Groups<string>(), cases: new Groups<number>() };
      this.#tagsOf.forEach((tags, slot) => {
        if (tags === undefined) return;
        groups.tags.set(slot, tags);
        groups.cases.set(slot, [this.caseId[slot]!]);
      });
      this.#groups = groups;
    }
    return this.#groups;
  }

  #caseId(name: string): number {
    // A case no record has matches nothing (-2 is no case's id).
    return this.#caseIds.get(name.toLowerCase()) ?? -2;
  }

  /** The query's filters as a test on a slot. */
  filter(q: ParsedSearchQuery): (slot: number) => boolean {
    const deleted = q.deleted === 'exclude' ? 0 : q.deleted === 'only' ? 1 : -1;
    const kind = q.kind ? RECORD_KINDS.indexOf(q.kind) : -1;
    const classification = q.classification ? CLASSIFICATIONS.indexOf(q.classification) : -1;
    const caseId = q.case === undefined ? -1 : this.#caseId(q.case);
    const from = q.capturedFrom ? Date.parse(q.capturedFrom) : -Infinity;
    const to = q.capturedTo ? Date.parse(q.capturedTo) : Infinity;
    const tagged = q.tag === undefined ? undefined : this.#grouped().tags.of(q.tag);
    return (slot) =>
      (deleted < 0 || this.deleted[slot] === deleted) &&
      (kind < 0 || this.kind[slot] === kind) &&
      (classification < 0 || this.classification[slot] === classification) &&
      (caseId === -1 || this.caseId[slot] === caseId) &&
      this.captured[slot]! >= from &&
      this.captured[slot]! <= to &&
      (tagged === undefined || tagged.has(slot));
  }

  #grow(min: number): void {
    const size = Math.max(min, this.deleted.length * 2);
    const grown = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.deleted = grown(this.deleted, (n) => new Uint8Array(n));
    this.kind = grown(this.kind, (n) => new Uint8Array(n));
    this.classification = grown(this.classification, (n) => new Uint8Array(n));
    this.caseId = grown(this.caseId, (n) => new Int32Array(n));
    this.captured = grown(this.captured, (n) => new Float64Array(n));
  }
}
