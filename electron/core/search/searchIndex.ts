// Full-text search over decrypted records. The index lives only in this process's memory:
// built in the background after unlock (with progress), dropped on lock (DESIGN.md section 1).
import MiniSearch from 'minisearch';
import type { RecordSummary, SearchQuery, SearchResult } from '../../shared/records.ts';
import { SearchQuerySchema } from '../../shared/records.ts';
import type { Content } from '../records/codec.ts';

// Two indexed fields, not five: MiniSearch keeps per-field term statistics, and merging
// body, fields, tags and case into one cuts build time and memory with little loss of ranking.
interface Doc {
  id: string;
  title: string;
  text: string;
}

function toDoc(s: RecordSummary, c: Content): Doc {
  const fields = c.fields.map((f) => `${f.name} ${typeof f.value === 'object' ? (f.value.label ?? '') : String(f.value)}`);
  return { id: s.id, title: s.title, text: [c.body, ...fields, ...s.tags, s.case].join(' \n ') };
}

export class SearchIndex {
  #mini = SearchIndex.#create();
  /** Decrypted summaries by id: what a hit shows, and what filters test. */
  readonly #summaries = new Map<string, RecordSummary>();
  #ready = false;

  static #create() {
    return new MiniSearch<Doc>({
      fields: ['title', 'text'],
      storeFields: [],
      // Search-as-you-type: only the word being typed is a prefix; typos tolerated in long words.
      searchOptions: {
        boost: { title: 3 },
        // A prefix of one or two letters would expand to most of the vocabulary.
        prefix: (term, i, terms) => i === terms.length - 1 && term.length >= 3,
        combineWith: 'AND',
      },
    });
  }

  get ready(): boolean {
    return this.#ready;
  }
  get size(): number {
    return this.#summaries.size;
  }

  summaryOf(id: string): RecordSummary | undefined {
    return this.#summaries.get(id);
  }

  markReady(): void {
    this.#ready = true;
  }

  upsert(s: RecordSummary, c: Content): void {
    if (this.#summaries.has(s.id)) this.#mini.discard(s.id);
    this.#mini.add(toDoc(s, c));
    this.#summaries.set(s.id, s);
  }

  /** Updates what a list shows without reindexing text (delete/restore). */
  setSummary(s: RecordSummary): void {
    if (this.#summaries.has(s.id)) this.#summaries.set(s.id, s);
  }

  remove(id: string): void {
    if (!this.#summaries.delete(id)) return;
    this.#mini.discard(id);
  }

  clear(): void {
    this.#mini = SearchIndex.#create();
    this.#summaries.clear();
    this.#ready = false;
  }

  search(query: SearchQuery): SearchResult {
    const q = SearchQuerySchema.parse(query);
    const from = q.capturedFrom ? Date.parse(q.capturedFrom) : -Infinity;
    const to = q.capturedTo ? Date.parse(q.capturedTo) : Infinity;
    const caseName = q.case?.toLowerCase();
    const keep = (s: RecordSummary): boolean => {
      if (q.deleted === 'exclude' && s.deletedAt) return false;
      if (q.deleted === 'only' && !s.deletedAt) return false;
      if (q.kind && s.kind !== q.kind) return false;
      if (q.classification && s.classification !== q.classification) return false;
      if (caseName !== undefined && s.case.toLowerCase() !== caseName) return false;
      if (q.tag && !s.tags.includes(q.tag)) return false;
      if (from !== -Infinity || to !== Infinity) {
        const t = Date.parse(s.capturedAt);
        if (t < from || t > to) return false;
      }
      return true;
    };
    // Count every match, but build result objects only for the requested page.
    const end = q.offset + q.limit;
    const hits: (RecordSummary & { score: number })[] = [];
    let total = 0;
    const text = q.text.trim();
    if (text) {
      // Typo tolerance only when the words as typed find nothing: fuzzy expansion over a large
      // vocabulary is the most expensive part of a query, and exact hits rank better anyway.
      let results = this.#mini.search(text);
      if (results.length === 0) results = this.#mini.search(text, { fuzzy: (term) => (term.length > 5 ? 0.15 : false), maxFuzzy: 2 });
      for (const r of results) {
        const s = this.#summaries.get(r.id as string);
        if (!s || !keep(s)) continue;
        if (total >= q.offset && total < end) hits.push({ ...s, score: r.score });
        total++;
      }
    } else {
      const matches: RecordSummary[] = [];
      for (const s of this.#summaries.values()) if (keep(s)) matches.push(s);
      matches.sort((a, b) => (a.capturedAt < b.capturedAt ? 1 : a.capturedAt > b.capturedAt ? -1 : 0));
      total = matches.length;
      for (const s of matches.slice(q.offset, end)) hits.push({ ...s, score: 0 });
    }
    return { total, hits, indexReady: this.#ready };
  }

  /** Distinct cases and tags, for filter pickers. */
  facets(): { cases: string[]; tags: string[] } {
    const cases = new Set<string>();
    const tags = new Set<string>();
    for (const s of this.#summaries.values()) {
      if (s.deletedAt) continue;
      if (s.case) cases.add(s.case);
      for (const t of s.tags) tags.add(t);
    }
    return { cases: [...cases].sort(), tags: [...tags].sort() };
  }
}
