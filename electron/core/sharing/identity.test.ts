import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import {
  createVaultIdentity,
  decryptAgeFile,
  identityFileEncrypted,
  newHybridIdentity,
  readIdentityFile,
  recipientFingerprint,
  recipientType,
  showVaultIdentity,
  vaultIdentity,
  vaultIdentitySecrets,
  writeIdentityFile,
} from './identity.ts';

const encryptTo = async (recipient: string, text: string) => {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return e.encrypt(text);
};
const fileBytes = (dir: string) => Buffer.concat(['custody.db', 'custody.db-wal'].map((f) => {
  try {
    return readFileSync(join(dir, f));
  } catch {
    return Buffer.alloc(0);
  }
}));

describe('the vault reviewer identity', { timeout: 60_000 }, () => {
  let v: TempVault;
  beforeEach(async () => {
    v = await tempVault();
  });
  afterEach(() => v.cleanup());

  test('is a post-quantum hybrid identity, sealed by the vault key, listed in the key registry and audited with its fingerprint', async () => {
    expect(await vaultIdentity(v.custody)).toBeNull();
    const made = await createVaultIdentity(v.custody);
    expect(made.recipient).toMatch(/^age1pq1[0-9a-z]+$/);
    expect(made.fingerprint).toBe(recipientFingerprint(made.recipient));
    const [secret] = await vaultIdentitySecrets(v.custody);
    expect(secret!.identity).toMatch(/^AGE-SECRET-KEY-PQ-1/);
    expect(await identityToRecipient(secret!.identity)).toBe(made.recipient);
    // What is sent to the recipient opens with the sealed secret, through Custody's one path.
    const sealed = await encryptTo(made.recipient, 'for the reviewer');
    expect(Buffer.from(await decryptAgeFile(sealed, [secret!.identity])).toString()).toBe('for the reviewer');
    const rows = await v.custody.vault.db.prisma.keyEntry.findMany({ where: { kind: 'age-identity' } });
    expect(rows).toMatchObject([{ algorithm: 'mlkem768x25519', status: 'active', fingerprint: made.fingerprint }]);
    const entries = await v.custody.auditQuery({ event: 'key.created' });
    // (Beside the key registry's state, which every key.* entry commits: audit/registryState.ts.)
    expect(entries.map((e) => e.entry?.details)).toContainEqual(expect.objectContaining({ kind: 'age-identity', algorithm: 'mlkem768x25519', fingerprint: made.fingerprint }));
    await v.custody.lock();
    // The secret is nowhere in the clear in the vault's files.
    expect(fileBytes(v.dir).includes(Buffer.from(secret!.identity))).toBe(false);
    expect(fileBytes(v.dir).includes(Buffer.from('AGE-SECRET-KEY'))).toBe(false);
    await expect(vaultIdentitySecrets(v.custody)).rejects.toMatchObject({ code: 'LOCKED' });
    await expect(createVaultIdentity(v.custody)).rejects.toMatchObject({ code: 'LOCKED' });
  });

  test('is kept unless replaced; a replaced identity is retired and still opens what was sent to it', async () => {
    const first = await createVaultIdentity(v.custody);
    await expect(createVaultIdentity(v.custody)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(first.fingerprint) });
    const oldPackage = await encryptTo(first.recipient, 'sent to the first identity');
    const second = await createVaultIdentity(v.custody, { replace: true });
    expect((await vaultIdentity(v.custody))!.fingerprint).toBe(second.fingerprint);
    const secrets = await vaultIdentitySecrets(v.custody);
    expect(secrets.map((s) => s.fingerprint)).toEqual([second.fingerprint, first.fingerprint]);
    expect(Buffer.from(await decryptAgeFile(oldPackage, secrets.map((s) => s.identity))).toString()).toBe('sent to the first identity');
    const rotated = await v.custody.auditQuery({ event: 'key.rotated' });
    expect(rotated[0]?.entry?.details).toMatchObject({ kind: 'age-identity', fingerprint: second.fingerprint, replaces: first.id });
  });

  test('a recipient swapped in the key registry by someone with the folder (no password) is refused, not shown', async () => {
    await createVaultIdentity(v.custody);
    await v.custody.close();
    const attacker = await newHybridIdentity();
    const db = new Database(join(v.dir, 'custody.db'));
    db.prepare("UPDATE key_registry SET public_key = ?, fingerprint = ? WHERE kind = 'age-identity'").run(Buffer.from(attacker.recipient), attacker.fingerprint);
    db.close();
    const c = await v.reopen();
    await c.unlock('correct horse battery staple', { buildIndex: false });
    await expect(showVaultIdentity(c)).rejects.toMatchObject({ code: 'TAMPERED' });
    await expect(vaultIdentitySecrets(c)).rejects.toMatchObject({ code: 'TAMPERED' });
  });
});

