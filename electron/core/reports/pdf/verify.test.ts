import { describe, expect, it } from 'vitest';
import { parsePdfDate, verifyPdfSignature } from './verify.ts';

/** A minimal file whose signature dictionary holds `contents` as its /Contents value. */
function fakeSigned(contents: string): Buffer {
  const head = '%PDF-1.7\n1 0 obj\n<< /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [0 AAAAAAAAAA BBBBBBBBBB CCCCCCCCCC] /Contents ';
  const tail = ' /M (D:20261123091500Z) >>\nendobj\n%%EOF\n';
  const b = head.length;
  const c = b + contents.length;
  const total = c + tail.length;
  const pad = (n: number) => String(n).padEnd(10, ' ');
  return Buffer.from(head.replace('AAAAAAAAAA', pad(b)).replace('BBBBBBBBBB', pad(c)).replace('CCCCCCCCCC', pad(total - c)) + contents + tail, 'latin1');
}

describe('verifyPdfSignature on damaged signatures', () => {
  it('says what is wrong instead of throwing', () => {
    const notHex = verifyPdfSignature(fakeSigned('<zz>'));
    expect(notHex).toMatchObject({ valid: false, coversWholeFile: true, subFilter: 'ETSI.CAdES.detached', signingTime: '2026-11-23T09:15:00.000Z' });
    expect(notHex.problems).toEqual(['the signature value (/Contents) is not a hex string']);
    expect(verifyPdfSignature(fakeSigned('<3003020101>')).problems).toEqual(['the signature value is not a CMS SignedData structure']);
    expect(verifyPdfSignature(fakeSigned(`<${'00'.repeat(64)}>`)).problems).toEqual(['the signature value is not a CMS SignedData structure']);
  });
});

describe('parsePdfDate', () => {
  it('reads PDF dates with and without offsets', () => {
    expect(parsePdfDate('D:20261123091500Z')).toBe('2026-11-23T09:15:00.000Z');
    expect(parsePdfDate("D:20261123101500+01'00'")).toBe('2026-11-23T09:15:00.000Z');
    expect(parsePdfDate("D:20261123041500-05'00")).toBe('2026-11-23T09:15:00.000Z');
    expect(parsePdfDate('D:2026')).toBe('2026-01-01T00:00:00.000Z');
    expect(parsePdfDate('yesterday')).toBeUndefined();
  });
});
