import { test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { renderReportPdf } from './render.ts';
import { sampleDocument } from './sample-document.test-helper.ts';
test('try', async () => {
  const doc = sampleDocument({ records: 3, entries: 300, days: 10 });
  const t = performance.now();
  const pdf = await renderReportPdf(doc);
  console.log('render ms', performance.now() - t, pdf.length);
  writeFileSync('/tmp/rp/sample.pdf', pdf);
});
