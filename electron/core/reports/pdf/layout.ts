// Page flow for the report: a cursor that moves down the content area, breaks
// to a new page when a block does not fit, and writes each finished page's
// content stream at once, deflated on a helper thread (pageDeflater.ts) while
// this one lays out the next pages. Headers, footers and the table of
// contents are added at the end, when the page count is known.
import { PDFName, PDFPage, type PDFDocument, type PDFRef } from 'pdf-lib';
import { PageCanvas, type Rgb } from './canvas.ts';
import type { EmbeddedFont, FontSet } from './fonts.ts';
import { PageDeflater } from './pageDeflater.ts';
import { wrap } from './text.ts';

export const PAGE = {
  width: 595.28, // A4
  height: 841.89,
  marginX: 54,
  contentTop: 78,
  contentBottom: 841.89 - 62,
} as const;
export const CONTENT_WIDTH = PAGE.width - 2 * PAGE.marginX;

// Muted palette: slate text, one steel-blue accent, soft fills.
export const THEME = {
  ink: [0.13, 0.16, 0.2],
  text: [0.22, 0.25, 0.3],
  muted: [0.42, 0.46, 0.52],
  faint: [0.62, 0.65, 0.7],
  rule: [0.82, 0.84, 0.87],
  accent: [0.2, 0.36, 0.52],
  accentSoft: [0.91, 0.94, 0.97],
  headerFill: [0.92, 0.93, 0.95],
  zebra: [0.965, 0.97, 0.978],
  codeFill: [0.955, 0.96, 0.968],
  ok: [0.23, 0.47, 0.32],
  fail: [0.64, 0.21, 0.21],
} as const satisfies Record<string, Rgb>;

export interface LinkArea {
  x: number;
  top: number;
  w: number;
  h: number;
  targetPage: number;
}

interface PageState {
  page: PDFPage;
  contents: PDFRef[];
  links: LinkArea[];
}

export class Layout {
  readonly pages: PageState[] = [];
  private canvasPage = -1;
  private canvasNow: PageCanvas | undefined;
  private readonly deflater = new PageDeflater();
  /** Cursor: top of the next block, in points from the top of the page. */
  y: number = PAGE.contentTop;

  constructor(
    readonly doc: PDFDocument,
    readonly fonts: FontSet,
    private readonly resources: PDFRef,
  ) {}

  get pageIndex(): number {
    return this.canvasPage;
  }

  get canvas(): PageCanvas {
    if (!this.canvasNow) throw new Error('internal: no page is open for drawing');
    return this.canvasNow;
  }

  /**
   * Adds an empty page to the end of the document (drawn later, or never).
   * Appended to the page tree directly: PDFDocument.addPage walks every
   * earlier page, which is quadratic over thousands of pages. pdf-lib's own
   * page count then stays at 0, so the document must be saved with
   * addDefaultPage: false.
   */
  addBlankPage(): number {
    const page = PDFPage.create(this.doc);
    page.setSize(PAGE.width, PAGE.height);
    const treeRef = this.doc.catalog.get(PDFName.of('Pages')) as PDFRef;
    this.doc.catalog.Pages().pushLeafNode(page.ref);
    page.node.setParent(treeRef);
    page.node.set(PDFName.of('Resources'), this.resources);
    this.pages.push({ page, contents: [], links: [] });
    return this.pages.length - 1;
  }

  /** Closes the open page and opens a new one at the end of the document. */
  newPage(): void {
    this.closePage();
    this.openPage(this.addBlankPage());
  }

  /** Opens an existing page for drawing (e.g. a reserved contents page). */
  openPage(index: number): void {
    this.closePage();
    this.canvasPage = index;
    this.canvasNow = new PageCanvas(PAGE.height);
    this.y = PAGE.contentTop;
  }

  closePage(): void {
    if (this.canvasNow && !this.canvasNow.isEmpty()) this.addContent(this.canvasPage, this.canvasNow.finish());
    this.canvasNow = undefined;
    this.canvasPage = -1;
  }

  addContent(pageIndex: number, content: string, opts: { compress: boolean } = { compress: true }): void {
    const state = this.pages[pageIndex];
    if (!state) throw new Error(`internal: no page ${pageIndex}`);
    const ctx = this.doc.context;
    if (!opts.compress) {
      state.contents.push(ctx.register(ctx.stream(Buffer.from(content, 'latin1'))));
      return;
    }
    // The object number is taken now, so the file is the same bytes however the deflating goes.
    const ref = ctx.nextRef();
    state.contents.push(ref);
    this.deflater.add(content, (deflated) => ctx.assign(ref, ctx.stream(deflated, { Filter: 'FlateDecode' })));
  }

  /** Waits until every page stream is deflated and in the document (before it is saved). */
  settled(): Promise<void> {
    return this.deflater.settled();
  }

  /** Ends the deflating thread of a render that failed. */
  dispose(): void {
    this.deflater.dispose();
  }

  addLink(link: LinkArea): void {
    this.pages[this.canvasPage]?.links.push(link);
  }

  /** Starts a new page unless `height` points still fit on this one. */
  ensure(height: number): void {
    if (this.y + height > PAGE.contentBottom) this.newPage();
  }

  /** Wrapped text at the cursor; it may continue on the next page between lines. */
  paragraph(
    text: string,
    opts: { font?: EmbeddedFont; size?: number; color?: Rgb; lineHeight?: number; x?: number; width?: number; after?: number } = {},
  ): void {
    const font = opts.font ?? this.fonts.sans;
    const size = opts.size ?? 9.5;
    const lh = opts.lineHeight ?? size * 1.45;
    const x = opts.x ?? PAGE.marginX;
    const width = opts.width ?? CONTENT_WIDTH;
    for (const line of wrap(text, font, size, width)) {
      this.ensure(lh);
      this.canvas.text(x, this.y + size, line, font, size, opts.color ?? THEME.text);
      this.y += lh;
    }
    this.y += opts.after ?? size * 0.8;
  }
}
