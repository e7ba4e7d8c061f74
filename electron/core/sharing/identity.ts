// Reviewer identities (docs/sharing.md, "Identities"): age post-quantum hybrid identities
// (AGE-SECRET-KEY-PQ-1…, recipient type mlkem768x25519 of c2sp.org/age: X-Wing = ML-KEM-768 +
// X25519 through HPKE), made and used through the `age-encryption` package, so the standard
// `age` tool (v1.3+) opens what Custody writes and the other way round.
//
// A vault has one active identity, kept in the key registry (kind 'age-identity'): its secret
// sealed by the vault key, its recipient as the public key, the recipient's fingerprint as the
// registry fingerprint. A replaced identity is retired, not deleted, so packages addressed to
// it still open. A reviewer without a vault gets a stand-alone identity file instead.
//
// The age library keeps identities as strings, which cannot be wiped; they live only for the
// call that needs them, and the sealed bytes they came from are wiped.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, linkSync, lstatSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { armor, Decrypter, Encrypter, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { CustodyError } from '../../shared/errors.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { keyMaterial, wipe } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import { fsyncDir } from '../util/atomicFile.ts';
import { uuidv7 } from '../util/ids.ts';
import type { Custody } from '../custody.ts';
import type { Vault } from '../vault/vault.ts';

export const AGE_IDENTITY_KIND = 'age-identity';
export const HYBRID_ALGORITHM = 'mlkem768x25519';
/** age's scrypt work factor for identity files (age's own default). */
export const IDENTITY_FILE_LOG_N = 18;

const keyAd = (vaultId: string, id: string) => ad('key', vaultId, id);
const HYBRID_IDENTITY = /^AGE-SECRET-KEY-PQ-1[0-9A-Z]+$/;
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const AGE_MAGIC = 'age-encryption.org/v1\n';

export interface IdentityInfo {
  /** Key registry id. */
  id: string;
  recipient: string;
  fingerprint: string;
  createdAt: string;
  status: string;
}

export type RecipientType = 'hybrid' | 'x25519';

/**
 * The fingerprint people compare over the phone: the first 80 bits of SHA-256 over the
 * recipient string (age1pq1…, as written), in five groups of four hex digits. 80 bits: a
 * second key with the same fingerprint costs about 2^80 work.
 */
export function recipientFingerprint(recipient: string): string {
  const hex = createHash('sha256').update(recipient, 'utf8').digest('hex').slice(0, 20);
  return hex.match(/.{4}/g)!.join('-');
}

/**
 * The type of an age recipient string, or a BAD_REQUEST saying why it is not one Custody
 * accepts. Tag recipients (hardware tokens, plugins) are refused: nothing here can open them.
 */
export function recipientType(recipient: string): RecipientType {
  const r = recipient.trim();
  if (r.startsWith('age1tag')) throw new CustodyError('BAD_REQUEST', 'tag recipients (age1tag…, hardware tokens) are not supported; ask the reviewer for an age1pq1… recipient');
  if (!/^age1[0-9a-z]+$/.test(r)) throw new CustodyError('BAD_REQUEST', 'not an age recipient (expected age1pq1…, or age1… with --allow-classical)');
  try {
    new Encrypter().addRecipient(r);
  } catch {
    throw new CustodyError('BAD_REQUEST', 'not a valid age recipient (bad checksum or length)');
  }
  return r.startsWith('age1pq1') ? 'hybrid' : 'x25519';
}

/** A new stand-alone hybrid identity and its recipient. */
export async function newHybridIdentity(): Promise<{ identity: string; recipient: string; fingerprint: string }> {
  const identity = await generateHybridIdentity();
  const recipient = await identityToRecipient(identity);
  return { identity, recipient, fingerprint: recipientFingerprint(recipient) };
}

const infoOf = (row: { id: string; publicKey: Uint8Array | null; fingerprint: string; createdAt: Date; status: string }): IdentityInfo => ({
  id: row.id,
  recipient: Buffer.from(row.publicKey ?? new Uint8Array()).toString('utf8'),
  fingerprint: row.fingerprint,
  createdAt: row.createdAt.toISOString(),
  status: row.status,
});

/** This vault's active identity (public parts only), or null if it has none. Works while locked. */
export async function vaultIdentity(custody: Custody): Promise<IdentityInfo | null> {
  const row = await custody.vault.db.prisma.keyEntry.findFirst({ where: { kind: AGE_IDENTITY_KIND, status: 'active' }, orderBy: { createdAt: 'desc' } });
  return row ? infoOf(row) : null;
}

/**
 * The active identity as `identity show` prints it, checked while unlocked: the registered
 * recipient must be the one of the sealed secret, so someone who can write the folder cannot
 * make the vault show (and issuers read over the phone) a recipient of their own.
 */
