import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateFingerprint, createSelfSignedIdentity, loadPkcs12, rsaKeyPair, subjectName } from './certificate.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'custody-cert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' });

/** A PKCS#12 made by OpenSSL from a fresh key of the given algorithm. */
function opensslP12(name: string, keyArgs: string[], passphrase: string): Buffer {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  const p12 = path.join(dir, `${name}.p12`);
  openssl('req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${name}`);
  openssl('pkcs12', '-export', '-inkey', key, '-in', cert, '-out', p12, '-passout', `pass:${passphrase}`);
  return readFileSync(p12);
}

describe('createSelfSignedIdentity / loadPkcs12', () => {
  const created = createSelfSignedIdentity('Custody vault Ålesund field notes', 'Office of the Inspector');

  it('round-trips through PKCS#12 to an RSA-3072 signing identity', () => {
    const identity = loadPkcs12(created.p12, created.passphrase);
    expect(identity.keyType).toBe('rsa');
    expect(identity.privateKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(identity.certificate.raw.equals(new X509Certificate(created.certificatePem).raw)).toBe(true);
    expect(identity.certificate.checkPrivateKey(identity.privateKey)).toBe(true);
    expect(identity.chain).toEqual([]);
    expect(subjectName(identity.certificate)).toBe('CN=Custody vault Ålesund field notes, O=Office of the Inspector');
  });

  it('issues a five-year certificate for signing, with a positive 128-bit serial', () => {
    const cert = new X509Certificate(created.certificatePem);
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(4.99);
    expect(years).toBeLessThan(5.01);
    expect(cert.ca).toBe(false);
    expect(cert.verify(cert.publicKey)).toBe(true);
    const text = openssl('x509', '-in', writeTemp('cert.pem', created.certificatePem), '-noout', '-text');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('uses a key pair made beforehand on the thread pool, and refuses one that is not RSA-3072', async () => {
    const keys = await rsaKeyPair();
    const made = createSelfSignedIdentity('Custody vault early keys', undefined, undefined, keys);
    const identity = loadPkcs12(made.p12, made.passphrase);
    expect(identity.certificate.publicKey.export({ type: 'spki', format: 'der' }).equals(keys.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(identity.certificate.checkPrivateKey(identity.privateKey)).toBe(true);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => createSelfSignedIdentity('Custody vault weak', undefined, undefined, weak)).toThrow(/RSA-3072/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => createSelfSignedIdentity('Custody vault ec', undefined, undefined, ec)).toThrow(/RSA-3072/);
  });

  it('starts the validity period 60 s before the injected clock (second precision)', () => {
    const cert = new X509Certificate(createSelfSignedIdentity('Custody vault clock', undefined, () => new Date('2026-11-23T09:16:00.700Z')).certificatePem);
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-11-23T09:15:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2031-11-23T09:15:00.000Z');
  });

  it('writes a PKCS#12 that OpenSSL opens with the passphrase', () => {
    const file = writeTemp('vault.p12', created.p12);
    const pem = openssl('pkcs12', '-in', file, '-passin', `pass:${created.passphrase}`, '-nokeys', '-clcerts');
    expect(new X509Certificate(pem.slice(pem.indexOf('-----BEGIN'))).raw.equals(new X509Certificate(created.certificatePem).raw)).toBe(true);
  });

  it('fingerprints the DER certificate with SHA-256', () => {
    const der = new X509Certificate(created.certificatePem).raw;
    const expected = createHash('sha256').update(der).digest('hex');
    expect(certificateFingerprint(created.certificatePem)).toBe(expected);
    expect(certificateFingerprint(der)).toBe(expected);
    const openSslFingerprint = openssl('x509', '-in', writeTemp('fp.pem', created.certificatePem), '-noout', '-fingerprint', '-sha256');
    expect(openSslFingerprint.split('=')[1]?.trim().replace(/:/g, '').toLowerCase()).toBe(expected);
  });

  it('says so when the passphrase is wrong', () => {
    expect(() => loadPkcs12(created.p12, 'not the passphrase')).toThrow('wrong passphrase for the PKCS#12 file');
  });

  it('rejects what is not a PKCS#12', () => {
    expect(() => loadPkcs12(Buffer.from('%PDF-1.7 not a key store'), 'x')).toThrow(/not a PKCS#12 file|cannot read the PKCS#12 file/);
  });

  it('opens an organisation\u2019s ECDSA PKCS#12 made by OpenSSL (AES-256, HMAC-SHA-256)', () => {
    const identity = loadPkcs12(opensslP12('ec-signer', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'pw 1'), 'pw 1');
    expect(identity.keyType).toBe('ec');
    expect(identity.privateKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(subjectName(identity.certificate)).toBe('CN=ec-signer');
    expect(() => loadPkcs12(opensslP12('ec-wrong', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'right'), 'wrong')).toThrow(
      'wrong passphrase',
    );
  });

  it('rejects keys that cannot sign PDFs', () => {
    expect(() => loadPkcs12(opensslP12('ed', ['-newkey', 'ed25519'], 'pw'), 'pw')).toThrow(/is ed25519; PDF signatures need an RSA or ECDSA key/);
    expect(() => loadPkcs12(opensslP12('small', ['-newkey', 'rsa:1024'], 'pw'), 'pw')).toThrow('has 1024 bits; at least 2048 are needed');
  });

  it('rejects a PKCS#12 without a private key', () => {
    const cert = writeTemp('only.crt', created.certificatePem);
    const p12 = path.join(dir, 'only.p12');
    openssl('pkcs12', '-export', '-nokeys', '-in', cert, '-out', p12, '-passout', 'pass:pw');
    expect(() => loadPkcs12(readFileSync(p12), 'pw')).toThrow('the PKCS#12 file holds no private key');
  });
});

function writeTemp(name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}
