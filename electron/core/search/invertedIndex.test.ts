import { describe, expect, test } from 'vitest';
import { ByteReader, ByteWriter } from './bytes.ts';
import { InvertedIndex, type Expand } from './invertedIndex.ts';
import { tokenize } from './tokenize.ts';
import { TopK } from './topK.ts';

const EXACT: Expand = { prefixLast: false, typos: false };
const TYPING: Expand = { prefixLast: true, typos: false };

function matches(index: InvertedIndex, text: string, expand = TYPING): Map<number, number> {
  const out = new Map<number, number>();
  const m = index.hits(text, expand);
  if (m?.dense) {
    m.scores.forEach((score, slot) => score !== 0 && out.set(slot, score));
  } else {
    for (let i = 0; i < (m?.length ?? 0); i++) {
      expect(out.has(m!.slots[i]!)).toBe(false);
      out.set(m!.slots[i]!, m!.scores[i]!);
    }
  }
  expect(out.size).toBe(m?.length ?? 0);
  return out;
}

const doc = (title: string, body = '') => [
  { text: title, weight: 3 },
  { text: body, weight: 1 },
];

describe('tokenize', () => {
  test('letters and digits, lower case, accents folded, no giant tokens', () => {
    expect(tokenize('Café au-lait, 12 ÉTÉ! naïve_Zoë')).toEqual(['cafe', 'au', 'lait', '12', 'ete', 'naive', 'zoe']);
    expect(tokenize(`x ${'a'.repeat(65)} y`)).toEqual(['x', 'y']);
    expect(tokenize('  ... ')).toEqual([]);
  });
});

