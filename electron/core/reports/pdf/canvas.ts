// Writes one page's content stream as operator text. pdf-lib's drawText builds
// about ten operator objects per call and lays the text out again; a report of
// 100,000 entries draws over a million strings, so pages are written directly
// (coordinates from the top of the page, converted here) and pdf-lib only
// assembles the document. Coordinates are kept in integer hundredths of a
// point, so relative text moves (Td) never drift.
import type { EmbeddedFont } from './fonts.ts';

export type Rgb = readonly [number, number, number];

/** A coordinate in hundredths of a point, as the shortest decimal. */
function hundredths(h: number): string {
  const neg = h < 0;
  const a = neg ? -h : h;
  const int = Math.floor(a / 100);
  const frac = a - int * 100;
  const s = frac === 0 ? String(int) : frac % 10 === 0 ? `${int}.${frac / 10}` : `${int}.${frac < 10 ? '0' : ''}${frac}`;
  return neg ? `-${s}` : s;
}

/** Shortest decimal with at most two places: content streams stay small. */
function num(n: number): string {
  return hundredths(Math.round(n * 100));
}

function rgb(c: Rgb): string {
  return `${num(c[0])} ${num(c[1])} ${num(c[2])}`;
}

export class PageCanvas {
  private readonly ops: string[] = [];
  private inText = false;
  // Start of the current text line since BT, in hundredths (Td is relative to it).
  private lineX = 0;
  private lineY = 0;
  private font: EmbeddedFont | undefined;
  private size = 0;
  private fill = '';
  private fillColour: Rgb | undefined;
  private stroke = '';
  private lineWidth = -1;
  private readonly pageTop: number;

  constructor(readonly pageHeight: number) {
    this.pageTop = Math.round(pageHeight * 100);
  }

  private setFill(c: Rgb): void {
    if (c === this.fillColour) return;
    this.fillColour = c;
    const s = rgb(c);
    if (s !== this.fill) {
      this.ops.push(`${s} rg`);
      this.fill = s;
    }
  }

  private endText(): void {
    if (this.inText) {
      this.ops.push('ET');
      this.inText = false;
    }
  }

  /** Draws text with its baseline at `baseline` (from the top). The caller has fitted it. */
  text(x: number, baseline: number, s: string, font: EmbeddedFont, size: number, color: Rgb): void {
    if (s.length > 0) this.encodedText(x, baseline, font.encode(s), font, size, color);
  }

  /** As text(), for a string already encoded with `font` (EmbeddedFont.encode or encodeIfFits). */
  encodedText(x: number, baseline: number, encoded: string, font: EmbeddedFont, size: number, color: Rgb): void {
    if (encoded.length === 0) return;
    this.setFill(color);
    if (!this.inText) {
      this.ops.push('BT');
      this.inText = true;
      this.lineX = 0;
      this.lineY = 0;
    }
    if (this.font !== font || this.size !== size) {
      this.ops.push(`/${font.resourceName} ${num(size)} Tf`);
      this.font = font;
      this.size = size;
    }
    const hx = Math.round(x * 100);
    const hy = this.pageTop - Math.round(baseline * 100);
    this.ops.push(`${hundredths(hx - this.lineX)} ${hundredths(hy - this.lineY)} Td (${encoded}) Tj`);
    this.lineX = hx;
    this.lineY = hy;
  }

  fillRect(x: number, top: number, w: number, h: number, color: Rgb): void {
    this.endText();
    this.setFill(color);
    this.ops.push(`${num(x)} ${num(this.pageHeight - top - h)} ${num(w)} ${num(h)} re f`);
  }

  /** A straight stroke; `dash` = [on, off] lengths for a dotted or dashed line. */
  line(x1: number, y1: number, x2: number, y2: number, color: Rgb, width: number, dash?: readonly [number, number]): void {
    this.endText();
    const s = rgb(color);
    if (s !== this.stroke) {
      this.ops.push(`${s} RG`);
      this.stroke = s;
    }
    if (width !== this.lineWidth) {
      this.ops.push(`${num(width)} w`);
      this.lineWidth = width;
    }
    const path = `${num(x1)} ${num(this.pageHeight - y1)} m ${num(x2)} ${num(this.pageHeight - y2)} l S`;
    this.ops.push(dash ? `[${num(dash[0])} ${num(dash[1])}] 0 d ${path} [] 0 d` : path);
  }

  /** Draws a form XObject named in the page's resources. */
  drawForm(name: string): void {
    this.endText();
    this.ops.push(`/${name} Do`);
  }

  isEmpty(): boolean {
    return this.ops.length === 0;
  }

  /** The content stream (latin1: text operands are binary), in q/Q so a later stream on the page starts from the default state. */
  finish(): string {
    this.endText();
    return `q\n${this.ops.join('\n')}\nQ\n`;
  }
}
