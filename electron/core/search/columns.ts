// What search filters and sorts on, one typed array per key, indexed by slot. A filter then reads
// a few dense bytes per record instead of chasing pointers to 100k summaries scattered over the
// heap (that pointer chasing, not the comparisons, was most of a 100k-record listing).
import { CLASSIFICATIONS, RECORD_KINDS, type ParsedSearchQuery, type RecordSummary } from '../../shared/records.ts';

export class Columns {
  deleted = new Uint8Array(1024);
  kind = new Uint8Array(1024);
  classification = new Uint8Array(1024);
  caseId = new Int32Array(1024);
  captured = new Float64Array(1024);
  /** Case names compared without regard to case, as numbers. */
  readonly #caseIds = new Map<string, number>();
  /** The slots carrying each tag, and each slot's tags (to take it out again). */
  readonly #tagged = new Map<string, Set<number>>();
  readonly #tagsOf = new Map<number, readonly string[]>();

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
    this.remove(slot);
    for (const tag of s.tags) {
      let slots = this.#tagged.get(tag);
      if (!slots) this.#tagged.set(tag, (slots = new Set()));
      slots.add(slot);
    }
    this.#tagsOf.set(slot, s.tags);
  }

  /** Forgets a slot's tags (its other keys are overwritten when the slot is reused). */
  remove(slot: number): void {
    for (const tag of this.#tagsOf.get(slot) ?? []) {
      const slots = this.#tagged.get(tag)!;
      slots.delete(slot);
      if (slots.size === 0) this.#tagged.delete(tag);
    }
    this.#tagsOf.delete(slot);
  }

  /** The query's filters as a test on a slot. */
  filter(q: ParsedSearchQuery): (slot: number) => boolean {
    const deleted = q.deleted === 'exclude' ? 0 : q.deleted === 'only' ? 1 : -1;
    const kind = q.kind ? RECORD_KINDS.indexOf(q.kind) : -1;
    const classification = q.classification ? CLASSIFICATIONS.indexOf(q.classification) : -1;
    // A case no record has matches nothing (-2 is no case's id).
    const caseId = q.case === undefined ? -1 : (this.#caseIds.get(q.case.toLowerCase()) ?? -2);
    const from = q.capturedFrom ? Date.parse(q.capturedFrom) : -Infinity;
    const to = q.capturedTo ? Date.parse(q.capturedTo) : Infinity;
    const tagged = q.tag === undefined ? undefined : (this.#tagged.get(q.tag) ?? new Set<number>());
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
