// Page streams deflated on the helper thread: each page gets exactly the bytes an in-line
// deflate gives (so the PDF is the same file), to the page it was drawn for, however the
// batches fall; a short document never starts the thread.
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { PAGE_DEFLATE_LEVEL, PageDeflater } from './pageDeflater.ts';

/** A page's operators: text with binary glyph codes (latin1), of varying length. */
const page = (i: number) => `q\nBT /F1 7.2 Tf 54 ${i % 700}.5 Td (${String.fromCharCode(...Array.from({ length: 40 + (i % 300) }, (_, k) => (i * 31 + k * 7) % 256))}) Tj ET\n`.repeat(1 + (i % 40)) + 'Q\n';

describe('PageDeflater', () => {
  test('2,000 pages over the thread: each the same bytes as deflateSync, to its own page', async () => {
    const d = new PageDeflater();
    const got: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) d.add(page(i), (bytes) => (got[i] = bytes));
    await d.settled();
    expect(got.filter(Boolean)).toHaveLength(2000);
    for (let i = 0; i < 2000; i += 37) {
      expect(Buffer.from(got[i]!).equals(deflateSync(Buffer.from(page(i), 'latin1'), { level: PAGE_DEFLATE_LEVEL }))).toBe(true);
      expect(inflateSync(got[i]!).toString('latin1')).toBe(page(i));
    }
  });

  test('a few pages are deflated in line, before add() returns', async () => {
    const d = new PageDeflater();
    let got: Uint8Array | undefined;
    d.add(page(3), (bytes) => (got = bytes));
    expect(inflateSync(got!).toString('latin1')).toBe(page(3));
    await d.settled();
  });

  test('dispose() ends the thread of a render that failed, and settled() on nothing is immediate', async () => {
    const d = new PageDeflater();
    for (let i = 0; i < 500; i++) d.add(page(i), () => undefined);
    d.dispose();
    await new PageDeflater().settled();
  });
});
