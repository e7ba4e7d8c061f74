import { describe, expect, test } from 'vitest';
import { charMask, editDistance, mayBeNear } from './typos.ts';

/** Levenshtein by the textbook table, unbounded. */
function reference(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

describe('typos', () => {
  test('the edit distance agrees with the textbook table up to the bound, and the cheap bounds never reject a word within it', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'abcdeé1ж';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    let near = 0;
    for (let k = 0; k < 20_000; k++) {
      const a = word(1 + Math.floor(rand() * 9));
      // Half the pairs are a few random edits apart, so that small distances are common.
      let b = a;
      if (rand() < 0.5) b = word(1 + Math.floor(rand() * 9));
      else for (let e = Math.floor(rand() * 4); e > 0; e--) {
        const at = Math.floor(rand() * (b.length + 1));
        const op = Math.floor(rand() * 3);
        b = op === 0 ? b.slice(0, at) + word(1) + b.slice(at) : op === 1 ? b.slice(0, at) + b.slice(at + 1) : b.slice(0, at) + word(1) + b.slice(at + 1);
      }
      const max = Math.floor(rand() * 3);
      const want = reference(a, b);
      expect(editDistance(a, b, max), `${a} ${b} ${max}`).toBe(Math.min(want, max + 1));
      if (want <= max) {
        near++;
        expect(mayBeNear(a, charMask(a), b, charMask(b), max), `${a} ${b}`).toBe(true);
      }
    }
    expect(near).toBeGreaterThan(2000);
  });

  test('words of other characters are rejected on the mask alone', () => {
    expect(mayBeNear('interview', charMask('interview'), '123456789', charMask('123456789'), 2)).toBe(false);
    expect(mayBeNear('interview', charMask('interview'), 'intervew', charMask('intervew'), 1)).toBe(true);
    expect(editDistance('x'.repeat(70), 'x'.repeat(69) + 'y', 2)).toBe(1);
  });
});