describe('fingerprints and recipients', () => {
  test('the fingerprint is the first 80 bits of SHA-256 over the recipient string, in five groups of four hex digits', async () => {
    const { recipient, fingerprint } = await newHybridIdentity();
    const hex = createHash('sha256').update(recipient).digest('hex');
    expect(fingerprint).toBe(`${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}`);
    expect(recipientFingerprint('age1example')).toBe(recipientFingerprint('age1example'));
  });

  test('recipient types: hybrid, classical X25519, and what is refused', async () => {
    const { recipient } = await newHybridIdentity();
    expect(recipientType(recipient)).toBe('hybrid');
    expect(recipientType(await identityToRecipient(await generateX25519Identity()))).toBe('x25519');
    // One changed character breaks the bech32 checksum.
    const flipped = recipient.slice(0, 20) + (recipient[20] === 'q' ? 'p' : 'q') + recipient.slice(21);
    expect(() => recipientType(flipped)).toThrow(/not a valid age recipient/);
    expect(() => recipientType('age1tag1qqqq')).toThrow(/tag recipients/);
    expect(() => recipientType('ssh-ed25519 AAAA')).toThrow(/not an age recipient/);
    expect(() => recipientType(recipient.toUpperCase())).toThrow(/not an age recipient/);
  });
});

describe('stand-alone identity files', { timeout: 60_000 }, () => {
  test('a passphrase-protected file: mode 0600, armored age (scrypt), opens only with the passphrase', async () => {
    const dir = tempDir();
    const path = join(dir, 'reviewer.key');
    const made = await writeIdentityFile(path, 'a long enough passphrase', { logN: 10 });
    expect(made.encrypted).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(path);
    expect(bytes.toString()).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    expect(bytes.includes(Buffer.from('AGE-SECRET-KEY'))).toBe(false);
    expect(identityFileEncrypted(bytes)).toBe(true);
    await expect(readIdentityFile(bytes, async () => 'the wrong passphrase')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    const ids = await readIdentityFile(bytes, async () => 'a long enough passphrase');
    expect(ids).toHaveLength(1);
    expect(await identityToRecipient(ids[0]!)).toBe(made.recipient);
    const sealed = await encryptTo(made.recipient, 'hello reviewer');
    expect(Buffer.from(await decryptAgeFile(sealed, ids)).toString()).toBe('hello reviewer');
    // Never overwritten, not even through a symlink placed at the name.
    await expect(writeIdentityFile(path, null)).rejects.toMatchObject({ code: 'CONFLICT' });
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'link.key'));
    await expect(writeIdentityFile(join(dir, 'link.key'), null)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(writeIdentityFile(join(dir, 'short.key'), 'short')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('a plain file is what age-keygen writes (comments, then the identity); a file that is not one is refused', async () => {
    const dir = tempDir();
    const path = join(dir, 'plain.key');
    const made = await writeIdentityFile(path, null);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(new RegExp(`^# created: \\S+\\n# public key: ${made.recipient}\\nAGE-SECRET-KEY-PQ-1[0-9A-Z]+\\n$`));
    expect(identityFileEncrypted(readFileSync(path))).toBe(false);
    const ids = await readIdentityFile(readFileSync(path), async () => {
      throw new Error('a plain file needs no passphrase');
    });
    expect(await identityToRecipient(ids[0]!)).toBe(made.recipient);
    writeFileSync(join(dir, 'bad.key'), '# nothing\nAGE-SECRET-KEY-PQ-1QQQQ\n');
    await expect(readIdentityFile(readFileSync(join(dir, 'bad.key')), async () => '')).rejects.toThrow(/not a valid age identity/);
    await expect(readIdentityFile(Buffer.from('# only comments\n'), async () => '')).rejects.toThrow(/no identity/);
  });

  test('a file addressed to someone else, or damaged, is refused', async () => {
    const me = await newHybridIdentity();
    const other = await newHybridIdentity();
    const sealed = await encryptTo(other.recipient, 'not for me');
    await expect(decryptAgeFile(sealed, [me.identity])).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('not addressed') });
    const mine = Buffer.from(await encryptTo(me.recipient, 'for me, but damaged'));
    mine[mine.length - 5]! ^= 1;
    await expect(decryptAgeFile(mine, [me.identity])).rejects.toMatchObject({ code: 'TAMPERED' });
  });
});
