// Paginated tables: the header row repeats on every page, cells wrap (never
// overflow), rows are zebra-striped and never split across pages. Rows come
// from a callback, so a 100,000-row table allocates no row objects.
import type { Rgb } from './canvas.ts';
import type { EmbeddedFont, FontKey } from './fonts.ts';
import { CONTENT_WIDTH, type Layout, PAGE, THEME } from './layout.ts';
import { truncate, wrap } from './text.ts';

export interface Column {
  title: string;
  width: number;
  font?: FontKey;
  size?: number;
  align?: 'left' | 'right';
  color?: (value: string) => Rgb;
}

export interface TableOptions {
  /** Lines every row reserves (e.g. 2 for a hash split over two lines). */
  minLines?: number;
  size?: number;
  /** Caption above the repeated header on continuation pages, e.g. "2.1 Title — access history (continued)". */
  continued?: string;
}

const PAD_X = 4;
const PAD_Y = 3;
const HEADER_SCALE = 0.95;
/** Wrapped texts remembered per column (a bound on memory, far above a table's distinct ids). */
const WRAP_MEMO = 20_000;

/** Spreads the width left after the fixed columns over the flexible ones by weight. */
export function fitColumns(fixed: (number | { weight: number })[], total = CONTENT_WIDTH): number[] {
  const used = fixed.reduce<number>((s, c) => s + (typeof c === 'number' ? c : 0), 0);
  const weights = fixed.reduce<number>((s, c) => s + (typeof c === 'number' ? 0 : c.weight), 0);
  return fixed.map((c) => (typeof c === 'number' ? c : ((total - used) * c.weight) / weights));
}

/** Width a column needs to show `text` and its header `title` on one line each. */
export function columnWidthFor(layout: Layout, text: string, font: FontKey, size: number, title = ''): number {
  const content = layout.fonts[font].width(text, size);
  const header = layout.fonts.sansBold.width(title, size * HEADER_SCALE);
  return Math.ceil(Math.max(content, header) + 2 * PAD_X + 0.5);
}

interface EncodedLine {
  encoded: string;
  width: number;
}

/** Lines of a cell, encoded: each given line as is when it fits, else wrapped; at most maxLines. */
function encodeLines(given: readonly string[], font: EmbeddedFont, size: number, inner: number, maxLines: number): EncodedLine[] {
  const out: EncodedLine[] = [];
  for (const text of given) {
    const encoded = font.encodeIfFits(text, size, inner);
    if (encoded !== undefined) {
      out.push({ encoded, width: font.measured * size });
      continue;
    }
    for (const line of wrap(text, font, size, inner)) out.push({ encoded: font.encode(line), width: font.width(line, size) });
  }
  if (out.length > maxLines) {
    // Only a pathological value is taller than a page: keep what fits, mark the cut.
    out.length = maxLines;
    out[maxLines - 1] = { encoded: font.encode('\u2026'), width: font.width('\u2026', size) };
  }
  return out;
}

/** A cell: text to wrap, or explicit lines (each still wrapped if too wide). */
export type CellValue = string | readonly string[];

