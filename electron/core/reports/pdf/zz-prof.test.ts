import { test } from 'vitest';
import { PDFDocument } from 'pdf-lib';
import { embedFonts } from './fonts.ts';
import { renderReportPdf } from './render.ts';
import { sampleDocument } from './sample-document.test-helper.ts';
test('prof', async () => {
  let t = performance.now();
  const pdf = await PDFDocument.create();
  const fonts = await embedFonts(pdf);
  console.log('embed', performance.now() - t); t = performance.now();
  fonts.sans.width('Hello world abc', 10); fonts.sans.encode('Hello');
  console.log('first width', performance.now() - t); t = performance.now();
  await pdf.save();
  console.log('save', performance.now() - t); t = performance.now();
  const doc = sampleDocument({ records: 3, entries: 300, days: 10 });
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    await renderReportPdf(doc);
    console.log('render', performance.now() - t);
  }
});
