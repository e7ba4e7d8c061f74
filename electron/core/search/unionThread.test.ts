import { afterAll, describe, expect, test } from 'vitest';
import { ByteReader, ByteWriter } from './bytes.ts';
import { InvertedIndex } from './invertedIndex.ts';
import { addEncoded, addEncodedInTwo, PARALLEL_POSTINGS, stopUnionThread, unionThreadReady, type EncodedLists } from './unionThread.ts';

afterAll(() => stopUnionThread());

/** Lists of random slots below `slots` as the index encodes them, in shared memory. */
function encodedLists(slots: number, sizes: number[], seed: number): EncodedLists {
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const w = new ByteWriter();
  const starts: number[] = [];
  const ends: number[] = [];
  const counts: number[] = [];
  for (const size of sizes) {
    starts.push(w.length);
    let prev = 0;
    let count = 0;
    for (let slot = Math.floor(rand() * (slots / size)); slot < slots; slot += 1 + Math.floor(rand() * 2 * (slots / size))) {
      w.int(slot - prev);
      w.uint(1 + Math.floor(rand() * 4));
      prev = slot;
      count++;
    }
    ends.push(w.length);
    counts.push(count);
  }
  const bytes = w.finish();
  const src = new Uint8Array(new SharedArrayBuffer(bytes.length));
  src.set(bytes);
  return { src, starts: Int32Array.from(starts), ends: Int32Array.from(ends), counts: Int32Array.from(counts), ws: Float64Array.from(sizes, (_, i) => 1 + i / 7) };
}

/** Slots scored in one array and not the other; scores further apart than 1e-12 of their size. */
function differences(a: Float64Array, b: Float64Array): { scoredApart: number; beyond: number } {
  let scoredApart = 0;
  let beyond = 0;
  for (let slot = 0; slot < b.length; slot++) {
    if ((a[slot] === 0) !== (b[slot] === 0)) scoredApart++;
    else if (Math.abs(a[slot]! - b[slot]!) > 1e-12 * b[slot]!) beyond++;
  }
  return { scoredApart, beyond };
}

function sharedNorms(slots: number): Float32Array {
  const norm = new Float32Array(new SharedArrayBuffer(slots * 4));
  // Every 97th slot holds no live document (-1): it must get no score.
  for (let slot = 0; slot < slots; slot++) norm[slot] = slot % 97 === 0 ? -1 : 0.4 + (slot % 13) / 10;
  return norm;
}