describe('InvertedIndex', () => {
  test('every word must match; only the last may be a prefix, and only from 3 letters', () => {
    const ix = new InvertedIndex();
    const river = ix.add(doc('River crossing', 'boats near the bridge'));
    const market = ix.add(doc('Market', 'boats and a convoy near the bridgetown road'));
    expect([...matches(ix, 'boats').keys()].sort()).toEqual([river, market]);
    expect([...matches(ix, 'boats convoy').keys()]).toEqual([market]);
    expect([...matches(ix, 'bridge').keys()].sort()).toEqual([river, market]);
    expect([...matches(ix, 'bridge', EXACT).keys()]).toEqual([river]);
    expect([...matches(ix, 'bri boats').keys()]).toEqual([]);
    expect([...matches(ix, 'boats br').keys()]).toEqual([]);
    expect([...matches(ix, 'boats bri').keys()].sort()).toEqual([river, market]);
    expect([...matches(ix, 'ferry').keys()]).toEqual([]);
    expect(ix.hits('  ,, ', TYPING)).toBeNull();
  });

  test('typos are matched only when asked, within 15% of the word', () => {
    const ix = new InvertedIndex();
    const a = ix.add(doc('Interview with the vendor'));
    expect(matches(ix, 'intervew').size).toBe(0);
    expect([...matches(ix, 'intervew', { prefixLast: false, typos: true }).keys()]).toEqual([a]);
    expect(matches(ix, 'intrvw', { prefixLast: false, typos: true }).size).toBe(0);
    expect(matches(ix, 'vendar', { prefixLast: false, typos: true }).size).toBe(1);
  });

  test('ranks by BM25: titles over bodies, rarer words over common ones, exact over completions', () => {
    const ix = new InvertedIndex();
    const inTitle = ix.add(doc('convoy sighted', 'trucks'));
    const inBody = ix.add(doc('note', 'a convoy of trucks'));
    const s = matches(ix, 'convoy');
    expect(s.get(inTitle)!).toBeGreaterThan(s.get(inBody)!);
    const exact = ix.add(doc('zero', 'road'));
    const completion = ix.add(doc('zeroes', 'road'));
    const z = matches(ix, 'zero');
    expect(z.get(exact)!).toBeGreaterThan(z.get(completion)!);
  });

  test('removed documents leave results at once; compaction frees their slots for reuse', () => {
    const ix = new InvertedIndex();
    const slots = Array.from({ length: 3000 }, (_, i) => ix.add(doc(`doc ${i}`, i % 2 ? 'odd' : 'even')));
    for (const s of slots.slice(0, 2000)) ix.remove(s);
    expect(ix.size).toBe(1000);
    expect(matches(ix, 'odd').size).toBe(500);
    expect(matches(ix, '1999').size).toBe(0);
    const reused = ix.add(doc('fresh', 'odd'));
    expect(reused).toBeLessThan(2000);
    expect(matches(ix, 'odd').size).toBe(501);
    expect(matches(ix, 'even').size).toBe(500);
  });

  test('repeated words answer from a cache that every change empties', () => {
    const ix = new InvertedIndex();
    ix.add(doc('convoy north'));
    expect(matches(ix, 'convoy').size).toBe(1);
    expect(matches(ix, 'convoy').size).toBe(1);
    const second = ix.add(doc('convoy south'));
    expect(matches(ix, 'convoy').size).toBe(2);
    expect(matches(ix, 'con').size).toBe(2);
    ix.remove(second);
    expect(matches(ix, 'convoy').size).toBe(1);
    expect(matches(ix, 'con').size).toBe(1);
    expect(matches(ix, 'north con').size).toBe(1);
  });

  test('agrees with a brute-force search on random documents, edits and removals', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const vocab = ['alpha', 'alpine', 'alps', 'beta', 'bet', 'better', 'gamma', 'gam', 'delta', 'del', 'echo', 'echoes', 'x1', '42'];
    const pick = () => vocab[Math.floor(rand() * vocab.length)]!;
    const ix = new InvertedIndex();
    const docs = new Map<number, string[]>();
    for (let round = 0; round < 4000; round++) {
      const r = rand();
      if (r < 0.7 || docs.size === 0) {
        const words = Array.from({ length: 1 + Math.floor(rand() * 6) }, pick);
        const slot = ix.add(doc(words.slice(0, 2).join(' '), words.slice(2).join(' ')));
        expect(docs.has(slot)).toBe(false);
        docs.set(slot, words);
      } else {
        const slots = [...docs.keys()];
        const slot = slots[Math.floor(rand() * slots.length)]!;
        ix.remove(slot);
        docs.delete(slot);
      }
      if (round % 50 !== 0) continue;
      const query = [pick(), pick().slice(0, 2 + Math.floor(rand() * 4))];
      // As the index reads a query: repeated words once, the last one as typed so far.
      const terms = [...new Set(query)];
      const last = terms.pop()!;
      const hit = (words: string[]) => terms.every((t) => words.includes(t)) && words.some((w) => w === last || (last.length >= 3 && w.startsWith(last)));
      const expected = [...docs].filter(([, words]) => hit(words)).map(([slot]) => slot);
      expect([...matches(ix, query.join(' ')).keys()].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    }
  });

  test('dense matches reused across many queries give what a fresh index gives', () => {
    // Words in a quarter of the documents are kept dense, and their arrays are reused once the
    // cache lets go of them (more words than it holds): no query may see another's scores.
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const vocab = Array.from({ length: 90 }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 26)}`);
    const texts = Array.from({ length: 1500 }, () => Array.from({ length: 25 }, () => vocab[Math.floor(rand() * vocab.length)]!).join(' '));
    const build = () => {
      const ix = new InvertedIndex();
      for (const t of texts) ix.add(doc('', t));
      return ix;
    };
    const used = build();
    let dense = 0;
    for (let q = 0; q < 160; q++) {
      const words = Array.from({ length: 1 + (q % 3) }, () => vocab[Math.floor(rand() * vocab.length)]!);
      // Now and then a prefix standing for several words ("wa" is too short: "wa0" or "wb1").
      if (q % 5 === 0) words[words.length - 1] = words[words.length - 1]!.slice(0, 3);
      const text = words.join(' ');
      dense += used.hits(text, TYPING)?.dense ? 1 : 0;
      expect(matches(used, text), text).toEqual(matches(build(), text));
    }
    expect(dense).toBeGreaterThan(20);
  });

  test('a loaded index answers as the built one (words, prefixes, typos), through adds, removals, compaction and a second save', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const vocab = ['convoy', 'convey', 'conveys', 'market', 'markets', 'marker', 'bridge', 'bridges', 'river', 'rivers', 'x1', '42', '123456', '123457', 'café'];
    const pick = (fresh: boolean) => (fresh && rand() < 0.2 ? `novel${Math.floor(rand() * 40)}word` : vocab[Math.floor(rand() * vocab.length)]!);
    const words = (fresh = false) => Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(fresh));
    const built = new InvertedIndex();
    for (let i = 0; i < 1500; i++) {
      // A word of the saved documents only, searched only at the end.
      const w = i % 10 ? words() : [...words(), 'quokka'];
      built.add(doc(w.slice(0, 2).join(' '), w.slice(2).join(' ')));
    }
    const reload = (ix: InvertedIndex) => {
      const w = new ByteWriter();
      ix.writeTo(w);
      return InvertedIndex.readFrom(new ByteReader(w.finish()));
    };
    let loaded = reload(built);
    const queries = ['convoy', 'conv', 'markers', 'marke', 'bridgs', 'brigdes', 'rivres', '123458', 'cafe', 'novel1word', 'novel', 'novel3wrd', 'x1 con', 'river mar', '42 bridge'];
    const expands: Expand[] = [EXACT, TYPING, { prefixLast: true, typos: true }, { prefixLast: false, typos: true }];
    const agree = (scores: boolean) => {
      for (const q of queries) {
        for (const e of expands) {
          const want = matches(built, q, e);
          const got = matches(loaded, q, e);
          expect([...got.keys()].sort((a, b) => a - b), `${q} ${JSON.stringify(e)}`).toEqual([...want.keys()].sort((a, b) => a - b));
          if (scores) for (const [slot, score] of want) expect(got.get(slot)).toBeCloseTo(score, 9);
        }
      }
    };
    agree(true);
    // The same changes to both: new words, removals enough to compact, slots reused.
    const live: number[] = [...Array(1500).keys()];
    let reused = 0;
    for (let round = 0; round < 4000; round++) {
      if (rand() < 0.45 || live.length < 10) {
        const w = words(true);
        const slot = built.add(doc(w.slice(0, 2).join(' '), w.slice(2).join(' ')));
        expect(loaded.add(doc(w.slice(0, 2).join(' '), w.slice(2).join(' ')))).toBe(slot);
        if (slot < built.slots - 1) reused++;
        live.push(slot);
      } else {
        const slot = live.splice(Math.floor(rand() * live.length), 1)[0]!;
        built.remove(slot);
        loaded.remove(slot);
      }
      if (round % 1000 === 999) agree(false);
    }
    // Compaction ran (only it frees slots for reuse), and a word nobody searched before it (its
    // postings still in the loaded bytes) dropped the removed documents whose slots came back.
    expect(reused).toBeGreaterThan(0);
    queries.push('quokka');
    agree(false);
    loaded = reload(loaded);
    agree(false);
  });
});

describe('TopK', () => {
  test('keeps the k best, best first; equal scores by the higher tie key, then the lower slot', () => {
    const top = new TopK(4);
    for (const [slot, score, tie] of [[5, 1, 0], [1, 9, 0], [2, 3, 1], [3, 3, 1], [4, 7, 0], [0, 3, 0], [6, 3, 2]] as const) top.offer(slot, score, tie);
    expect(top.sorted()).toEqual([
      { slot: 1, score: 9 },
      { slot: 4, score: 7 },
      { slot: 6, score: 3 },
      { slot: 2, score: 3 },
    ]);
    const none = new TopK(0);
    none.offer(1, 1, 1);
    expect(none.sorted()).toEqual([]);
  });

  test('agrees with a full sort on random input', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const items = Array.from({ length: 5000 }, (_, slot) => ({ slot, score: Math.floor(rand() * 50), tie: Math.floor(rand() * 5) }));
    const top = new TopK(100);
    for (const i of items) top.offer(i.slot, i.score, i.tie);
    const expected = [...items].sort((a, b) => b.score - a.score || b.tie - a.tie || a.slot - b.slot).slice(0, 100);
    expect(top.sorted()).toEqual(expected.map(({ slot, score }) => ({ slot, score })));
    // Offering only what reaches the floor (as a search does) keeps the same documents.
    const pruned = new TopK(100);
    let skipped = 0;
    for (const i of items) {
      if (i.score < pruned.floor) skipped++;
      else pruned.offer(i.slot, i.score, i.tie);
    }
    expect(pruned.sorted()).toEqual(top.sorted());
    expect(skipped).toBeGreaterThan(3000);
    expect(new TopK(0).floor).toBe(Infinity);
  });
});
