import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadPkcs12 } from './certificate.ts';
import { sampleDocument } from './sample-document.test-helper.ts';
import { renderSignedReportPdf } from './sign.ts';
import { readEmbeddedEntries, verifyPdfSignature } from './verify.ts';

// A twentieth of the 100,000-entry target (which takes seconds, too long for
// the suite): still hundreds of pages, a multi-page contents and every table
// crossing pages. Signed with an OpenSSL-made EC key: RSA key generation would
// only add time here (the RSA path is tested in sign.test.ts).
it('renders and signs 5,000 entries across 50 records', async () => {
  const doc = sampleDocument({ records: 50, entries: 5_000, days: 30, seed: 11 });
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-large-'));
  try {
    const [key, cert, p12] = ['k.pem', 'c.pem', 'id.p12'].map((f) => path.join(dir, f)) as [string, string, string];
    const quiet = { stdio: 'pipe' } as const;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=large'], quiet);
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', p12, '-passout', 'pass:pw'], quiet);
    const pdf = await renderSignedReportPdf(doc, loadPkcs12(readFileSync(p12), 'pw'), { reason: 'test', name: 'test' });

    const file = path.join(dir, 'large.pdf');
    writeFileSync(file, pdf);
    const out = execFileSync('pdfsig', [file], { encoding: 'utf8' });
    expect(out).toContain('Signature is Valid.');
    expect(out).toContain('Total document signed');
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
    expect(pages).toBeGreaterThan(250);
    expect(verifyPdfSignature(pdf)).toMatchObject({ valid: true, coversWholeFile: true, problems: [] });
    const embedded = await readEmbeddedEntries(pdf);
    expect(embedded).toHaveLength(5_000);
    expect(embedded[4_999]).toEqual({ seq: 5_000, leafHash: doc.entries[4_999]?.leafHash });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