describe('a big union split with the helper thread', () => {
  const slots = 200_000;
  const lists = encodedLists(slots, [150_000, 90_000, 40_000, 9_000, 700, 30], 5);
  const norm = sharedNorms(slots);

  test('adds the same scores as one thread alone (to the last bits of a sum in another order)', async () => {
    await unionThreadReady();
    const alone = new Float64Array(slots);
    addEncoded(lists.src, lists.starts, lists.ends, lists.counts, lists.ws, norm, alone, 16_384);
    const spare = new Float64Array(new SharedArrayBuffer(slots * 8));
    // Twice: the second union reuses the helper and its spare array.
    for (let round = 0; round < 2; round++) {
      const split = new Float64Array(slots);
      expect(addEncodedInTwo(lists, norm, split, spare, 16_384)).toBe(true);
      expect(differences(split, alone)).toEqual({ scoredApart: 0, beyond: 0 });
      expect(alone.filter((s) => s > 0).length).toBeGreaterThan(slots / 2);
    }
  });

  test('a list cut short fails as it does on one thread, and the helper still serves the next union', async () => {
    await unionThreadReady();
    const spare = new Float64Array(new SharedArrayBuffer(slots * 8));
    const alone = new Float64Array(slots);
    addEncoded(lists.src, lists.starts, lists.ends, lists.counts, lists.ws, norm, alone, 16_384);
    // The largest list goes to this thread's half, the second to the helper's.
    for (const damaged of [0, 1]) {
      const cut = { ...lists, ends: lists.ends.map((end, i) => (i === damaged ? end - 3 : end)) };
      expect(() => addEncoded(cut.src, cut.starts, cut.ends, cut.counts, cut.ws, norm, new Float64Array(slots), 16_384)).toThrow(RangeError);
      expect(() => addEncodedInTwo(cut, norm, new Float64Array(slots), spare, 16_384)).toThrow(RangeError);
      const next = new Float64Array(slots);
      expect(addEncodedInTwo(lists, norm, next, spare, 16_384)).toBe(true);
      expect(differences(next, alone)).toEqual({ scoredApart: 0, beyond: 0 });
    }
  });

  test('a helper that does not answer in time has its half done here, is stopped, and a new one serves the next union', async () => {
    await unionThreadReady();
    const alone = new Float64Array(slots);
    addEncoded(lists.src, lists.starts, lists.ends, lists.counts, lists.ws, norm, alone, 16_384);
    // Held until this thread has given up on it (after 50 ms instead of the 2 s of real use).
    const hold = new Int32Array(new SharedArrayBuffer(4));
    const split = new Float64Array(slots);
    try {
      expect(addEncodedInTwo(lists, norm, split, new Float64Array(new SharedArrayBuffer(slots * 8)), 16_384, { waitMs: 50, hold })).toBe(false);
    } finally {
      Atomics.store(hold, 0, 1);
      Atomics.notify(hold, 0);
    }
    expect(differences(split, alone)).toEqual({ scoredApart: 0, beyond: 0 });
    // Other lists next, into a new spare array: the stopped helper's late answer is not taken for theirs.
    const other = encodedLists(slots, [120_000, 60_000, 5_000], 11);
    const otherAlone = new Float64Array(slots);
    addEncoded(other.src, other.starts, other.ends, other.counts, other.ws, norm, otherAlone, 16_384);
    await unionThreadReady();
    const next = new Float64Array(slots);
    expect(addEncodedInTwo(other, norm, next, new Float64Array(new SharedArrayBuffer(slots * 8)), 16_384)).toBe(true);
    expect(differences(next, otherAlone)).toEqual({ scoredApart: 0, beyond: 0 });
  });

  test('stopped (the index was dropped), it starts again at the next big union', async () => {
    stopUnionThread();
    await unionThreadReady();
    const spare = new Float64Array(new SharedArrayBuffer(slots * 8));
    const split = new Float64Array(slots);
    expect(addEncodedInTwo(lists, norm, split, spare, 16_384)).toBe(true);
    const alone = new Float64Array(slots);
    addEncoded(lists.src, lists.starts, lists.ends, lists.counts, lists.ws, norm, alone, 16_384);
    expect(differences(split, alone)).toEqual({ scoredApart: 0, beyond: 0 });
  });
});

test('a loaded index in shared memory answers as the same index unshared, through its helper thread', async () => {
  await unionThreadReady();
  // A prefix standing for 60 words in every document: more postings than PARALLEL_POSTINGS.
  const docs = Math.ceil(PARALLEL_POSTINGS / 40) + 500;
  const built = new InvertedIndex();
  for (let d = 0; d < docs; d++) {
    const words = Array.from({ length: 40 }, (_, k) => `para${(d * 7 + k * 13) % 60}`);
    built.add([{ text: `doc ${d} ${words.join(' ')}`, weight: 1 }]);
  }
  const w = new ByteWriter();
  built.writeTo(w);
  const bytes = w.finish();
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  const plain = InvertedIndex.readFrom(new ByteReader(bytes));
  const split = InvertedIndex.readFrom(new ByteReader(shared));
  const expand = { prefixLast: true, typos: false };
  for (const text of ['para', 'doc para1', 'para5']) {
    const a = plain.hits(text, expand)!;
    const b = split.hits(text, expand)!;
    expect(b.length, text).toBe(a.length);
    expect(a.dense && b.dense, text).toBe(true);
    if (!a.dense || !b.dense) continue;
    expect(differences(b.scores, a.scores), text).toEqual({ scoredApart: 0, beyond: 0 });
  }
});
