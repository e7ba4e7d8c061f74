// Expiry: the report certificate's notAfter is its expires_at; 30 days ahead it is warned
// about; once expired it is refused for signing with how to replace it (audited once as
// key.expired), and "custody keys rotate report-cert" replaces it.
import { afterEach, describe, expect, test } from 'vitest';
import { seal, ad } from '../crypto/aead.ts';
import { createSelfSignedIdentity } from '../reports/pdf/certificate.ts';
import { importPdfSigningIdentity, pdfSigningIdentity, renewSelfSignedIdentity } from '../reports/signingIdentity.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { listKeys } from './registry.ts';
import { expiryWarnings, keyState } from './expiry.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});
const DAY = 86_400_000;
/** A self-signed identity whose 5-year validity started `ago` ms before now. */
const issuedAgo = (ago: number) => createSelfSignedIdentity('Expiry test', 'tester', () => new Date(Date.now() - ago));
const FIVE_YEARS = (5 * 365 + 1) * DAY;

describe('key expiry', () => {
  test('a report certificate expiring within 30 days is listed with its expiry and warned about', async () => {
    tv = await tempVault();
    const p = issuedAgo(FIVE_YEARS - 10 * DAY);
    await importPdfSigningIdentity(tv.custody.vault, p.p12, p.passphrase);
    const cert = (await listKeys(tv.custody.vault)).find((k) => k.kind === 'pdf_signing' && k.status !== 'retired')!;
    expect(cert.status).toBe('active');
    expect(cert.expiresAt).not.toBeNull();
    expect(cert.expiresInDays).toBeGreaterThan(0);
    expect(cert.expiresInDays).toBeLessThanOrEqual(30);
    expect(expiryWarnings([cert]).join('\n')).toMatch(/report signing certificate .* expires in \d+ days? .*custody keys rotate report-cert/);
  });

  test('an expired certificate is refused for signing with how to replace it, audited once; rotate report-cert replaces it', async () => {
    tv = await tempVault();
    const vault = tv.custody.vault;
    // An expired PKCS#12 cannot be imported...
    const old = issuedAgo(FIVE_YEARS + 3 * DAY);
    await expect(importPdfSigningIdentity(vault, old.p12, old.passphrase)).rejects.toThrow(/expired/);
    // ...but a certificate stored while valid expires in place (here: stored as it would have been).
    const id = '01900000-0000-7000-8000-0000000000e1';
    await vault.db.writeSync(() =>
      vault.db.sql
        .prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count, public_key, wrapped) VALUES (?, 'pdf_signing', 'RSA-3072/SHA-256 CMS', 'active', ?, 'f', 0, NULL, ?)")
        .run(id, Date.now() - FIVE_YEARS, seal(vault.keys().vaultKey, Buffer.from(JSON.stringify({ p12: old.p12.toString('base64'), passphrase: old.passphrase })), ad('key', vault.vaultId, id))),
    );
    for (let i = 0; i < 2; i++) await expect(pdfSigningIdentity(vault)).rejects.toThrow(/expired on \d{4}-\d{2}-\d{2}.*custody cert import FILE\.p12.*custody keys rotate report-cert/);
    const listed = (await listKeys(vault)).find((k) => k.id === id)!;
    expect(listed.status).toBe('expired');
    expect(expiryWarnings([listed])[0]).toMatch(/expired on/);
    expect((await tv.custody.auditQuery({ event: 'key.expired' })).length).toBe(1);
    const r = await renewSelfSignedIdentity(vault);
    expect(Date.parse(r.expiresAt)).toBeGreaterThan(Date.now() + 4 * 365 * DAY);
    expect((await pdfSigningIdentity(vault)).certificate).toBeTruthy();
    expect((await listKeys(vault)).find((k) => k.id === id)!.status).toBe('retired');
  });

  test('status: retired and revoked stay; past expires_at is expired; a policy age queues rotation', () => {
    const now = Date.UTC(2026, 11, 3);
    const k = { kind: 'device_signing', status: 'active', createdAt: now - 100 * DAY, rotatedAt: null, expiresAt: null };
    expect(keyState(k, {}, now).status).toBe('active');
    expect(keyState(k, { device_signing: 90 }, now).status).toBe('rotation_queued');
    expect(keyState(k, { device_signing: 120 }, now).status).toBe('active');
    expect(keyState({ ...k, expiresAt: now - 1 }, {}, now).status).toBe('expired');
    expect(keyState({ ...k, status: 'revoked', expiresAt: now - 1 }, {}, now).status).toBe('revoked');
    expect(keyState({ ...k, expiresAt: now + 5 * DAY }, {}, now)).toEqual({ status: 'active', expiresInDays: 5 });
  });
});
