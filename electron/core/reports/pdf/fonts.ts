// The report's typefaces: DejaVu Sans and Sans Mono (resources/fonts, licence
// beside them), embedded as subsets. EmbeddedFont caches each character's
// advance width and glyph code, so laying out 100,000 table rows costs array
// look-ups instead of a fontkit layout per cell.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fontkit from '@pdf-lib/fontkit';
import type { PDFDocument, PDFFont } from 'pdf-lib';

export const FONT_FILES = {
  sans: 'DejaVuSans.ttf',
  sansBold: 'DejaVuSans-Bold.ttf',
  mono: 'DejaVuSansMono.ttf',
  monoBold: 'DejaVuSansMono-Bold.ttf',
} as const;
export type FontKey = keyof typeof FONT_FILES;
export type FontSet = Record<FontKey, EmbeddedFont>;

// Fixed subset tags keep the output deterministic (pdf-lib would add a random suffix).
const SUBSET_NAMES: Record<FontKey, string> = {
  sans: 'CSTDYA+DejaVuSans',
  sansBold: 'CSTDYB+DejaVuSans-Bold',
  mono: 'CSTDYC+DejaVuSansMono',
  monoBold: 'CSTDYD+DejaVuSansMono-Bold',
};

const fontBytesCache = new Map<string, Promise<Record<FontKey, Uint8Array>>>();

/** Where the fonts are: the caller's directory, else resources/fonts of the source tree or the working directory. */
export function resolveFontsDir(fontsDir?: string): string {
  const candidates = fontsDir
    ? [fontsDir]
    : [fileURLToPath(new URL('../../../../resources/fonts/', import.meta.url)), path.resolve(process.cwd(), 'resources/fonts')];
  for (const dir of candidates) {
    if (existsSync(path.join(dir, FONT_FILES.sans))) return dir;
  }
  throw new Error(`report fonts not found (looked for ${FONT_FILES.sans} in ${candidates.join(', ')})`);
}

function loadFontBytes(dir: string): Promise<Record<FontKey, Uint8Array>> {
  let pending = fontBytesCache.get(dir);
  if (!pending) {
    pending = (async () => {
      const entries = await Promise.all(
        (Object.keys(FONT_FILES) as FontKey[]).map(async (k) => [k, new Uint8Array(await readFile(path.join(dir, FONT_FILES[k])))] as const),
      );
      return Object.fromEntries(entries) as Record<FontKey, Uint8Array>;
    })();
    pending.catch(() => fontBytesCache.delete(dir));
    fontBytesCache.set(dir, pending);
  }
  return pending;
}

export async function embedFonts(doc: PDFDocument, fontsDir?: string): Promise<FontSet> {
  const bytes = await loadFontBytes(resolveFontsDir(fontsDir));
  doc.registerFontkit(fontkit);
  const keys = Object.keys(FONT_FILES) as FontKey[];
  const fonts = await Promise.all(
    // Ligatures off: each character maps to one glyph, which the caches rely on
    // and which keeps copied text (hashes, ids) exact.
    keys.map((k) => doc.embedFont(bytes[k], { subset: true, customName: SUBSET_NAMES[k], features: { liga: false } })),
  );
  return Object.fromEntries(keys.map((k, i) => [k, new EmbeddedFont(fonts[i] as PDFFont, `F${i + 1}`)])) as FontSet;
}

// Bytes a PDF literal string cannot hold raw: 1 = escape as is, 2 = \n, 3 = \r.
const ESCAPE = new Uint8Array(256);
ESCAPE[0x28] = ESCAPE[0x29] = ESCAPE[0x5c] = 1;
ESCAPE[0x0a] = 2;
ESCAPE[0x0d] = 3;

/** Writes one byte of a literal string at n, escaped if need be; returns the next position. */
function putByte(buf: Buffer, n: number, b: number): number {
  const e = ESCAPE[b];
  if (e === 0) {
    buf[n] = b;
    return n + 1;
  }
  buf[n] = 0x5c;
  buf[n + 1] = e === 1 ? b : e === 2 ? 0x6e : 0x72;
  return n + 2;
}

