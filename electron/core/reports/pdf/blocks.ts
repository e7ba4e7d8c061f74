// Building blocks of the report's pages: headings, labelled fields, statistic
// cards and code blocks. Each draws at the layout cursor, wraps its text and
// moves the cursor past itself.
import type { Rgb } from './canvas.ts';
import type { EmbeddedFont } from './fonts.ts';
import { CONTENT_WIDTH, type Layout, PAGE, THEME } from './layout.ts';
import { truncate, wrap } from './text.ts';

/** Section title at the top of a new page, with a short accent rule beneath. */
export function sectionHeading(layout: Layout, label: string, title: string): { page: number; top: number } {
  layout.newPage();
  const at = { page: layout.pageIndex, top: layout.y };
  const { sansBold } = layout.fonts;
  if (label !== '') {
    layout.canvas.text(PAGE.marginX, layout.y + 8, label.toUpperCase(), sansBold, 7.5, THEME.accent);
    layout.y += 14;
  }
  for (const line of wrap(title, sansBold, 19, CONTENT_WIDTH)) {
    layout.canvas.text(PAGE.marginX, layout.y + 19, line, sansBold, 19, THEME.ink);
    layout.y += 25;
  }
  layout.y += 4;
  layout.canvas.fillRect(PAGE.marginX, layout.y, 36, 2, THEME.accent);
  layout.y += 18;
  return at;
}

/** Second-level heading; keeps `keepWith` points of what follows on the same page. */
export function subHeading(layout: Layout, title: string, keepWith = 60, size = 12): { page: number; top: number } {
  const { sansBold } = layout.fonts;
  const lines = wrap(title, sansBold, size, CONTENT_WIDTH);
  layout.ensure(lines.length * size * 1.3 + keepWith);
  const at = { page: layout.pageIndex, top: layout.y };
  for (const line of lines) {
    layout.canvas.text(PAGE.marginX, layout.y + size, line, sansBold, size, THEME.ink);
    layout.y += size * 1.3;
  }
  layout.y += size * 0.35;
  return at;
}

/** Small accent-coloured label above a table or block. */
export function minorHeading(layout: Layout, text: string, keepWith = 36): void {
  layout.ensure(18 + keepWith);
  layout.y += 6;
  layout.canvas.text(PAGE.marginX, layout.y + 8.5, truncate(text, layout.fonts.sansBold, 8.5, CONTENT_WIDTH), layout.fonts.sansBold, 8.5, THEME.accent);
  layout.y += 15;
}

export interface Field {
  label: string;
  value: string;
  mono?: boolean;
}

/** Label/value rows: labels in a narrow muted column, values wrapped beside them. */
export function fieldRows(layout: Layout, fields: Field[], labelWidth = 112): void {
  const { sans, sansBold, mono } = layout.fonts;
  const valueX = PAGE.marginX + labelWidth;
  const valueW = CONTENT_WIDTH - labelWidth;
  for (const f of fields) {
    const font = f.mono ? mono : sans;
    const size = f.mono ? 8.6 : 9.8;
    const lh = 13.2;
    const lines = wrap(f.value === '' ? '\u2014' : f.value, font, size, valueW);
    layout.ensure(Math.min(lines.length, 3) * lh + 7);
    const label = truncate(f.label, sansBold, 7.6, labelWidth - 10);
    layout.canvas.text(PAGE.marginX, layout.y + 9.6, label, sansBold, 7.6, THEME.muted);
    for (const line of lines) {
      layout.ensure(lh);
      layout.canvas.text(valueX, layout.y + 9.6, line, font, size, THEME.ink);
      layout.y += lh;
    }
    layout.y += 4;
    layout.canvas.line(PAGE.marginX, layout.y - 2, PAGE.marginX + CONTENT_WIDTH, layout.y - 2, THEME.rule, 0.35);
    layout.y += 3;
  }
}

/** A row of equal cells, label above value, values wrapped within their cell. */
export function metaStrip(layout: Layout, fields: Field[]): void {
  const { sans, sansBold, mono } = layout.fonts;
  const gap = 12;
  const w = (CONTENT_WIDTH - gap * (fields.length - 1)) / fields.length;
  const cells = fields.map((f) => {
    const font: EmbeddedFont = f.mono ? mono : sans;
    const size = f.mono ? 7.6 : 8.8;
    return { f, font, size, lines: wrap(f.value === '' ? '\u2014' : f.value, font, size, w) };
  });
  const height = 11 + Math.max(...cells.map((c) => c.lines.length)) * 11.5;
  layout.ensure(height + 6);
  cells.forEach((cell, i) => {
    const x = PAGE.marginX + i * (w + gap);
    layout.canvas.text(x, layout.y + 7, truncate(cell.f.label.toUpperCase(), sansBold, 6.6, w), sansBold, 6.6, THEME.muted);
    cell.lines.forEach((line, li) => layout.canvas.text(x, layout.y + 19 + li * 11.5, line, cell.font, cell.size, THEME.ink));
  });
  layout.y += height + 6;
}

export interface StatCard {
  label: string;
  value: string;
  note?: string;
}

export function statCards(layout: Layout, cards: StatCard[]): void {
  const { sans, sansBold } = layout.fonts;
  const gap = 10;
  const w = (CONTENT_WIDTH - gap * (cards.length - 1)) / cards.length;
  const h = 58;
  layout.ensure(h + 12);
  cards.forEach((card, i) => {
    const x = PAGE.marginX + i * (w + gap);
    const c = layout.canvas;
    c.fillRect(x, layout.y, w, h, THEME.accentSoft);
    c.fillRect(x, layout.y, 2, h, THEME.accent);
    c.text(x + 10, layout.y + 15, truncate(card.label.toUpperCase(), sansBold, 6.8, w - 16), sansBold, 6.8, THEME.muted);
    const valueSize = 17;
    c.text(x + 10, layout.y + 36, truncate(card.value, sansBold, valueSize, w - 16), sansBold, valueSize, THEME.ink);
    if (card.note) c.text(x + 10, layout.y + 49, truncate(card.note, sans, 7, w - 16), sans, 7, THEME.muted);
  });
  layout.y += h + 14;
}

/** Monospaced lines on a tinted background; long lines break between characters. */
export function codeBlock(layout: Layout, lines: string[], opts: { size?: number; color?: Rgb } = {}): void {
  const { mono } = layout.fonts;
  const size = opts.size ?? 7.8;
  const lh = size * 1.42;
  const pad = 7;
  const wrapped = lines.flatMap((l) => wrap(l, mono, size, CONTENT_WIDTH - 2 * pad));
  let i = 0;
  while (i < wrapped.length) {
    layout.ensure(lh + 2 * pad);
    const fit = Math.max(1, Math.floor((PAGE.contentBottom - layout.y - 2 * pad) / lh));
    const chunk = wrapped.slice(i, i + fit);
    const h = chunk.length * lh + 2 * pad;
    layout.canvas.fillRect(PAGE.marginX, layout.y, CONTENT_WIDTH, h, THEME.codeFill);
    layout.canvas.fillRect(PAGE.marginX, layout.y, 1.5, h, THEME.faint);
    chunk.forEach((line, li) =>
      layout.canvas.text(PAGE.marginX + pad, layout.y + pad + li * lh + size * 1.02, line, mono, size, opts.color ?? THEME.ink),
    );
    layout.y += h;
    i += chunk.length;
  }
  layout.y += 9;
}
