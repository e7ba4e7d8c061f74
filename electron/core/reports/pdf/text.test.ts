import { PDFDocument } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { embedFonts, type FontSet } from './fonts.ts';
import { clean, formatBytes, formatPercent, formatTime, truncate, wrap } from './text.ts';

let fonts: FontSet;
beforeAll(async () => {
  fonts = await embedFonts(await PDFDocument.create());
});

describe('wrap', () => {
  it('fills lines up to the width at spaces and keeps every word', () => {
    const text = 'The quick brown fox jumps over the lazy dog, again and again, until the page runs out of room.';
    const lines = wrap(text, fonts.sans, 10, 120);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(fonts.sans.width(line, 10)).toBeLessThanOrEqual(120);
    expect(lines.join(' ')).toBe(text);
    // Greedy: the next word would not have fitted on any line.
    lines.slice(0, -1).forEach((line, i) => {
      const next = lines[i + 1]?.split(' ')[0] ?? '';
      expect(fonts.sans.width(`${line} ${next}`, 10)).toBeGreaterThan(120);
    });
  });

  it('breaks a word wider than the line between characters, preferring a separator', () => {
    const hash = 'ab'.repeat(32);
    const lines = wrap(hash, fonts.mono, 6.2, fonts.mono.width('a'.repeat(32), 6.2) + 0.01);
    expect(lines).toEqual([hash.slice(0, 32), hash.slice(32)]);
    const id = 'record:2f0c9a54-1b7e-4c3e-9d55-0e8d3f6a9b12';
    const idLines = wrap(id, fonts.sans, 8, fonts.sans.width('record:2f0c9a54-1b7e-4c3e-9d', 8));
    expect(idLines[0]).toBe('record:2f0c9a54-1b7e-4c3e-');
    expect(idLines.join('')).toBe(id);
  });

  it('keeps explicit line breaks and turns control characters into spaces', () => {
    expect(wrap('one\r\ntwo\rthree\nfour', fonts.sans, 9, 400)).toEqual(['one', 'two', 'three', 'four']);
    expect(clean('a\u0000b\tc\u0085d')).toBe('a b c d');
    expect(clean('lone \ud800 surrogate')).toBe('lone \ufffd surrogate');
    expect(clean('emoji \ud83d\udd12 stays')).toBe('emoji \ud83d\udd12 stays');
  });

  it('never returns a line wider than the box, whatever the input', () => {
    const inputs = ['', ' ', 'x', 'W'.repeat(500), `${'word '.repeat(50)}${'z'.repeat(90)}`, '\u8b49\u64da'.repeat(40), 'a\n\nb'];
    for (const input of inputs) {
      for (const line of wrap(input, fonts.sans, 9, 50)) {
        // A single glyph wider than the box is the only allowed excess.
        expect(fonts.sans.width(line, 9) <= 50 || [...line].length === 1).toBe(true);
      }
    }
  });
});

describe('truncate', () => {
  it('cuts with an ellipsis only when needed', () => {
    expect(truncate('short', fonts.sans, 9, 200)).toBe('short');
    const cut = truncate('a rather long title that cannot fit', fonts.sans, 9, 60);
    expect(cut.endsWith('\u2026')).toBe(true);
    expect(fonts.sans.width(cut, 9)).toBeLessThanOrEqual(60);
  });
});

describe('EmbeddedFont', () => {
  it('measures like pdf-lib (no kerning, ligatures off) and encodes two bytes per glyph', () => {
    const text = 'Chain-of-Custody ffi 0123456789abcdef \u00e9\u00df';
    expect(fonts.sans.width(text, 11)).toBeCloseTo(fonts.sans.pdfFont.widthOfTextAtSize(text, 11), 6);
    expect(fonts.sans.encode('fi').length).toBe(4);
    expect(fonts.mono.encodeIfFits('abc', 10, 100)).toBe(fonts.mono.encode('abc'));
    expect(fonts.mono.measured).toBeCloseTo(fonts.mono.width('abc', 1), 9);
    expect(fonts.mono.encodeIfFits('abc', 10, 5)).toBeUndefined();
    expect(fonts.mono.encodeIfFits('a\nb', 10, 100)).toBeUndefined();
  });

  it('escapes the bytes a PDF literal string cannot hold raw', () => {
    // Learn enough glyphs that some subset ids hit 0x28 "(", 0x29 ")", 0x5c "\", 0x0a and 0x0d.
    const all = Array.from({ length: 120 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
    const encoded = fonts.sans.encode(all);
    const unescaped = encoded.replace(/\\[()\\nr]/g, '');
    expect(unescaped).not.toMatch(/[()\\\n\r]/);
  });
});

describe('formatting', () => {
  it('shows times in UTC to the second', () => {
    expect(formatTime('2026-11-22T14:03:11.123Z')).toBe('2026-11-22 14:03:11');
    expect(formatTime('2026-11-22T16:03:11+02:00')).toBe('2026-11-22 14:03:11');
    expect(formatTime('not a time')).toBe('not a time');
  });

  it('formats sizes and shares', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_500_000)).toBe('1.4 MiB');
    expect(formatBytes(123_456_789_012)).toBe('115 GiB');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0.9531)).toBe('95.3%');
  });
});
