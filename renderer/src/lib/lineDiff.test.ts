import { describe, expect, it } from 'vitest';
import { lineDiff } from './lineDiff.ts';

const render = (before: string, after: string) =>
  lineDiff(before, after)
    ?.map((l) => `${l.kind === 'added' ? '+' : l.kind === 'removed' ? '-' : ' '}${l.text}`)
    .join('\n');

describe('lineDiff', () => {
  it('marks nothing when the texts are equal', () => {
    expect(render('a\nb', 'a\nb')).toBe(' a\n b');
  });

  it('shows a changed line as removed then added, keeping context', () => {
    expect(render('one\ntwo\nthree', 'one\nTWO\nthree')).toBe(' one\n-two\n+TWO\n three');
  });

  it('finds insertions and deletions around common lines', () => {
    expect(render('a\nb\nc\nd', 'a\nc\nd\ne')).toBe(' a\n-b\n c\n d\n+e');
    expect(render('', 'new')).toBe('+new');
  });

  it('gives up (null) rather than build a huge table', () => {
    const big = (p: string) => Array.from({ length: 3000 }, (_, i) => `${p}${i}`).join('\n');
    expect(lineDiff(big('x'), big('y'))).toBeNull();
  });
});
