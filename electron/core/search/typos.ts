// Typo tolerance without a tree of the whole vocabulary: a 1M-record vault has ~1M words, and a
// radix tree of them (MiniSearch's SearchableMap, used before) is millions of small objects that
// every full garbage collection then walks (~0.5 s each, in the middle of someone's search).
// Instead a typo search scans the words, rejecting almost all of them on two cheap bounds (the
// length, and which characters occur) before an edit distance is computed.

/**
 * Which characters occur in `word`, one bit per letter (a-z), one for any digit, five shared by
 * all other characters. One edit adds or removes at most one character, so it changes at most
 * one bit, and a substitution at most two: words within `d` edits differ in at most 2d bits.
 */
export function charMask(word: string): number {
  let mask = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 97 && c <= 122) mask |= 1 << (c - 97);
    else if (c >= 48 && c <= 57) mask |= 1 << 26;
    else mask |= 1 << (27 + (c % 5));
  }
  return mask;
}

export function bitCount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Whether `word` (with its charMask) might be within `max` edits of the query: false is certain. */
export function mayBeNear(query: string, queryMask: number, word: string, wordMask: number, max: number): boolean {
  return Math.abs(word.length - query.length) <= max && bitCount(wordMask ^ queryMask) <= 2 * max;
}

const row = new Int32Array(66);
const prev = new Int32Array(66);

/** The Levenshtein distance of a and b (insert, delete, substitute), or max + 1 if above max. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (b.length + 1 > prev.length) return slowDistance(a, b, max);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let best = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      row[j] = v;
      if (v < best) best = v;
    }
    // Every later cell is at least the best of this row.
    if (best > max) return max + 1;
    prev.set(row.subarray(0, b.length + 1));
  }
  return Math.min(prev[b.length]!, max + 1);
}

function slowDistance(a: string, b: string, max: number): number {
  let p = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const r = [i];
    for (let j = 1; j <= b.length; j++) r[j] = Math.min(p[j]! + 1, r[j - 1]! + 1, p[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    p = r;
  }
  return Math.min(p[b.length]!, max + 1);
}
