// Search over decrypted records. The index lives only in this process's memory: built in the
// background after unlock (with progress), dropped on lock (docs/architecture.md, "Search").
// Text goes to the inverted index; filters, ordering and paging happen here, on per-record
// keys computed once, so a query costs a pass over its matches and never sorts all of them.
import type { RecordSummary, SearchQuery, SearchResult } from '../../shared/records.ts';
import { SearchQuerySchema } from '../../shared/records.ts';
import { parseRequest } from '../../shared/parseRequest.ts';
import type { Content } from '../records/codec.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { Columns } from './columns.ts';
import { InvertedIndex, type Field } from './invertedIndex.ts';
import { Summaries } from './summaries.ts';
import { TopK } from './topK.ts';

function fieldsOf(s: RecordSummary, c: Content): Field[] {
  const fields = c.fields.map((f) => `${f.name} ${typeof f.value === 'object' ? (f.value.label ?? '') : String(f.value)}`);
  return [
    { text: s.title, weight: 3 },
    { text: [c.body, ...fields, ...s.tags, s.case].join('\n'), weight: 1 },
  ];
}

// A common word matches most of a big vault: every hit that passes the filters is counted, but
// only one that can still enter the page is offered (equal scores: newest capture first). Small
// functions of their own, so that the loop, a million turns at 1M records, is optimised.

/** Ranks dense matches (scores by slot, 0: no match) that pass `keep`; returns how many did. */
function rankDense(scores: Float64Array, keep: Uint8Array, captured: Float64Array, top: TopK): number {
  let total = 0;
  let floor = top.floor;
  for (let slot = 0; slot < scores.length; slot++) {
    const score = scores[slot]!;
    if (score === 0 || keep[slot] === 0) continue;
    total++;
    if (score < floor) continue;
    top.offer(slot, score, captured[slot]!);
    floor = top.floor;
  }
  return total;
}

/** As rankDense, for matches listed by slot. */
function rankSparse(m: { slots: Int32Array; scores: Float64Array; length: number }, keep: Uint8Array, captured: Float64Array, top: TopK): number {
  const { slots, scores, length } = m;
  let total = 0;
  let floor = top.floor;
  for (let i = 0; i < length; i++) {
    const slot = slots[i]!;
    if (keep[slot] === 0) continue;
    total++;
    const score = scores[i]!;
    if (score < floor) continue;
    top.offer(slot, score, captured[slot]!);
    floor = top.floor;
  }
  return total;
}

export class SearchIndex {
  #text = new InvertedIndex();
  #columns = new Columns();
  /** Slot by record id; a loaded index makes it at the first lookup by id (not needed to search). */
  #slots: Map<string, number> | null = new Map();
  /** Decrypted summaries by slot: what a hit shows (a loaded index decodes them when shown). */
  #summaries = new Summaries();
  /** Live slots newest capture first, for listing without text; rebuilt lazily, kept on edits. */
  #order: number[] | null = null;
  #facets: { cases: string[]; tags: string[] } | null = null;
  #ready = false;

  get ready(): boolean {
    return this.#ready;
  }
  get size(): number {
    return this.#text.size;
  }

  summaryOf(id: string): RecordSummary | undefined {
    const slot = this.#slotOf.get(id);
    return slot === undefined ? undefined : this.#summaries.get(slot, this.#columns);
  }

  /** The build is complete: sort the listing order now, in the background, not at the first listing. */
  markReady(): void {
    this.#ready = true;
    this.#ordered();
  }

