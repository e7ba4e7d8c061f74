import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint, createSelfSignedIdentity, loadPkcs12, NOT_BEFORE_CLOCK_SKEW_MS, type SigningIdentity } from './certificate.ts';
import { renderReportPdf } from './render.ts';
import { sampleDocument } from './sample-document.test-helper.ts';
import { renderSignedReportPdf, signPdf } from './sign.ts';
import { readEmbeddedEntries, verifyPdfSignature } from './verify.ts';

// Real poppler: pdfsig exits 0 even when a signature does not match, so its output is what counts.
const dir = mkdtempSync(path.join(tmpdir(), 'custody-sign-'));
const pdfsig = (bytes: Uint8Array, name: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return execFileSync('pdfsig', [file], { encoding: 'utf8' });
};

const doc = sampleDocument({ records: 3, entries: 300, days: 10 });
let identity: SigningIdentity;
let unsigned: Uint8Array;
let signed: Uint8Array;
const signingTime = new Date('2026-11-23T09:16:00Z');
// Issued on an injected clock shortly before signingTime: a certificate made "now" on the
// wall clock would not be valid at a fixed signing time in the past.
const issuedAt = () => new Date('2026-11-23T09:10:00Z');

beforeAll(async () => {
  const created = createSelfSignedIdentity('Custody vault Harbour district inquiry', 'Office of the Inspector', issuedAt);
  identity = loadPkcs12(created.p12, created.passphrase);
  unsigned = await renderReportPdf(doc);
  signed = await signPdf(unsigned, identity, {
    reason: 'Chain-of-custody report',
    name: 'Astrid Lindqvist',
    location: 'Harbour field office',
    signingTime,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Flips one byte in the middle of a compressed stream, inside the first signed range. */
function flipSignedByte(pdf: Uint8Array): Uint8Array {
  const copy = Buffer.from(pdf);
  const at = copy.indexOf('>>\nstream\n', Math.floor(copy.length / 4)) + 50;
  const [, contentsStart] = /\/ByteRange \[\s*0 (\d+)/.exec(copy.toString('latin1'))?.slice(0, 2).map(Number) ?? [];
  expect(at).toBeGreaterThan(40);
  expect(at).toBeLessThan(contentsStart ?? 0);
  copy[at] = (copy[at] as number) ^ 0x5a;
  return copy;
}

describe('signPdf', () => {
  it('produces a PAdES signature that poppler verifies over the whole document', () => {
    const out = pdfsig(signed, 'signed.pdf');
    expect(out).toContain('Signature is Valid.');
    expect(out).toContain('Total document signed');
    expect(out).toContain('Signature Type: ETSI.CAdES.detached');
    expect(out).toContain('Signing Hash Algorithm: SHA-256');
    expect(out).toContain('Signer Certificate Common Name: Custody vault Harbour district inquiry');
  });

  it('carries a CMS that OpenSSL verifies over the signed byte ranges, with the PAdES attributes', () => {
    const file = Buffer.from(signed);
    const [a, b, c, d] = (/\/ByteRange \[\s*(\d+) (\d+) (\d+) (\d+)\s*\]/.exec(file.toString('latin1')) ?? []).slice(1).map(Number) as [number, number, number, number];
    writeFileSync(path.join(dir, 'ranges.bin'), Buffer.concat([file.subarray(a, a + b), file.subarray(c, c + d)]));
    writeFileSync(path.join(dir, 'cms.der'), Buffer.from(file.subarray(b + 1, c - 1).toString('latin1'), 'hex'));
    const cms = ['cms', '-inform', 'DER', '-in', path.join(dir, 'cms.der')];
    const verified = execFileSync('openssl', [...cms, '-verify', '-binary', '-noverify', '-content', path.join(dir, 'ranges.bin'), '-out', '/dev/null'], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    expect(verified).toBe('');
    const printed = execFileSync('openssl', [...cms, '-cmsout', '-print'], { encoding: 'utf8', stdio: 'pipe' });
    expect(printed).toContain('id-smime-aa-signingCertificateV2');
    expect(printed).not.toContain('signingTime'); // PAdES baseline: the time is /M
  });

  it('is verified in TypeScript, with signer, fingerprint and signing time', () => {
    const result = verifyPdfSignature(signed);
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.coversWholeFile).toBe(true);
    expect(result.subFilter).toBe('ETSI.CAdES.detached');
    expect(result.signer.subject).toBe('CN=Custody vault Harbour district inquiry, O=Office of the Inspector');
    expect(result.signer.certificateSha256).toBe(certificateFingerprint(identity.certificate));
    expect(result.signingTime).toBe(signingTime.toISOString());
  });

  it('detects one changed byte: poppler reports a digest mismatch, verify names the digest', () => {
    const tampered = flipSignedByte(signed);
    const out = pdfsig(tampered, 'tampered.pdf');
    expect(out).toContain('Digest Mismatch');
    expect(out).not.toContain('Signature is Valid.');
    const result = verifyPdfSignature(tampered);
    expect(result.valid).toBe(false);
    expect(result.coversWholeFile).toBe(true);
    expect(result.problems.some((p) => p.startsWith('message digest mismatch'))).toBe(true);
  });

  it('detects bytes appended after signing', () => {
    const appended = Buffer.concat([Buffer.from(signed), Buffer.from('\n% appended after signing\n')]);
    expect(pdfsig(appended, 'appended.pdf')).toContain('Not total document signed');
    const result = verifyPdfSignature(appended);
    expect(result.coversWholeFile).toBe(false);
    expect(result.valid).toBe(true); // the signed bytes themselves are untouched
    expect(result.problems).toEqual([expect.stringContaining('26 bytes after the signed range are not covered')]);
  });

  it('detects a replaced signature value', () => {
    const copy = Buffer.from(signed);
    const text = copy.toString('latin1');
    // The RSA signature is the last non-zero octets of /Contents: change one hex digit of it.
    const contentsEnd = text.indexOf('>', text.indexOf('/Contents <'));
    const lastSig = text.slice(0, contentsEnd).replace(/0+$/, '').length - 3;
    copy[lastSig] = copy[lastSig] === 0x61 ? 0x62 : 0x61;
    const result = verifyPdfSignature(copy);
    expect(result.valid).toBe(false);
    expect(result.problems).toContain('the signature does not verify with the signer\u2019s certificate');
  });

  it('reports an unsigned PDF', async () => {
    const result = verifyPdfSignature(unsigned);
    expect(result).toMatchObject({ valid: false, coversWholeFile: false });
    expect(result.problems).toEqual(['the PDF has no signature (no /ByteRange found)']);
  });

  it('refuses to sign twice, and with an expired certificate', async () => {
    await expect(signPdf(signed, identity, { reason: 'again', name: 'x' })).rejects.toThrow('already signed');
    await expect(signPdf(unsigned, identity, { reason: 'r', name: 'n', signingTime: new Date('2040-01-01') })).rejects.toThrow(/expired/);
  });

  it('refuses an expired certificate to the millisecond (no clock skew for expiry)', async () => {
    const justAfter = new Date(Date.parse(identity.certificate.validTo) + 1);
    await expect(signPdf(unsigned, identity, { reason: 'r', name: 'n', signingTime: justAfter })).rejects.toThrow(/expired on/);
  });

  it('keeps entries.json readable after signing', async () => {
    expect(await readEmbeddedEntries(signed)).toEqual(doc.entries.map((e) => ({ seq: e.seq, leafHash: e.leafHash })));
  });

  it('renders and signs in one pass (renderSignedReportPdf) with the same pages', async () => {
    const pdf = await renderSignedReportPdf(doc, identity, { reason: 'Chain-of-custody report', name: 'Astrid Lindqvist', signingTime });
    const out = pdfsig(pdf, 'one-pass.pdf');
    expect(out).toContain('Signature is Valid.');
    expect(out).toContain('Total document signed');
    expect(verifyPdfSignature(pdf).problems).toEqual([]);
    const pages = (bytes: Uint8Array, name: string) => {
      writeFileSync(path.join(dir, name), bytes);
      return execFileSync('pdfinfo', [path.join(dir, name)], { encoding: 'utf8' }).match(/Pages:\s+(\d+)/)?.[1];
    };
    expect(pages(pdf, 'one-pass-info.pdf')).toBe(pages(unsigned, 'unsigned-info.pdf'));
  });

  it('signs with an organisation\u2019s ECDSA P-256 PKCS#12 made by OpenSSL', async () => {
    const key = path.join(dir, 'ec.key');
    const cert = path.join(dir, 'ec.crt');
    const p12 = path.join(dir, 'ec.p12');
    const quiet = { stdio: 'pipe' } as const;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/O=Example Org/CN=Example Signer'], quiet);
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', p12, '-passout', 'pass:correct horse'], quiet);
    const ec = loadPkcs12(readFileSync(p12), 'correct horse');
    expect(ec.keyType).toBe('ec');
    const pdf = await signPdf(unsigned, ec, { reason: 'Chain-of-custody report', name: 'Example Signer' });
    const out = pdfsig(pdf, 'ec.pdf');
    expect(out).toContain('Signature is Valid.');
    expect(out).toContain('Total document signed');
    expect(out).toContain('Signing Hash Algorithm: SHA-256');
    const result = verifyPdfSignature(pdf);
    expect(result.problems).toEqual([]);
    expect(result.signer.subject).toBe('CN=Example Signer, O=Example Org');
  });
});

describe('certificate start and the signing time (clock skew)', () => {
  // A certificate whose notBefore is the second after the signing time: the signature was made
  // 0.9 s before the certificate's first whole second (what failed on a loaded machine).
  const notBefore = Date.parse('2026-11-23T09:16:01Z');
  let fresh: SigningIdentity;
  beforeAll(() => {
    const created = createSelfSignedIdentity('Custody vault skew', undefined, () => new Date(notBefore + 60_000)); // back-dated 60 s
    fresh = loadPkcs12(created.p12, created.passphrase);
    expect(Date.parse(fresh.certificate.validFrom)).toBe(notBefore);
  });

  it('signs 0.9 s before notBefore, and the signature verifies (pdfsig and verifyPdfSignature)', async () => {
    const at = new Date(notBefore - 900);
    const pdf = await signPdf(unsigned, fresh, { reason: 'r', name: 'n', signingTime: at });
    expect(pdfsig(pdf, 'skew.pdf')).toContain('Signature is Valid.');
    const result = verifyPdfSignature(pdf);
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('accepts up to the documented skew, and refuses a certificate that starts later than that', async () => {
    await expect(signPdf(unsigned, fresh, { reason: 'r', name: 'n', signingTime: new Date(notBefore - NOT_BEFORE_CLOCK_SKEW_MS) })).resolves.toBeInstanceOf(Uint8Array);
    await expect(signPdf(unsigned, fresh, { reason: 'r', name: 'n', signingTime: new Date(notBefore - NOT_BEFORE_CLOCK_SKEW_MS - 1000) })).rejects.toThrow(
      /is not valid before/,
    );
  });
});
