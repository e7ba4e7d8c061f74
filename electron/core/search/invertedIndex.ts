// The full-text part of search: an inverted index with BM25 ranking, built for search-as-you-type
// over 100k+ records. MiniSearch (used before) builds a result object for every matching
// document and sorts them all, which for a common word is most of the vault (~1 s a query).
// Here postings are typed arrays, terms are intersected with a stamp per document (no sets, no
// allocation per match), and the caller keeps only the page it shows. The vocabulary's radix
// tree (for prefixes and typos) is MiniSearch's SearchableMap.
import SearchableMap from 'minisearch/SearchableMap';
import { ByteReader, ByteWriter, decodePairs } from './bytes.ts';
import { tokenize } from './tokenize.ts';

/** A piece of a document's text and how much a word in it counts (a title more than a body). */
export interface Field {
  text: string;
  weight: number;
}

export type Visit = (slot: number, score: number) => void;

/** Which words may also match a query word beside itself. */
export interface Expand {
  /** The last query word also matches words it begins (it is still being typed). */
  prefixLast: boolean;
  /** Words within a small edit distance match too (used when the exact words find nothing). */
  typos: boolean;
}

// BM25 as in Lucene.
const K1 = 1.2;
const B = 0.75;
// A completion or a near miss counts less than the word itself, and less the further it is.
const PREFIX_WEIGHT = 0.5;
const TYPO_WEIGHT = 0.5;
/** Below this length a prefix expands to most of the vocabulary, and typos to other words. */
const MIN_PREFIX = 3;
const MIN_TYPO = 6;

const NO_PAIRS = new Int32Array(0);

/**
 * One word's postings: (slot, weighted frequency) pairs in insertion order (slots are reused).
 * A loaded index keeps each word's pairs encoded (a few bytes each) until the word is first
 * searched or changed: most of a vocabulary is never touched in a session.
 */
class Postings {
  pairs = new Int32Array(4);
  length = 0;
  #src: Uint8Array | null = null;
  #start = 0;
  #end = 0;

  static encoded(src: Uint8Array, start: number, end: number, count: number): Postings {
    const p = new Postings();
    p.pairs = NO_PAIRS;
    p.length = count;
    p.#src = src;
    p.#start = start;
    p.#end = end;
    return p;
  }

  /** Decodes the pairs of a loaded word (idempotent). */
  ready(): this {
    if (this.#src) {
      const pairs = new Int32Array(Math.max(4, this.length * 2));
      decodePairs(this.#src, this.#start, this.#end, this.length, pairs);
      this.pairs = pairs;
      this.#src = null;
    }
    return this;
  }

  /** Counts one more occurrence in `slot`, the document being added (always the last pair). */
  count(slot: number, weight: number): void {
    this.ready();
    const last = (this.length - 1) * 2;
    if (this.length > 0 && this.pairs[last] === slot) {
      this.pairs[last + 1]! += weight;
      return;
    }
    if (this.length * 2 === this.pairs.length) {
      const grown = new Int32Array(this.pairs.length * 2);
      grown.set(this.pairs);
      this.pairs = grown;
    }
    this.pairs[this.length * 2] = slot;
    this.pairs[this.length * 2 + 1] = weight;
    this.length++;
  }

  /** Drops the pairs of removed documents. */
  compact(live: Uint8Array): void {
    const p = this.ready().pairs;
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      if (!live[p[i * 2]!]) continue;
      p[n * 2] = p[i * 2]!;
      p[n * 2 + 1] = p[i * 2 + 1]!;
      n++;
    }
    this.length = n;
  }
}

/** The words a query word stands for, each with its weight. */
type Group = { postings: Postings; weight: number }[];

/** A query word's live documents, each once, with its BM25 score. */
interface Matches {
  slots: Int32Array;
  scores: Float64Array;
  length: number;
}

// Search as you type repeats words (each keystroke re-runs the words before the last one), and a
// common word or short prefix can stand for 100k documents: their matches are kept until the
// index changes, within these bounds.
const CACHE_WORDS = 64;
const CACHE_MATCHES = 2_000_000;