export function drawTable(
  layout: Layout,
  columns: Column[],
  rowCount: number,
  cell: (row: number, col: number) => CellValue,
  opts: TableOptions = {},
): void {
  const size = opts.size ?? 7.5;
  const lineHeight = size * 1.3;
  const minLines = opts.minLines ?? 1;
  const headerSize = size * HEADER_SCALE;
  const headerHeight = headerSize * 1.3 + 2 * PAD_Y + 1;
  const x0 = PAGE.marginX;
  const tableWidth = columns.reduce((s, c) => s + c.width, 0);
  const maxLinesPerRow = Math.floor((PAGE.contentBottom - PAGE.contentTop - headerHeight - 2 * PAD_Y) / lineHeight);
  const baselineOffset = PAD_Y + size * 1.02;

  // Per-column constants, hoisted out of the row loop.
  let left = x0;
  const cols = columns.map((col) => {
    const c = {
      ...col,
      font: layout.fonts[col.font ?? 'sans'],
      size: col.size ?? size,
      left,
      inner: col.width - 2 * PAD_X,
      right: left + col.width - PAD_X,
    };
    left += col.width;
    return c;
  });

  const drawHeader = (): void => {
    const c = layout.canvas;
    c.fillRect(x0, layout.y, tableWidth, headerHeight, THEME.headerFill);
    for (const col of cols) {
      const title = truncate(col.title, layout.fonts.sansBold, headerSize, col.inner);
      const tx = col.align === 'right' ? col.right - layout.fonts.sansBold.width(title, headerSize) : col.left + PAD_X;
      c.text(tx, layout.y + PAD_Y + headerSize * 1.02, title, layout.fonts.sansBold, headerSize, THEME.muted);
    }
    layout.y += headerHeight;
    c.line(x0, layout.y, x0 + tableWidth, layout.y, THEME.rule, 0.6);
  };

  layout.ensure(headerHeight + minLines * lineHeight + 2 * PAD_Y);
  drawHeader();

  // Per row and column: one encoded line (the common case, no arrays
  // allocated) or the wrapped lines.
  const values: CellValue[] = new Array<CellValue>(cols.length);
  const single: (string | undefined)[] = new Array<string | undefined>(cols.length);
  const singleWidth = new Float64Array(cols.length);
  const multi: (EncodedLine[] | undefined)[] = new Array<EncodedLine[] | undefined>(cols.length);
  // A text that needs wrapping is wrapped once per column: in the entry tables the same ids
  // (an entry's target) come back on thousands of rows.
  const wrapped = cols.map(() => new Map<string, EncodedLine[]>());
  for (let r = 0; r < rowCount; r++) {
    let lines = minLines;
    for (let ci = 0; ci < cols.length; ci++) {
      const col = cols[ci] as (typeof cols)[number];
      const value = cell(r, ci);
      values[ci] = value;
      const encoded = typeof value === 'string' ? col.font.encodeIfFits(value, col.size, col.inner) : undefined;
      if (encoded !== undefined) {
        single[ci] = encoded;
        singleWidth[ci] = col.font.measured * col.size;
        multi[ci] = undefined;
        continue;
      }
      const known = typeof value === 'string' ? wrapped[ci]!.get(value) : undefined;
      const cellLines = known ?? encodeLines(typeof value === 'string' ? [value] : value, col.font, col.size, col.inner, maxLinesPerRow);
      if (!known && typeof value === 'string' && wrapped[ci]!.size < WRAP_MEMO) wrapped[ci]!.set(value, cellLines);
      single[ci] = undefined;
      multi[ci] = cellLines;
      if (cellLines.length > lines) lines = cellLines.length;
    }
    const rowHeight = lines * lineHeight + 2 * PAD_Y;
    if (layout.y + rowHeight > PAGE.contentBottom) {
      layout.newPage();
      if (opts.continued) {
        const caption = truncate(opts.continued, layout.fonts.sans, 7.2, tableWidth);
        layout.canvas.text(x0, layout.y + 7.2, caption, layout.fonts.sans, 7.2, THEME.muted);
        layout.y += 13;
      }
      drawHeader();
    }
    const c = layout.canvas;
    if (r % 2 === 1) c.fillRect(x0, layout.y, tableWidth, rowHeight, THEME.zebra);
    const baseline = layout.y + baselineOffset;
    for (let ci = 0; ci < cols.length; ci++) {
      const col = cols[ci] as (typeof cols)[number];
      const value = values[ci] as CellValue;
      const color = col.color && typeof value === 'string' ? col.color(value) : THEME.text;
      const one = single[ci];
      if (one !== undefined) {
        const tx = col.align === 'right' ? col.right - (singleWidth[ci] as number) : col.left + PAD_X;
        c.encodedText(tx, baseline, one, col.font, col.size, color);
        continue;
      }
      const cellLines = multi[ci] as EncodedLine[];
      for (let li = 0; li < cellLines.length; li++) {
        const line = cellLines[li] as EncodedLine;
        const tx = col.align === 'right' ? col.right - line.width : col.left + PAD_X;
        c.encodedText(tx, baseline + li * lineHeight, line.encoded, col.font, col.size, color);
      }
    }
    layout.y += rowHeight;
  }
  layout.canvas.line(x0, layout.y, x0 + tableWidth, layout.y, THEME.rule, 0.6);
}
