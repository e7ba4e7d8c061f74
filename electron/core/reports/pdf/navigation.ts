// Navigation for a long report: the bookmark outline (sections, with each
// record under "Records") and the clickable lines of the table of contents.
import { PDFArray, PDFHexString, PDFName, PDFNull, PDFNumber, type PDFDocument, type PDFPage, type PDFRef } from 'pdf-lib';
import { type LinkArea, PAGE } from './layout.ts';

export interface OutlineItem {
  title: string;
  page: number;
  /** Points from the top of the page; the top of the page when absent. */
  top?: number;
  children?: OutlineItem[];
}

function destination(doc: PDFDocument, pageRefs: PDFRef[], page: number, top = 0): PDFArray {
  const ref = pageRefs[page];
  if (!ref) throw new Error(`internal: no page ${page} for a link`);
  const y = PAGE.height - Math.max(0, top - 12);
  return doc.context.obj([ref, PDFName.of('XYZ'), PDFNull, PDFNumber.of(Math.round(y)), PDFNull]);
}

/** Writes items as the document outline; the children of an item start closed. */
export function addOutline(doc: PDFDocument, pageRefs: PDFRef[], items: OutlineItem[]): void {
  if (items.length === 0) return;
  const ctx = doc.context;
  const rootRef = ctx.nextRef();

  const writeLevel = (level: OutlineItem[], parent: PDFRef): { first: PDFRef; last: PDFRef } => {
    const refs = level.map(() => ctx.nextRef());
    level.forEach((item, i) => {
      const dict = ctx.obj({
        Title: PDFHexString.fromText(item.title),
        Parent: parent,
        Dest: destination(doc, pageRefs, item.page, item.top),
      });
      const prev = refs[i - 1];
      const next = refs[i + 1];
      if (prev) dict.set(PDFName.of('Prev'), prev);
      if (next) dict.set(PDFName.of('Next'), next);
      const self = refs[i] as PDFRef;
      if (item.children && item.children.length > 0) {
        const { first, last } = writeLevel(item.children, self);
        dict.set(PDFName.of('First'), first);
        dict.set(PDFName.of('Last'), last);
        dict.set(PDFName.of('Count'), PDFNumber.of(-item.children.length));
      }
      ctx.assign(self, dict);
    });
    return { first: refs[0] as PDFRef, last: refs[refs.length - 1] as PDFRef };
  };

  const { first, last } = writeLevel(items, rootRef);
  ctx.assign(rootRef, ctx.obj({ Type: 'Outlines', First: first, Last: last, Count: items.length }));
  doc.catalog.set(PDFName.of('Outlines'), rootRef);
  doc.catalog.set(PDFName.of('PageMode'), PDFName.of('UseOutlines'));
}

/** Link annotations (no border) for the given areas of one page. */
export function addLinks(doc: PDFDocument, pageRefs: PDFRef[], page: PDFPage, links: LinkArea[]): void {
  if (links.length === 0) return;
  const ctx = doc.context;
  const annots = links.map((l) =>
    ctx.register(
      ctx.obj({
        Type: 'Annot',
        Subtype: 'Link',
        Rect: [l.x, PAGE.height - l.top - l.h, l.x + l.w, PAGE.height - l.top].map((n) => Math.round(n * 100) / 100),
        Border: [0, 0, 0],
        Dest: destination(doc, pageRefs, l.targetPage, 0),
      }),
    ),
  );
  page.node.set(PDFName.of('Annots'), ctx.obj(annots));
}
