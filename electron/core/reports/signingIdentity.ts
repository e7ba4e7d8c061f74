// The per-vault identity that signs report PDFs: a self-signed RSA-3072 certificate made at
// the first report, or an organisation's PKCS#12 imported by the analyst. Kept in the key
// registry, wrapped by the vault key like every other secret.
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { target } from '../audit/entry.ts';
import { uuidv7 } from '../util/ids.ts';
import type { Vault } from '../vault/vault.ts';
import { certificateFingerprint, createSelfSignedIdentity, loadPkcs12, rsaKeyPair, subjectName, type RsaKeyPair, type SigningIdentity } from './pdf/certificate.ts';

const Stored = z.object({ p12: z.string(), passphrase: z.string() });
const keyAd = (vaultId: string, id: string) => ad('key', vaultId, id);

/**
 * When the vault has no signing identity yet, starts making the key pair of the one its first
 * report will create (on the thread pool, while the export does its other work); pass the
 * result to pdfSigningIdentity. Undefined when the vault has one.
 */
export async function startSigningKeys(vault: Vault): Promise<PendingKeys | undefined> {
  if (await activeRow(vault)) return undefined;
  // In an object: an async function returning the promise itself would wait for it.
  const pending = { keys: rsaKeyPair() };
  // Awaited by pdfSigningIdentity; an export that fails before then leaves no unhandled rejection.
  pending.keys.catch(() => undefined);
  return pending;
}

export interface PendingKeys {
  keys: Promise<RsaKeyPair>;
}

const activeRow = (vault: Vault) => vault.db.prisma.keyEntry.findFirst({ where: { kind: 'pdf_signing', status: 'active' } });

export async function pdfSigningIdentity(vault: Vault, pending?: PendingKeys): Promise<SigningIdentity> {
  const vk = vault.keys().vaultKey;
  const row = await activeRow(vault);
  if (row?.wrapped) {
    const s = Stored.parse(JSON.parse(open(vk, row.wrapped, keyAd(vault.vaultId, row.id), 'the report signing key').toString('utf8')));
    const identity = loadPkcs12(Buffer.from(s.p12, 'base64'), s.passphrase);
    await refuseExpired(vault, row.id, identity, row.expiresAt === null);
    return identity;
  }
  const made = createSelfSignedIdentity(`Custody vault ${vault.vaultId.slice(0, 8)}`, vault.meta.actor, undefined, pending ? await pending.keys : undefined);
  await store(vault, made.p12, made.passphrase, 'created');
  return loadPkcs12(made.p12, made.passphrase);
}

/**
 * An expired certificate is refused for signing, with how to replace it; the first refusal is
 * an audit entry (key.expired). A row stored before expiry was recorded gets its notAfter.
 */
async function refuseExpired(vault: Vault, id: string, identity: SigningIdentity, backfill: boolean): Promise<void> {
  const notAfter = new Date(identity.certificate.validTo);
  if (backfill) await vault.db.writeSync(() => vault.db.sql.prepare('UPDATE key_registry SET expires_at = ? WHERE id = ?').run(notAfter.getTime(), id));
  if (notAfter.getTime() > Date.now()) return;
  if (!vault.audit.hasEntry('key.expired', { target: target.key(id) })) await vault.record({ event: 'key.expired', target: target.key(id), success: false, details: { kind: 'pdf_signing', expiredAt: notAfter.toISOString() } });
  throw new CustodyError(
    'BAD_REQUEST',
    `the report signing certificate (${subjectName(identity.certificate)}) expired on ${notAfter.toISOString().slice(0, 10)}: no report can be signed with it. ` +
      `Replace it with your organisation's certificate ("custody cert import FILE.p12") or with a new self-signed one ("custody keys rotate report-cert").`,
  );
}

/** A new self-signed report signing identity; the previous one is retired (kept for old reports). */
export async function renewSelfSignedIdentity(vault: Vault): Promise<{ subject: string; certificateSha256: string; expiresAt: string }> {
  vault.keys();
  const made = createSelfSignedIdentity(`Custody vault ${vault.vaultId.slice(0, 8)}`, vault.meta.actor, undefined, await rsaKeyPair());
  await store(vault, made.p12, made.passphrase, 'created');
  const identity = loadPkcs12(made.p12, made.passphrase);
  return { subject: subjectName(identity.certificate), certificateSha256: certificateFingerprint(identity.certificate), expiresAt: new Date(identity.certificate.validTo).toISOString() };
}

/** Imports an organisation's PKCS#12; the previous identity is retired (kept for old reports). */
export async function importPdfSigningIdentity(vault: Vault, p12: Uint8Array, passphrase: string): Promise<{ subject: string; certificateSha256: string }> {
  vault.keys();
  let identity: SigningIdentity;
  try {
    identity = loadPkcs12(p12, passphrase);
  } catch (e) {
    throw new CustodyError('BAD_REQUEST', `cannot use that PKCS#12 file: ${(e as Error).message}`);
  }
  if (Date.parse(identity.certificate.validTo) <= Date.now()) throw new CustodyError('BAD_REQUEST', `cannot use that PKCS#12 file: its certificate expired on ${identity.certificate.validTo}`);
  await store(vault, Buffer.from(p12), passphrase, 'imported');
  return { subject: subjectName(identity.certificate), certificateSha256: certificateFingerprint(identity.certificate) };
}

async function store(vault: Vault, p12: Buffer, passphrase: string, how: 'created' | 'imported'): Promise<void> {
  const identity = loadPkcs12(p12, passphrase);
  const id = uuidv7();
  const now = new Date();
  const wrapped = seal(vault.keys().vaultKey, Buffer.from(JSON.stringify({ p12: p12.toString('base64'), passphrase })), keyAd(vault.vaultId, id));
  await vault.db.write(async (tx) => {
    const old = await tx.keyEntry.findMany({ where: { kind: 'pdf_signing', status: 'active' } });
    await tx.keyEntry.updateMany({ where: { kind: 'pdf_signing', status: 'active' }, data: { status: 'retired', rotatedAt: now } });
    await tx.keyEntry.create({
      data: { id, kind: 'pdf_signing', algorithm: identity.keyType === 'rsa' ? 'RSA-3072/SHA-256 CMS' : 'ECDSA/SHA-256 CMS', status: 'active', createdAt: now, expiresAt: new Date(identity.certificate.validTo), fingerprint: certificateFingerprint(identity.certificate), publicKey: Buffer.from(identity.certificate.raw) as Buffer<ArrayBuffer>, wrapped },
    });
    vault.audit.appendSync(vault.meta, [
      { event: old.length ? 'key.rotated' : 'key.created', target: target.key(id), details: { kind: 'pdf_signing', how, subject: subjectName(identity.certificate), ...(old[0] ? { replaces: old[0].id } : {}) } },
    ]);
  });
}