export class InvertedIndex {
  readonly #terms = new Map<string, Postings>();
  /** The vocabulary as a radix tree, for prefixes and typos: made at the first such query. */
  #tree: SearchableMap<Postings> | null = null;
  /**
   * A loaded index's vocabulary in order, and the words added since: prefixes are found by
   * binary search here until a typo search needs the tree (building it for 100k+ words is a
   * good share of a `custody search`).
   */
  #sorted: string[] | null = null;
  readonly #added: string[] = [];
  // Per slot (a document's number while it is indexed). Dense arrays, so the hot loop of a query
  // stays in cache: a common word's postings touch most slots.
  #live = new Uint8Array(1024);
  #length = new Float32Array(1024);
  /** Which query words a slot has matched so far (see #intersect). A float64 counts exactly to 2^53, so stamps never wrap. */
  #stamp = new Float64Array(1024);
  #score = new Float64Array(1024);
  #highWater = 0;
  /** Slots whose postings were dropped by compaction: free for new documents. */
  readonly #free: number[] = [];
  /** Removed documents whose postings are still in the lists. */
  readonly #dead: number[] = [];
  #liveCount = 0;
  #totalLength = 0;
  #round = 0;
  readonly #cache = new Map<string, Matches>();
  /** Matches held by the cache, over all its words. */
  #cached = 0;

  get size(): number {
    return this.#liveCount;
  }

  /** Slots handed out so far (live, removed or free): every slot number is below this. */
  get slots(): number {
    return this.#highWater;
  }

  isLive(slot: number): boolean {
    return this.#live[slot] === 1;
  }

