// The full-text part of search: an inverted index with BM25 ranking, built for search-as-you-type
// over 100k+ records. MiniSearch (used before) builds a result object for every matching
// document and sorts them all, which for a common word is most of the vault (~1 s a query).
// Here postings are typed arrays, terms are intersected with a stamp per document (no sets, no
// allocation per match), or slot by slot when they match a good share of the vault (dense
// matches), and the caller keeps only the page it shows. A loaded index keeps its
// vocabulary as a sorted array (prefixes by binary search, typos by a filtered scan: typos.ts); a
// built one uses MiniSearch's SearchableMap for prefixes.
import SearchableMap from 'minisearch/SearchableMap';
import { ByteReader, ByteWriter, decodePairs } from './bytes.ts';
import { tokenize } from './tokenize.ts';
import { bitCount, charMask, editDistance, mayBeNear } from './typos.ts';
import { addEncoded, addEncodedInTwo, canShare, PARALLEL_POSTINGS, type EncodedLists } from './unionThread.ts';

/** A piece of a document's text and how much a word in it counts (a title more than a body). */
export interface Field {
  text: string;
  weight: number;
}

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
const NO_MATCHES: Matches = { dense: false, slots: new Int32Array(0), scores: new Float64Array(0), length: 0 };

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

  /** Decodes the pairs of a loaded word for good (idempotent): before it changes. */
  ready(): this {
    if (this.#src) {
      const pairs = new Int32Array(Math.max(4, this.length * 2));
      decodePairs(this.#src, this.#start, this.#end, this.length, pairs);
      this.pairs = pairs;
      this.#src = null;
    }
    return this;
  }

  /** A loaded word's encoded pairs, or null once decoded. */
  get encoded(): { src: Uint8Array; start: number; end: number } | null {
    return this.#src ? { src: this.#src, start: this.#start, end: this.#end } : null;
  }

  /**
   * The pairs to read now: its own, or a loaded word's decoded into `scratch` (at least
   * length * 2 long) and not kept. A search or a save touches millions of pairs at 1M records;
   * kept decoded, they would double the index in memory.
   */
  read(scratch: Int32Array): Int32Array {
    if (!this.#src) return this.pairs;
    decodePairs(this.#src, this.#start, this.#end, this.length, scratch);
    return scratch;
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

/** A loaded index's words in order; per word its pair count and where its bytes end in `src`. */
interface Loaded {
  words: string[];
  counts: Uint32Array;
  ends: Uint32Array;
  src: Uint8Array;
  /** 1 once the word's postings are in #terms (they may have emptied since, and left it). */
  taken: Uint8Array;
  /** Each word's charMask, made at the first typo search. */
  masks?: Uint32Array;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Where `word` is in `words` (sorted), or -1. */
function find(words: readonly string[], word: string): number {
  const i = lowerBound(words, word);
  return i < words.length && words[i] === word ? i : -1;
}

/** The first position in `words` (sorted) whose word is not below `word`. */
function lowerBound(words: readonly string[], word: string): number {
  let lo = 0;
  let hi = words.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (words[mid]! < word) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Slots per block of the dense pass: its scores and norms (192 KiB) stay in a core's L2 beside
 * the postings being read (at 1M records 16k measured a little faster than 8k or 32k).
 */
const BLOCK = 16_384;

/**
 * Adds each list's BM25 scores into `score` (by slot). Loaded words are decoded as they are read,
 * a block of slots at a time over all of them (addEncoded); the biggest unions share that work
 * with a helper thread (unionThread.ts) when their bytes are shared. Words changed since the
 * load (decoded, few) are added list by list. Returns false when `spare` must not be used again.
 */
function accumulate(lists: { postings: Postings; w: number }[], norm: Float32Array, score: Float64Array, spare: () => Float64Array): boolean {
  const encoded: { src: Uint8Array; start: number; end: number; count: number; w: number }[] = [];
  for (const { postings, w } of lists) {
    const enc = postings.encoded;
    if (enc) {
      encoded.push({ ...enc, count: postings.length, w });
      continue;
    }
    // A list's pairs are in slot order except where a slot was reused; adding is right in any order.
    const p = postings.pairs;
    for (let i = 0; i < postings.length * 2; i += 2) {
      const slot = p[i]!;
      const m = norm[slot]!;
      if (m < 0) continue;
      const tf = p[i + 1]!;
      score[slot] = score[slot]! + (w * tf) / (tf + m);
    }
  }
  if (encoded.length === 0) return true;
  // A loaded index's words all point into the one buffer of its file.
  const e: EncodedLists = {
    src: encoded[0]!.src,
    starts: Int32Array.from(encoded, (l) => l.start),
    ends: Int32Array.from(encoded, (l) => l.end),
    counts: Int32Array.from(encoded, (l) => l.count),
    ws: Float64Array.from(encoded, (l) => l.w),
  };
  const postings = encoded.reduce((sum, l) => sum + l.count, 0);
  if (postings >= PARALLEL_POSTINGS && canShare(e.src, norm)) return addEncodedInTwo(e, norm, score, spare(), BLOCK);
  addEncoded(e.src, e.starts, e.ends, e.counts, e.ws, norm, score, BLOCK);
  return true;
}

/** The slots that score (are not 0). */
function countScored(score: Float64Array): number {
  let length = 0;
  for (let slot = 0; slot < score.length; slot++) if (score[slot] !== 0) length++;
  return length;
}

/**
 * out[slot] = a[slot] + b[slot] where both are scores, else 0 (a document not in both), for
 * every slot (out may be a); returns how many slots score.
 */
function addWhereBoth(out: Float64Array, a: Float64Array, b: Float64Array): number {
  let length = 0;
  for (let slot = 0; slot < out.length; slot++) {
    const x = a[slot]!;
    const y = x === 0 ? 0 : b[slot]!;
    if (y === 0) out[slot] = 0;
    else {
      out[slot] = x + y;
      length++;
    }
  }
  return length;
}

/** What Matches cost the cache, in sparse matches (12 bytes each; a dense slot is 8). */
const held = (m: Matches): number => (m.dense ? Math.ceil((m.scores.length * 2) / 3) : m.slots.length);

/** The words a query word stands for, each with its weight. */
type Group = { postings: Postings; weight: number }[];

/**
 * Live documents, each once, with a BM25 score: a query word's, or a whole query's. `length`
 * counts them. Sparse: slots[i] scored scores[i], for i < length. Dense, when they are a good
 * share of the vault (a common word, a short prefix): scores[slot] for every slot, 0 where the
 * document did not match (a BM25 score is always positive); intersecting and ranking those is a
 * pass over an array in order instead of a million scattered reads.
 */
export type Matches = { dense: false; slots: Int32Array; scores: Float64Array; length: number } | { dense: true; scores: Float64Array; length: number };

/** Matches held at least this densely (one per 8 slots) are kept dense. */
const DENSE = 8;
/** Dense arrays kept for reuse (8 MB each at 1M records). */
const POOLED = 4;

// Search as you type repeats words (each keystroke re-runs the words before the last one), and a
// common word or short prefix can stand for most of the vault: their matches are kept until the
// index changes, within these bounds. The matches (12 bytes each) may fill 8 slots' worth per
// document, at least 2M: 24 MiB in a small vault, 96 MiB at 1M records, where one common prefix
// alone is 1M matches.
const CACHE_WORDS = 64;
const CACHE_MATCHES_MIN = 2_000_000;
const CACHE_MATCHES_PER_SLOT = 8;

export class InvertedIndex {
  /** Words and their postings: all of a built index's; a loaded index's once used (see #loaded). */
  readonly #terms = new Map<string, Postings>();
  /** A built index's vocabulary as a radix tree, for prefixes: made at the first such query. */
  #tree: SearchableMap<Postings> | null = null;
  /**
   * A loaded index's vocabulary in order, each word's postings still encoded in the file's bytes,
   * and the words added since. A word gets its Postings (in #terms) when first searched or
   * changed; prefixes are found here by binary search, typos by a scan (#withTypos). At 1M
   * records the vocabulary is ~1M words: an object and a map entry for each would make every full
   * garbage collection of the process cost ~100 ms, in the middle of someone's search.
   */
  #loaded: Loaded | null = null;
  readonly #added: string[] = [];
  /** Where a loaded word's pairs are decoded to be read once (grown to the longest list read). */
  #scratch = new Int32Array(1024);
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
  #norm: Float32Array | null = null;
  /** Matches held by the cache, over all its words. */
  #cached = 0;
  /** Dense arrays free for reuse (see #denseArray), and those free once the current query is read. */
  readonly #pool: Float64Array[] = [];
  readonly #retired: Float64Array[] = [];
  /** Where the helper thread adds its half of a big union (shared; see unionThread.ts). */
  #spare: Float64Array | null = null;

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
        let postings = this.#postingsOf(term);
        if (!postings) {
          postings = new Postings();
          this.#terms.set(term, postings);
          this.#tree?.set(term, postings);
          // A loaded word that emptied is found through #loaded again.
          if (this.#loaded && find(this.#loaded.words, term) < 0) this.#added.push(term);
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
    // Every list holding a removed document's slot must drop it before the slot is reused.
    this.#takeAll();
    for (const [term, postings] of this.#terms) {
      postings.compact(this.#live);
      if (postings.length > 0) continue;
      this.#terms.delete(term);
      this.#tree?.delete(term);
    }
    // An emptied word is added again if it comes back: #added holds each word once.
    if (this.#added.length > 0) {
      const kept = this.#added.filter((term) => this.#terms.has(term));
      this.#added.length = 0;
      this.#added.push(...kept);
    }
    this.#free.push(...this.#dead);
    this.#dead.length = 0;
  }

  /**
   * The live documents that contain every word of `text` (AND), each once, with its BM25 score;
   * null when the text has no words at all. The arrays may be the cache's own or reused later:
   * the caller reads them before its next query or change to the index, and never writes them.
   * (A visitor per hit costs more than the rest of a query when a common word matches most of a
   * 1M-record vault.)
   */
  hits(text: string, expand: Expand): Matches | null {
    // What the previous call returned has been read by now: its dense arrays may be reused.
    this.#recycle();
    const words = [...new Set(tokenize(text))];
    if (words.length === 0) return null;
    const lists: Matches[] = [];
    for (const [i, word] of words.entries()) {
      const m = this.#matches(word, { prefix: expand.prefixLast && i === words.length - 1, typos: expand.typos });
      if (m.length === 0) return NO_MATCHES;
      lists.push(m);
    }
    return lists.length === 1 ? lists[0]! : this.#intersect(lists);
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
    this.#cached += held(m);
    const budget = Math.max(CACHE_MATCHES_MIN, CACHE_MATCHES_PER_SLOT * this.#highWater);
    for (const [k, old] of this.#cache) {
      if (this.#cache.size <= CACHE_WORDS && this.#cached <= budget) break;
      this.#cache.delete(k);
      this.#cached -= held(old);
      this.#retire(old);
    }
    return m;
  }

  /**
   * Per slot the length part of BM25's denominator, K1 * (1 - B + B * length / avg), or -1 for a
   * slot with no live document: one array read per posting instead of two (a search at 1M records
   * reads millions of postings, and each read is likely a cache miss). Remade after any change.
   */
  #norms(): Float32Array {
    if (this.#norm) return this.#norm;
    const n = Math.max(1, this.#liveCount);
    const avgLength = this.#totalLength / n || 1;
    const k = K1 * (1 - B);
    const perLength = (K1 * B) / avgLength;
    // Shared with the helper thread when the postings are (a big loaded index: unionThread.ts).
    const shared = this.#loaded?.src.buffer instanceof SharedArrayBuffer;
    const norm = shared ? new Float32Array(new SharedArrayBuffer(this.#highWater * 4)) : new Float32Array(this.#highWater);
    const live = this.#live;
    const lengths = this.#length;
    for (let slot = 0; slot < norm.length; slot++) norm[slot] = live[slot] === 1 ? k + perLength * lengths[slot]! : -1;
    return (this.#norm = norm);
  }

  #forget(): void {
    this.#norm = null;
    if (this.#cache.size === 0) return;
    for (const m of this.#cache.values()) this.#retire(m);
    this.#cache.clear();
    this.#cached = 0;
  }

  // Dense arrays are 8 MB at 1M records, and a fresh one costs ~5 ms of page faults before it
  // holds anything: those the cache let go, or a query's result once read, are used again.

  /** A zeroed array of a score per slot. */
  #denseArray(): Float64Array {
    for (let kept = this.#pool.pop(); kept; kept = this.#pool.pop()) if (kept.length === this.#highWater) return kept.fill(0);
    return new Float64Array(this.#highWater);
  }

  /** `m` is no longer held: its dense array may be reused after the current query. */
  #retire(m: Matches): void {
    if (m.dense) this.#retired.push(m.scores);
  }

  #recycle(): void {
    for (const a of this.#retired) if (a.length === this.#highWater && this.#pool.length < POOLED) this.#pool.push(a);
    this.#retired.length = 0;
  }

  /** Dense scores as Matches: kept dense when they are a good share of the slots, else listed. */
  #fromDense(score: Float64Array, length: number): Matches {
    if (length * DENSE > score.length) return { dense: true, scores: score, length };
    const slots = new Int32Array(length);
    const scores = new Float64Array(length);
    for (let slot = 0, i = 0; i < length; slot++) {
      const s = score[slot]!;
      if (s === 0) continue;
      slots[i] = slot;
      scores[i++] = s;
    }
    if (this.#pool.length < POOLED && score.length === this.#highWater) this.#pool.push(score);
    return { dense: false, slots, scores, length };
  }

  #group(word: string, opts: { prefix: boolean; typos: boolean }): Group {
    const weights = new Map<Postings, number>();
    const offer = (postings: Postings, weight: number) => weights.set(postings, Math.max(weights.get(postings) ?? 0, weight));
    const exact = this.#postingsOf(word);
    if (exact) offer(exact, 1);
    if (opts.prefix && word.length >= MIN_PREFIX) {
      for (const [term, postings] of this.#withPrefix(word)) offer(postings, term === word ? 1 : (PREFIX_WEIGHT * word.length) / term.length);
    }
    if (opts.typos && word.length >= MIN_TYPO) {
      const distance = Math.min(2, Math.round(word.length * 0.15));
      for (const [term, postings, d] of this.#withTypos(word, distance)) offer(postings, term === word ? 1 : (TYPO_WEIGHT * word.length) / (word.length + d));
    }
    return [...weights].map(([postings, weight]) => ({ postings, weight }));
  }

  /** The words that begin with `prefix`, and their postings. */
  *#withPrefix(prefix: string): Iterable<[string, Postings]> {
    const loaded = this.#loaded;
    if (!loaded) {
      yield* this.#vocabulary().atPrefix(prefix);
      return;
    }
    const { words } = loaded;
    for (let i = lowerBound(words, prefix); i < words.length && words[i]!.startsWith(prefix); i++) {
      // A word whose postings emptied (compaction) is in neither.
      const p = loaded.taken[i] ? this.#terms.get(words[i]!) : this.#take(i);
      if (p) yield [words[i]!, p];
    }
    for (const term of this.#added) {
      const p = term.startsWith(prefix) ? this.#terms.get(term) : undefined;
      if (p) yield [term, p];
    }
  }

  /** The words within `max` edits of `word`, their postings and their distance. */
  *#withTypos(word: string, max: number): Iterable<[string, Postings, number]> {
    const mask = charMask(word);
    const loaded = this.#loaded;
    if (!loaded) {
      for (const [term, postings] of this.#terms) {
        const d = mayBeNear(word, mask, term, charMask(term), max) ? editDistance(word, term, max) : max + 1;
        if (d <= max) yield [term, postings, d];
      }
      return;
    }
    const { words, taken } = loaded;
    const masks = (loaded.masks ??= Uint32Array.from(words, charMask));
    // The scan visits ~1M words at 1M records: the two bounds inline, no call per word.
    const length = word.length;
    const maxBits = 2 * max;
    for (let i = 0; i < words.length; i++) {
      const term = words[i]!;
      const diff = term.length - length;
      if (diff > max || diff < -max || bitCount(masks[i]! ^ mask) > maxBits) continue;
      const d = editDistance(word, term, max);
      if (d > max) continue;
      const p = taken[i] ? this.#terms.get(term) : this.#take(i);
      if (p) yield [term, p, d];
    }
    for (const term of this.#added) {
      const p = this.#terms.get(term);
      if (p && mayBeNear(word, mask, term, charMask(term), max)) {
        const d = editDistance(word, term, max);
        if (d <= max) yield [term, p, d];
      }
    }
  }

  /** A word's postings, from #terms or, the first time, from the loaded bytes. */
  #postingsOf(word: string): Postings | undefined {
    const p = this.#terms.get(word);
    if (p || !this.#loaded) return p;
    const i = find(this.#loaded.words, word);
    return i < 0 || this.#loaded.taken[i] ? undefined : this.#take(i);
  }

  /** Gives loaded word i its Postings, its pairs still encoded. */
  #take(i: number): Postings {
    const { words, taken } = this.#loaded!;
    const p = this.#encodedAt(i);
    taken[i] = 1;
    this.#terms.set(words[i]!, p);
    return p;
  }

  /** Loaded word i's postings, read from its bytes. */
  #encodedAt(i: number): Postings {
    const { counts, ends, src } = this.#loaded!;
    return Postings.encoded(src, i === 0 ? 0 : ends[i - 1]!, ends[i]!, counts[i]!);
  }

  /**
   * Every word that has postings, in order (a file's vocabulary is sorted, so that a loaded index
   * finds prefixes by binary search). Loaded words not yet taken are read, not taken.
   */
  *#inOrder(): Iterable<[string, Postings]> {
    const loaded = this.#loaded;
    if (!loaded) {
      for (const term of [...this.#terms.keys()].sort(byCodeUnit)) yield [term, this.#terms.get(term)!];
      return;
    }
    // Words added since the load are not among the loaded ones: merge the two orders.
    const terms = this.#terms;
    const added = [...this.#added].sort(byCodeUnit);
    let j = 0;
    for (let i = 0; i <= loaded.words.length; i++) {
      const word = i < loaded.words.length ? loaded.words[i]! : null;
      for (; j < added.length && (word === null || added[j]! < word); j++) {
        const p = terms.get(added[j]!);
        if (p) yield [added[j]!, p];
      }
      if (word === null) break;
      const p = loaded.taken[i] ? terms.get(word) : this.#encodedAt(i);
      if (p) yield [word, p];
    }
  }

  #takeAll(): void {
    const loaded = this.#loaded;
    if (!loaded) return;
    for (let i = 0; i < loaded.words.length; i++) if (!loaded.taken[i]) this.#take(i);
  }

  /** A built index's vocabulary as a radix tree, for prefixes (a loaded one has #loaded). */
  #vocabulary(): SearchableMap<Postings> {
    if (!this.#tree) {
      const tree = new SearchableMap<Postings>();
      for (const [term, postings] of this.#terms) tree.set(term, postings);
      this.#tree = tree;
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
    for (const [term, postings] of this.#inOrder()) {
      const p = postings.read(this.#scratchFor(postings.length));
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
    const counts = new Uint32Array(terms.length);
    const ends = new Uint32Array(terms.length);
    let offset = 0;
    for (let i = 0; i < terms.length; i++) {
      counts[i] = heads.uint();
      offset += heads.uint();
      if (offset > src.length) throw new RangeError('postings out of range');
      ends[i] = offset;
    }
    if (!heads.done || offset !== src.length) throw new RangeError('postings do not match the vocabulary');
    for (let i = 1; i < terms.length; i++) if (!(terms[i - 1]! < terms[i]!)) throw new RangeError('vocabulary out of order');
    index.#loaded = { words: terms, counts, ends, src, taken: new Uint8Array(terms.length) };
    return index;
  }

  /** The live documents of a group's words, each once, with its summed BM25 score. */
  #union(group: Group): Matches {
    const n = Math.max(1, this.#liveCount);
    const norm = this.#norms();
    const idf = (postings: Postings, weight: number) => {
      const df = Math.min(postings.length, n);
      return Math.log(1 + (n - df + 0.5) / (df + 0.5)) * weight * (K1 + 1);
    };
    const highWater = this.#highWater;
    const postingCount = group.reduce((sum, e) => sum + e.postings.length, 0);
    // Words that together cover a good share of the slots (a common word, a short prefix in a big
    // vault: millions of postings) are added into a dense array; a word standing for several (a
    // prefix, typos) may meet a document more than once, and adding handles that.
    if (postingCount * DENSE > highWater) {
      const score = this.#denseArray();
      const spare = () => (this.#spare?.length === highWater ? this.#spare : (this.#spare = new Float64Array(new SharedArrayBuffer(highWater * 8))));
      // A helper that did not answer may still write into its array: the next union gets another.
      if (!accumulate(group.map(({ postings, weight }) => ({ postings, w: idf(postings, weight) })), norm, score, spare)) this.#spare = null;
      return this.#fromDense(score, countScored(score));
    }
    const size = Math.min(highWater, postingCount);
    const slots = new Int32Array(size);
    const scores = new Float64Array(size);
    let length = 0;
    if (group.length === 1) {
      const { postings, weight } = group[0]!;
      const w = idf(postings, weight);
      const p = postings.read(this.#scratchFor(postings.length));
      const end = postings.length * 2;
      for (let i = 0; i < end; i += 2) {
        const slot = p[i]!;
        const m = norm[slot]!;
        if (m < 0) continue;
        const tf = p[i + 1]!;
        slots[length] = slot;
        scores[length++] = (w * tf) / (tf + m);
      }
      return { dense: false, slots, scores, length };
    }
    // Otherwise stamp each slot the first time a word meets it.
    const score = this.#score;
    const stamp = this.#stamp;
    const mark = ++this.#round;
    for (const { postings, weight } of group) {
      const w = idf(postings, weight);
      const p = postings.read(this.#scratchFor(postings.length));
      const end = postings.length * 2;
      for (let i = 0; i < end; i += 2) {
        const slot = p[i]!;
        const m = norm[slot]!;
        if (m < 0) continue;
        const tf = p[i + 1]!;
        const s = (w * tf) / (tf + m);
        if (stamp[slot] === mark) score[slot] = score[slot]! + s;
        else {
          stamp[slot] = mark;
          score[slot] = s;
          slots[length++] = slot;
        }
      }
    }
    for (let i = 0; i < length; i++) scores[i] = score[slots[i]!]!;
    return { dense: false, slots, scores, length };
  }

  /** The documents in every list, each with the sum of its scores. */
  #intersect(lists: Matches[]): Matches {
    // Shortest first: later words only touch documents that matched all before them.
    lists.sort((a, b) => a.length - b.length);
    const first = lists[0]!;
    if (first.dense) {
      // All dense (a list at least as long as a dense one is dense: same slots, same threshold):
      // add them slot by slot, in order. The result is the caller's until its next query.
      const out = this.#denseArray();
      let length = 0;
      for (let g = 1; g < lists.length; g++) length = addWhereBoth(out, g === 1 ? first.scores : out, lists[g]!.scores);
      const m = this.#fromDense(out, length);
      this.#retire(m);
      return m;
    }
    const stamp = this.#stamp;
    const score = this.#score;
    // stamp === base + g: the slot has matched sparse lists 0..g of this query. A dense list is
    // looked up by slot at the end.
    const sparse = lists.filter((l) => !l.dense);
    const dense = lists.filter((l) => l.dense).map((l) => l.scores);
    const base = this.#round + 1;
    this.#round += sparse.length;
    for (let g = 0; g < sparse.length; g++) {
      const { slots, scores, length } = sparse[g] as Extract<Matches, { dense: false }>;
      const mark = base + g;
      for (let i = 0; i < length; i++) {
        const slot = slots[i]!;
        if (g === 0) score[slot] = scores[i]!;
        else if (stamp[slot] === mark - 1) score[slot] = score[slot]! + scores[i]!;
        else continue;
        stamp[slot] = mark;
      }
    }
    const last = base + sparse.length - 1;
    const slots = new Int32Array(first.length);
    const scores = new Float64Array(first.length);
    let length = 0;
    next: for (let i = 0; i < first.length; i++) {
      const slot = first.slots[i]!;
      if (stamp[slot] !== last) continue;
      let sum = score[slot]!;
      for (const d of dense) {
        const s = d[slot]!;
        if (s === 0) continue next;
        sum += s;
      }
      slots[length] = slot;
      scores[length++] = sum;
    }
    return { dense: false, slots, scores, length };
  }

  /** A scratch array for `count` pairs. */
  #scratchFor(count: number): Int32Array {
    if (this.#scratch.length < count * 2) this.#scratch = new Int32Array(Math.max(count * 2, this.#scratch.length * 2));
    return this.#scratch;
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