  upsert(s: RecordSummary, c: Content): void {
    this.remove(s.id);
    const slot = this.#text.add(fieldsOf(s, c));
    this.#slotOf.set(s.id, slot);
    this.#summaries.set(slot, s);
    this.#columns.set(slot, s);
    this.#facets = null;
    // While the index fills, one sort at the first listing beats an insertion per record.
    if (this.#order && this.#ready) this.#order.splice(this.#orderPosition(slot), 0, slot);
    else this.#order = null;
  }

  /** Updates what a list shows without reindexing text (delete/restore). */
  setSummary(s: RecordSummary): void {
    const slot = this.#slotOf.get(s.id);
    if (slot === undefined) return;
    const captured = this.#columns.captured[slot];
    this.#summaries.set(slot, s);
    this.#columns.set(slot, s);
    this.#facets = null;
    if (this.#columns.captured[slot] !== captured) this.#order = null;
  }

  remove(id: string): void {
    const slot = this.#slotOf.get(id);
    if (slot === undefined) return;
    if (this.#order) this.#order.splice(this.#orderPosition(slot), 1);
    this.#slotOf.delete(id);
    this.#summaries.delete(slot);
    this.#columns.remove(slot);
    this.#text.remove(slot);
    this.#facets = null;
  }

  /**
   * The whole index in the compact form persisted between unlocks (indexFile.ts seals it): the
   * text index, the filter columns, the summaries (kept as bytes: a loaded index decodes one when
   * it is shown), then the listing order. Every part covers the same slots.
   */
  serialize(): Uint8Array {
    const w = new ByteWriter();
    this.#text.writeTo(w);
    const count = this.#text.slots;
    this.#columns.writeTo(w, count);
    this.#summaries.writeTo(w, count);
    const order = this.#ordered();
    w.bytes(new Uint8Array(Int32Array.from(order).buffer));
    return w.finish();
  }

  /**
   * An index from serialize()'s bytes, ready to search; throws RangeError or SyntaxError on
   * anything malformed. The index keeps views of `bytes` (postings and summaries stay encoded).
   */
  static deserialize(bytes: Uint8Array): SearchIndex {
    const r = new ByteReader(bytes);
    const index = new SearchIndex();
    index.#text = InvertedIndex.readFrom(r);
    const count = index.#text.slots;
    index.#columns = Columns.readFrom(r, count);
    const present = index.#columns.present;
    for (let slot = 0; slot < count; slot++) if ((present[slot] === 1) !== index.#text.isLive(slot)) throw new RangeError('columns do not match the text index');
    index.#summaries = Summaries.readFrom(r, count, present);
    const order = r.bytes();
    if (order.length !== index.#text.size * 4 || !r.done) throw new RangeError('listing order does not match');
    // Copied (new Uint8Array copies, a Buffer's slice would not): the bytes need not be 4-aligned.
    index.#order = Array.from(new Int32Array(new Uint8Array(order).buffer));
    const seen = new Uint8Array(count);
    for (const slot of index.#order) {
      if (!(slot >= 0 && slot < count) || present[slot] !== 1 || seen[slot]) throw new RangeError('listing order does not match');
      seen[slot] = 1;
    }
    index.#slots = null;
    index.#ready = true;
    return index;
  }

  clear(): void {
    this.#text = new InvertedIndex();
    this.#columns = new Columns();
    this.#slots = new Map();
    this.#summaries = new Summaries();
    this.#order = null;
    this.#facets = null;
    this.#ready = false;
  }

  search(query: SearchQuery): SearchResult {
    const q = parseRequest(SearchQuerySchema, query);
    const summaries = this.#summaries;
    const keep = this.#columns.mask(q, this.#text.slots);
    const hit = (slot: number, score: number) => summaries.hit(slot, this.#columns, score);
    let total = 0;
    const text = q.text.trim();
    if (text) {
      // Typos are tolerated only when the words as typed find nothing at all: exact words rank
      // better, and the typo search over the whole vocabulary is the slowest part of a query.
      let m = this.#text.hits(text, { prefixLast: true, typos: false });
      if (m && m.length === 0) m = this.#text.hits(text, { prefixLast: true, typos: true });
      const top = new TopK(Math.min(q.offset + q.limit, this.size));
      if (m) total = m.dense ? rankDense(m.scores, keep, this.#columns.captured, top) : rankSparse(m, keep, this.#columns.captured, top);
      return { total, hits: top.sorted().slice(q.offset).map((r) => hit(r.slot, r.score)), indexReady: this.#ready };
    }
    const end = q.offset + q.limit;
    const candidates = this.#columns.candidates(q);
    // A case or tag holding a small share of the vault: sort its records rather than test all.
    if (candidates && candidates.size * 8 < this.size) {
      const slots = [...candidates].filter((slot) => keep[slot] === 1).sort((a, b) => this.#compare(a, b));
      return { total: slots.length, hits: slots.slice(q.offset, end).map((slot) => hit(slot, 0)), indexReady: this.#ready };
    }
    const hits: SearchResult['hits'] = [];
    for (const slot of this.#ordered()) {
      if (keep[slot] === 0) continue;
      if (total >= q.offset && total < end) hits.push(hit(slot, 0));
      total++;
    }
    return { total, hits, indexReady: this.#ready };
  }

  /** Distinct cases and tags of records not in the trash, for filter pickers. */
  facets(): { cases: string[]; tags: string[] } {
    return (this.#facets ??= this.#columns.facets());
  }

  /** Newest capture first, then newest id (UUIDv7: latest created), as the database lists them. */
  #compare(a: number, b: number): number {
    const captured = this.#columns.captured;
    const by = captured[b]! - captured[a]!;
    if (by !== 0) return by;
    // Equal capture times are rare: only then are the ids decoded.
    const ia = this.#summaries.idOf(a)!;
    const ib = this.#summaries.idOf(b)!;
    return ia > ib ? -1 : ia < ib ? 1 : 0;
  }

  #ordered(): number[] {
    if (this.#order) return this.#order;
    const slots: number[] = [];
    const present = this.#columns.present;
    for (let slot = 0; slot < present.length; slot++) if (present[slot]) slots.push(slot);
    return (this.#order = slots.sort((a, b) => this.#compare(a, b)));
  }

  get #slotOf(): Map<string, number> {
    if (!this.#slots) {
      const slots = new Map<string, number>();
      this.#summaries.forEachId((slot, id) => slots.set(id, slot));
      this.#slots = slots;
    }
    return this.#slots;
  }

  /** Where a slot is, or would go, in #order (binary search). */
  #orderPosition(slot: number): number {
    const order = this.#order!;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#compare(order[mid]!, slot) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