  /** Indexes a document; returns its slot. */
  add(fields: readonly Field[]): number {
    this.#forget();
    const slot = this.#free.pop() ?? this.#newSlot();
    let length = 0;
    // No per-document word count: a word's postings end with this slot once it has been seen.
    // (A reused slot appears in no list: compaction removed its pairs before freeing it.)
    for (const { text, weight } of fields) {
      for (const term of tokenize(text)) {
        let postings = this.#terms.get(term);
        if (!postings) {
          postings = new Postings();
          this.#terms.set(term, postings);
          this.#tree?.set(term, postings);
          if (this.#sorted && !this.#tree) this.#added.push(term);
        }
        postings.count(slot, weight);
        length += weight;
      }
    }
    this.#live[slot] = 1;
    this.#length[slot] = length;
    this.#liveCount++;
    this.#totalLength += length;
    return slot;
  }

  /** Takes a document out of results at once; its postings go at the next compaction. */
  remove(slot: number): void {
    if (!this.#live[slot]) return;
    this.#forget();
    this.#live[slot] = 0;
    this.#liveCount--;
    this.#totalLength -= this.#length[slot]!;
    this.#dead.push(slot);
    // Compaction visits every list: worth it once removed documents are a good share.
    if (this.#dead.length > 1024 && this.#dead.length > this.#liveCount / 4) this.compact();
  }

  compact(): void {
    for (const [term, postings] of this.#terms) {
      postings.compact(this.#live);
      if (postings.length > 0) continue;
      this.#terms.delete(term);
      this.#tree?.delete(term);
    }
    this.#free.push(...this.#dead);
    this.#dead.length = 0;
  }

  /**
   * Calls `visit` once for every live document that contains every word of `text` (AND), with
   * its BM25 score. Returns false when the text has no words at all.
   */
  match(text: string, expand: Expand, visit: Visit): boolean {
    const words = [...new Set(tokenize(text))];
    if (words.length === 0) return false;
    const lists: Matches[] = [];
    for (const [i, word] of words.entries()) {
      const m = this.#matches(word, { prefix: expand.prefixLast && i === words.length - 1, typos: expand.typos });
      if (m.length === 0) return true;
      lists.push(m);
    }
    this.#intersect(lists, visit);
    return true;
  }

  /** A word's matches, from the cache when the same word was searched since the last change. */
  #matches(word: string, opts: { prefix: boolean; typos: boolean }): Matches {
    const key = `${opts.prefix ? 'p' : 'w'}${opts.typos ? 't' : ''}:${word}`;
    const cached = this.#cache.get(key);
    if (cached) {
      // Most recently used last: the first key is the one to evict.
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const m = this.#union(this.#group(word, opts));
    this.#cache.set(key, m);
    this.#cached += m.length;
    for (const [k, old] of this.#cache) {
      if (this.#cache.size <= CACHE_WORDS && this.#cached <= CACHE_MATCHES) break;
      this.#cache.delete(k);
      this.#cached -= old.length;
    }
    return m;
  }

  #forget(): void {
    if (this.#cache.size === 0) return;
    this.#cache.clear();
    this.#cached = 0;
  }

  #group(word: string, opts: { prefix: boolean; typos: boolean }): Group {
    const weights = new Map<Postings, number>();
    const offer = (postings: Postings, weight: number) => weights.set(postings, Math.max(weights.get(postings) ?? 0, weight));
    const exact = this.#terms.get(word);
    if (exact) offer(exact, 1);
    if (opts.prefix && word.length >= MIN_PREFIX) {
      for (const [term, postings] of this.#withPrefix(word)) offer(postings, term === word ? 1 : (PREFIX_WEIGHT * word.length) / term.length);
    }
    if (opts.typos && word.length >= MIN_TYPO) {
      const distance = Math.min(2, Math.round(word.length * 0.15));
      for (const [term, [postings, d]] of this.#vocabulary().fuzzyGet(word, distance)) offer(postings, term === word ? 1 : (TYPO_WEIGHT * word.length) / (word.length + d));
    }
    return [...weights].map(([postings, weight]) => ({ postings: postings.ready(), weight }));
  }

  /** The words that begin with `prefix`, and their postings. */
  *#withPrefix(prefix: string): Iterable<[string, Postings]> {
    if (this.#tree || !this.#sorted) {
      yield* this.#vocabulary().atPrefix(prefix);
      return;
    }
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length && sorted[i]!.startsWith(prefix); i++) {
      // A word whose postings emptied (compaction) is no longer in #terms.
      const p = this.#terms.get(sorted[i]!);
      if (p) yield [sorted[i]!, p];
    }
    for (const term of this.#added) {
      const p = term.startsWith(prefix) ? this.#terms.get(term) : undefined;
      if (p) yield [term, p];
    }
  }

  #vocabulary(): SearchableMap<Postings> {
    if (!this.#tree) {
      const tree = new SearchableMap<Postings>();
      for (const [term, postings] of this.#terms) tree.set(term, postings);
      this.#tree = tree;
      this.#sorted = null;
      this.#added.length = 0;
    }
    return this.#tree;
  }

  /**
   * Writes the index compactly: per slot a live flag and a length; the vocabulary as one string;
   * per word its pair count and byte length, then all pairs as varints (slot deltas, weights).
   * Pairs of removed documents are left out, so their slots load as free.
   */
  writeTo(w: ByteWriter): void {
    const live = this.#live;
    w.uint(this.#highWater);
    w.bytes(live.subarray(0, this.#highWater));
    w.bytes(new Uint8Array(this.#length.buffer, 0, this.#highWater * 4));
    const terms: string[] = [];
    const heads = new ByteWriter();
    const pairs = new ByteWriter();
    // In order, so a loaded index finds prefixes by binary search.
    const vocabulary = [...this.#terms.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const term of vocabulary) {
      const postings = this.#terms.get(term)!;
      const p = postings.ready().pairs;
      const before = pairs.length;
      let count = 0;
      let prev = 0;
      for (let i = 0; i < postings.length * 2; i += 2) {
        const slot = p[i]!;
        if (live[slot] !== 1) continue;
        pairs.int(slot - prev);
        pairs.uint(p[i + 1]!);
        prev = slot;
        count++;
      }
      if (count === 0) continue;
      terms.push(term);
      heads.uint(count);
      heads.uint(pairs.length - before);
    }
    w.string(terms.join('\n'));
    w.bytes(heads.finish());
    w.bytes(pairs.finish());
  }

  /** Reads what writeTo wrote; words stay encoded until used (throws on a malformed input). */
  static readFrom(r: ByteReader): InvertedIndex {
    const index = new InvertedIndex();
    const highWater = r.uint();
    const live = r.bytes();
    const lengths = r.bytes();
    if (live.length !== highWater || lengths.length !== highWater * 4) throw new RangeError('slot tables do not match');
    let capacity = 1024;
    while (capacity < highWater) capacity *= 2;
    index.#live = new Uint8Array(capacity);
    index.#live.set(live);
    index.#length = new Float32Array(capacity);
    new Uint8Array(index.#length.buffer).set(lengths);
    index.#stamp = new Float64Array(capacity);
    index.#score = new Float64Array(capacity);
    index.#highWater = highWater;
    for (let slot = highWater - 1; slot >= 0; slot--) {
      if (index.#live[slot] === 1) {
        index.#liveCount++;
        index.#totalLength += index.#length[slot]!;
      } else if (index.#live[slot] === 0) index.#free.push(slot);
      else throw new RangeError('bad live flag');
    }
    const vocabulary = r.string();
    const terms = vocabulary ? vocabulary.split('\n') : [];
    const heads = new ByteReader(r.bytes());
    const src = r.bytes();
    let offset = 0;
    for (const term of terms) {
      const count = heads.uint();
      const length = heads.uint();
      if (offset + length > src.length) throw new RangeError('postings out of range');
      index.#terms.set(term, Postings.encoded(src, offset, offset + length, count));
      offset += length;
    }
    if (!heads.done || offset !== src.length) throw new RangeError('postings do not match the vocabulary');
    for (let i = 1; i < terms.length; i++) if (!(terms[i - 1]! < terms[i]!)) throw new RangeError('vocabulary out of order');
    index.#sorted = terms;
    return index;
  }

  /** The live documents of a group's words, each once, with its summed BM25 score. */
  #union(group: Group): Matches {
    const live = this.#live;
    const lengths = this.#length;
    const stamp = this.#stamp;
    const score = this.#score;
    const n = Math.max(1, this.#liveCount);
    const avgLength = this.#totalLength / n || 1;
    const size = Math.min(
      this.#highWater,
      group.reduce((sum, e) => sum + e.postings.length, 0),
    );
    const slots = new Int32Array(size);
    const scores = new Float64Array(size);
    let length = 0;
    // A word standing for several (a prefix, typos) may meet a document more than once.
    const mark = ++this.#round;
    for (const { postings, weight } of group) {
      const df = Math.min(postings.length, n);
      const w = Math.log(1 + (n - df + 0.5) / (df + 0.5)) * weight * (K1 + 1);
      const p = postings.pairs;
      const end = postings.length * 2;
      for (let i = 0; i < end; i += 2) {
        const slot = p[i]!;
        if (live[slot] !== 1) continue;
        const tf = p[i + 1]!;
        const s = (w * tf) / (tf + K1 * (1 - B + (B * lengths[slot]!) / avgLength));
        if (group.length === 1) {
          slots[length] = slot;
          scores[length++] = s;
        } else if (stamp[slot] === mark) score[slot] = score[slot]! + s;
        else {
          stamp[slot] = mark;
          score[slot] = s;
          slots[length++] = slot;
        }
      }
    }
    if (group.length > 1) for (let i = 0; i < length; i++) scores[i] = score[slots[i]!]!;
    return { slots, scores, length };
  }

  #intersect(lists: Matches[], visit: Visit): void {
    // Shortest first: later words only touch documents that matched all before them.
    lists.sort((a, b) => a.length - b.length);
    const first = lists[0]!;
    if (lists.length === 1) {
      for (let i = 0; i < first.length; i++) visit(first.slots[i]!, first.scores[i]!);
      return;
    }
    const stamp = this.#stamp;
    const score = this.#score;
    // stamp === base + g: the slot has matched lists 0..g of this query.
    const base = this.#round + 1;
    this.#round += lists.length;
    for (let g = 0; g < lists.length; g++) {
      const { slots, scores, length } = lists[g]!;
      const mark = base + g;
      for (let i = 0; i < length; i++) {
        const slot = slots[i]!;
        if (g === 0) score[slot] = scores[i]!;
        else if (stamp[slot] === mark - 1) score[slot] = score[slot]! + scores[i]!;
        else continue;
        stamp[slot] = mark;
      }
    }
    const last = base + lists.length - 1;
    for (let i = 0; i < first.length; i++) {
      const slot = first.slots[i]!;
      if (stamp[slot] === last) visit(slot, score[slot]!);
    }
  }

  #newSlot(): number {
    const slot = this.#highWater++;
    if (slot === this.#live.length) {
      const grow = <T extends Uint8Array | Float32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.#live = grow(this.#live, (n) => new Uint8Array(n));
      this.#length = grow(this.#length, (n) => new Float32Array(n));
      this.#stamp = grow(this.#stamp, (n) => new Float64Array(n));
      this.#score = new Float64Array(this.#live.length);
    }
    return slot;
  }
}