export async function showVaultIdentity(custody: Custody): Promise<IdentityInfo | null> {
  const info = await vaultIdentity(custody);
  if (!info) return null;
  const secrets = await vaultIdentitySecrets(custody);
  if (secrets[0]?.id !== info.id) throw new CustodyError('TAMPERED', 'the key registry lists a reviewer identity that cannot be checked');
  return info;
}

/**
 * Creates this vault's reviewer identity. A vault that has one keeps it unless `replace` is
 * set; the replaced one is retired (packages sent to it still open). Audited as key.created
 * or key.rotated, with the new fingerprint.
 */
export async function createVaultIdentity(custody: Custody, opts: { replace?: boolean } = {}): Promise<IdentityInfo> {
  const vault = custody.vault;
  const vk = vault.keys().vaultKey;
  const existing = await vaultIdentity(custody);
  if (existing && !opts.replace)
    throw new CustodyError('CONFLICT', `this vault already has a reviewer identity (fingerprint ${existing.fingerprint}); "custody identity new --replace" makes a new one and retires it`);
  const made = await newHybridIdentity();
  const id = uuidv7();
  const now = new Date();
  const secret = keyMaterial(Buffer.from(made.identity, 'utf8'));
  let wrapped: Buffer<ArrayBuffer>;
  try {
    wrapped = seal(vk, secret, keyAd(vault.vaultId, id));
  } finally {
    wipe(secret);
  }
  await vault.db.write(async (tx) => {
    const old = await tx.keyEntry.findMany({ where: { kind: AGE_IDENTITY_KIND, status: 'active' } });
    if (old.length && !opts.replace) throw new CustodyError('CONFLICT', 'this vault already has a reviewer identity');
    await tx.keyEntry.updateMany({ where: { kind: AGE_IDENTITY_KIND, status: 'active' }, data: { status: 'retired', rotatedAt: now } });
    await tx.keyEntry.create({
      data: { id, kind: AGE_IDENTITY_KIND, algorithm: HYBRID_ALGORITHM, status: 'active', createdAt: now, fingerprint: made.fingerprint, publicKey: Buffer.from(made.recipient, 'utf8') as Buffer<ArrayBuffer>, wrapped },
    });
    vault.audit.appendSync(vault.meta, [
      { event: old.length ? 'key.rotated' : 'key.created', target: target.key(id), details: { kind: AGE_IDENTITY_KIND, algorithm: HYBRID_ALGORITHM, fingerprint: made.fingerprint, ...(old[0] ? { replaces: old[0].id } : {}) } },
    ]);
  });
  return { id, recipient: made.recipient, fingerprint: made.fingerprint, createdAt: now.toISOString(), status: 'active' };
}

/**
 * The secrets of this vault's identities while unlocked, active first, then retired ones
 * (newest first), for opening packages. Each is checked against its registered recipient, so
 * a registry row whose public part was swapped is refused rather than trusted.
 */
export async function vaultIdentitySecrets(custody: Custody): Promise<{ id: string; identity: string; recipient: string; fingerprint: string }[]> {
  const vault = custody.vault;
  const vk = vault.keys().vaultKey;
  const rows = await vault.db.prisma.keyEntry.findMany({ where: { kind: AGE_IDENTITY_KIND, status: { in: ['active', 'retired'] } }, orderBy: { createdAt: 'desc' } });
  rows.sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active'));
  const out: { id: string; identity: string; recipient: string; fingerprint: string }[] = [];
  for (const row of rows) {
    const identity = unsealIdentity(vault, vk, row.id, row.wrapped);
    const info = infoOf(row);
    if ((await identityToRecipient(identity)) !== info.recipient || recipientFingerprint(info.recipient) !== info.fingerprint)
      throw new CustodyError('TAMPERED', `the reviewer identity ${row.id} does not match its registered recipient: the key registry was changed`);
    out.push({ id: row.id, identity, recipient: info.recipient, fingerprint: info.fingerprint });
  }
  return out;
}

function unsealIdentity(vault: Vault, vk: Buffer, id: string, wrapped: Uint8Array | null): string {
  if (!wrapped) throw new CustodyError('VAULT_CORRUPT', `the reviewer identity ${id} has no sealed secret`);
  const raw = open(vk, wrapped, keyAd(vault.vaultId, id), 'the reviewer identity');
  try {
    const s = raw.toString('utf8');
    if (!HYBRID_IDENTITY.test(s)) throw new CustodyError('VAULT_CORRUPT', `the reviewer identity ${id} is not an age hybrid identity`);
    return s;
  } finally {
    wipe(raw);
  }
}

// ---- stand-alone identity files -------------------------------------------------------------

/** The text of an identity file, as age-keygen writes it (the `age` tool reads it with -i). */
export function identityFileText(identity: string, recipient: string, createdAt = new Date()): string {
  return `# created: ${createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}\n# public key: ${recipient}\n${identity}\n`;
}