export class EmbeddedFont {
  // Per-1pt advance widths and subset glyph ids of the Basic Multilingual
  // Plane, filled on first use; astral characters go through the map.
  private readonly bmpWidth = new Float64Array(0x10000).fill(-1);
  private readonly bmpGlyph = new Int32Array(0x10000);
  private readonly astral = new Map<number, { width: number; glyph: number }>();
  // Glyph codes are assembled here and read out as one latin1 string per text:
  // far less garbage than concatenating a string per character.
  private scratch = Buffer.allocUnsafe(1024);

  constructor(
    readonly pdfFont: PDFFont,
    /** Resource name in the pages' font dictionary. */
    readonly resourceName: string,
  ) {}

  private learn(cp: number): { width: number; glyph: number } {
    // Control characters and lone surrogates have no glyph: they draw as a space.
    const invisible = cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff);
    const ch = invisible ? ' ' : String.fromCodePoint(cp);
    const width = this.pdfFont.widthOfTextAtSize(ch, 1);
    // Encoding through pdf-lib adds the glyph to the subset; its 4-digit hex code is the subset glyph id.
    const hex = this.pdfFont.encodeText(ch).asString();
    const glyph = hex.length >= 4 ? parseInt(hex.slice(0, 4), 16) : 0;
    if (cp < 0x10000) {
      this.bmpWidth[cp] = width;
      this.bmpGlyph[cp] = glyph;
    } else {
      this.astral.set(cp, { width, glyph });
    }
    return { width, glyph };
  }

  /** Advance width of one code point at 1 pt. */
  charWidth(cp: number): number {
    if (cp < 0x10000) {
      const w = this.bmpWidth[cp] as number;
      return w >= 0 ? w : this.learn(cp).width;
    }
    return (this.astral.get(cp) ?? this.learn(cp)).width;
  }

  width(text: string, size: number): number {
    let w = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0xd800 || c > 0xdfff) {
        const cached = this.bmpWidth[c] as number;
        w += cached >= 0 ? cached : this.learn(c).width;
      } else {
        const cp = text.codePointAt(i) ?? c;
        w += this.charWidth(cp);
        if (cp > 0xffff) i++;
      }
    }
    return w * size;
  }

  /** Width (at 1 pt) of the text last passed to encodeIfFits. */
  measured = 0;

  /**
   * One pass for the common case of table cells: the encoded text when it
   * fits in maxWidth at this size (its width left in `measured`), else
   * undefined. Newlines never fit: they need wrap().
   */
  encodeIfFits(text: string, size: number, maxWidth: number): string | undefined {
    return this.encodeWithin(text, maxWidth / size);
  }

  /** The body of a PDF literal string drawing `text` (Identity-H: two bytes per glyph). */
  encode(text: string): string {
    return this.encodeWithin(text, Number.POSITIVE_INFINITY) ?? '';
  }

  private encodeWithin(text: string, limit: number): string | undefined {
    if (this.scratch.length < text.length * 4) this.scratch = Buffer.allocUnsafe(text.length * 4);
    const buf = this.scratch;
    let w = 0;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let glyph: number;
      if (c < 0xd800 || c > 0xdfff) {
        if (c === 0x0a && limit !== Number.POSITIVE_INFINITY) return undefined;
        let cw = this.bmpWidth[c] as number;
        if (cw < 0) cw = this.learn(c).width;
        w += cw;
        glyph = this.bmpGlyph[c] as number;
      } else {
        const cp = text.codePointAt(i) ?? c;
        const known = this.astral.get(cp) ?? this.learn(cp);
        w += known.width;
        glyph = known.glyph;
        if (cp > 0xffff) i++;
      }
      if (w > limit) return undefined;
      n = putByte(buf, putByte(buf, n, glyph >> 8), glyph & 0xff);
    }
    this.measured = w;
    return buf.toString('latin1', 0, n);
  }
}
