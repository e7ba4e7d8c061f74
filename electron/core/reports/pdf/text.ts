// Text fitting and value formatting. Everything drawn goes through wrap() or
// truncate(), so no string can run past its box: words wrap at spaces and a
// word wider than the box (an id, a hash, a path) breaks between characters.
import type { EmbeddedFont } from './fonts.ts';
export { formatBytes } from '../../../shared/format.ts';

// Control characters would draw as .notdef boxes; lone surrogates would break encoding.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// eslint-disable-next-line no-control-regex
const NEEDS_CLEANING = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ud800-\udfff]/;

/** Drawable text: line breaks normalised to \n, other controls to spaces. */
export function clean(text: string): string {
  if (!NEEDS_CLEANING.test(text)) return text;
  return text.replace(/\r\n?/g, '\n').replace(CONTROL, ' ').replace(LONE_SURROGATE, '\ufffd');
}

// Ids and paths read best when cut after a separator ("record:" | "9f1c-…").
const SEPARATORS = new Uint8Array(128);
for (const ch of ':/-_.@\\=&?') SEPARATORS[ch.charCodeAt(0)] = 1;

function breakWord(word: string, font: EmbeddedFont, size: number, maxWidth: number, out: string[]): string {
  const max = maxWidth / size;
  let start = 0;
  let w = 0;
  let lastSep = -1;
  for (let i = 0; i < word.length; ) {
    const cp = word.codePointAt(i) ?? 0;
    const len = cp > 0xffff ? 2 : 1;
    const cw = font.charWidth(cp);
    if (i > start && w + cw > max) {
      // Cut after the last separator when that keeps at least half the line.
      const cut = lastSep >= start + (i - start) / 2 ? lastSep + 1 : i;
      out.push(word.slice(start, cut));
      start = cut;
      w = font.width(word.slice(start, i), 1);
      lastSep = -1;
    }
    if (cp < 128 && SEPARATORS[cp] === 1) lastSep = i;
    w += cw;
    i += len;
  }
  return word.slice(start);
}

/** Lines of at most maxWidth points; explicit newlines are kept. */
export function wrap(text: string, font: EmbeddedFont, size: number, maxWidth: number): string[] {
  const out: string[] = [];
  const space = font.width(' ', size);
  const cleaned = clean(text);
  for (const para of cleaned.includes('\n') ? cleaned.split('\n') : [cleaned]) {
    if (font.width(para, size) <= maxWidth) {
      out.push(para);
      continue;
    }
    let line = '';
    let lineWidth = 0;
    for (const word of para.split(' ')) {
      if (word === '') continue;
      const ww = font.width(word, size);
      if (line !== '' && lineWidth + space + ww <= maxWidth) {
        line += ' ' + word;
        lineWidth += space + ww;
        continue;
      }
      if (line !== '') out.push(line);
      if (ww <= maxWidth) {
        line = word;
        lineWidth = ww;
      } else {
        line = breakWord(word, font, size, maxWidth, out);
        lineWidth = font.width(line, size);
      }
    }
    out.push(line);
  }
  return out;
}

/** One line, cut with an ellipsis when it does not fit. */
export function truncate(text: string, font: EmbeddedFont, size: number, maxWidth: number): string {
  const t = clean(text).replace(/\n/g, ' ');
  if (font.width(t, size) <= maxWidth) return t;
  const ellipsis = '\u2026';
  const budget = maxWidth - font.width(ellipsis, size);
  let out = '';
  let w = 0;
  for (const ch of t) {
    const cw = font.width(ch, size);
    if (w + cw > budget) break;
    out += ch;
    w += cw;
  }
  return out.trimEnd() + ellipsis;
}

const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

/** "2026-11-22 14:03:11" (UTC) for an ISO time; the input unchanged when it does not parse. */
export function formatTime(iso: string): string {
  if (CANONICAL_TIME.test(iso)) return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const s = new Date(ms).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-GB');
}


export function formatPercent(ratio: number): string {
  const p = ratio * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}