/**
 * Writes a new stand-alone identity to `path` (atomically, mode 0600): encrypted to the
 * passphrase with age's scrypt recipient, armored (the `age` tool asks for the passphrase
 * when given it with -i), or plain when `passphrase` is null. Never overwrites a file.
 */
export async function writeIdentityFile(path: string, passphrase: string | null, opts: { logN?: number } = {}): Promise<{ recipient: string; fingerprint: string; encrypted: boolean }> {
  if (existsSync(path) || isSymlink(path)) throw new CustodyError('CONFLICT', `${path} already exists; choose a new file name (an identity file is never overwritten)`);
  if (passphrase !== null && passphrase.length < 8) throw new CustodyError('BAD_REQUEST', 'the identity passphrase must have at least 8 characters');
  const made = await newHybridIdentity();
  const text = identityFileText(made.identity, made.recipient);
  let data: string | Uint8Array = text;
  if (passphrase !== null) {
    const e = new Encrypter();
    e.setPassphrase(passphrase);
    e.setScryptWorkFactor(opts.logN ?? IDENTITY_FILE_LOG_N);
    data = armor.encode(await e.encrypt(text));
  }
  try {
    writeNewFile(path, data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CustodyError('CONFLICT', `${path} already exists; choose a new file name (an identity file is never overwritten)`);
    throw new CustodyError('BAD_REQUEST', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { recipient: made.recipient, fingerprint: made.fingerprint, encrypted: passphrase !== null };
}

/**
 * Writes a file that must not exist yet, atomically: a private temp file (0600, created
 * exclusively, flushed) linked into place, which fails if anything (a file, a symlink) took the
 * name meanwhile; a reader sees no file or the whole file.
 */
function writeNewFile(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      fchmodSync(fd, 0o600);
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, path);
    fsyncDir(dirname(path));
  } finally {
    rmSync(tmp, { force: true });
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Whether identity-file bytes are passphrase-encrypted (an age file) rather than plain. */
export function identityFileEncrypted(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  return head.startsWith(ARMOR_BEGIN) || head.startsWith(AGE_MAGIC);
}

/**
 * The identities in an identity file (plain, or encrypted with a passphrase, armored or not).
 * `passphrase` is asked only for an encrypted file. Comment and blank lines are skipped, as
 * the age tool does; anything else that is not an age identity is refused.
 */
export async function readIdentityFile(bytes: Uint8Array, passphrase: () => Promise<string>): Promise<string[]> {
  let text: string;
  if (identityFileEncrypted(bytes)) {
    const d = new Decrypter();
    d.addPassphrase(await passphrase());
    try {
      text = await d.decrypt(dearmor(bytes), 'text');
    } catch {
      throw new CustodyError('WRONG_PASSWORD', 'wrong passphrase for the identity file (or the file is damaged)');
    }
  } else {
    text = Buffer.from(bytes).toString('utf8');
  }
  const ids = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (ids.length === 0) throw new CustodyError('BAD_REQUEST', 'the identity file holds no identity');
  for (const [i, l] of ids.entries()) {
    if (!l.startsWith('AGE-SECRET-KEY-1') && !l.startsWith('AGE-SECRET-KEY-PQ-1')) throw new CustodyError('BAD_REQUEST', `line ${i + 1} of the identity file is not an age identity`);
    try {
      await identityToRecipient(l);
    } catch {
      throw new CustodyError('BAD_REQUEST', `line ${i + 1} of the identity file is not a valid age identity (bad checksum or length)`);
    }
  }
  return ids;
}

// ---- opening age files ----------------------------------------------------------------------

/** Binary age bytes from armored or binary input; malformed armor is refused. */
export function dearmor(bytes: Uint8Array): Uint8Array {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  if (!head.startsWith(ARMOR_BEGIN)) return bytes;
  try {
    return armor.decode(Buffer.from(bytes).toString('latin1'));
  } catch (e) {
    throw new CustodyError('TAMPERED', `the armored age file is malformed (${(e as Error).message})`);
  }
}

/**
 * Decrypts an age file (binary or armored) with the given identities: Custody's one path for
 * opening what was sent to an identity (its conformance is tested with the C2SP age vectors,
 * testdata/age). A file addressed to none of them, a malformed header, a stanza that fails
 * its checks or a damaged payload are each refused with a CustodyError, never half-read.
 */
export async function decryptAgeFile(bytes: Uint8Array, identities: readonly string[]): Promise<Uint8Array> {
  if (identities.length === 0) throw new CustodyError('BAD_REQUEST', 'no identity to open the file with');
  const binary = dearmor(bytes);
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    return await d.decrypt(binary);
  } catch (e) {
    const msg = (e as Error).message;
    if (/no identity matched/i.test(msg)) throw new CustodyError('BAD_REQUEST', 'this age file is not addressed to this identity (no recipient stanza matched it)');
    throw new CustodyError('TAMPERED', `the age file is damaged or malformed (${msg})`);
  }
}
