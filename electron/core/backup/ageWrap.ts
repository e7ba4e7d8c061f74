// Optional age wrapping of a backup (age-encryption: X25519 or post-quantum hybrid recipients,
// or an scrypt passphrase), streamed both ways: a backup of any size never sits in memory.
import { Decrypter, Encrypter } from 'age-encryption';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CustodyError } from '../../shared/errors.ts';

/** `scryptWorkFactor`: log2 of scrypt's cost (age's default 18); lower only in tests. */
export type BackupEncryption = { kind: 'none' } | { kind: 'recipients'; recipients: string[] } | { kind: 'passphrase'; passphrase: string; scryptWorkFactor?: number };
/** What opens an encrypted backup: a passphrase and/or age identities (AGE-SECRET-KEY-…). */
export interface BackupSecrets {
  passphrase?: string;
  identities?: string[];
}

const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n', 'ascii');

export async function encryptStream(src: AsyncIterable<Uint8Array>, enc: BackupEncryption): Promise<AsyncIterable<Uint8Array>> {
  if (enc.kind === 'none') return src;
  const e = new Encrypter();
  try {
    if (enc.kind === 'passphrase') {
      if (enc.passphrase.length < 8) throw new CustodyError('BAD_REQUEST', 'a backup passphrase needs at least 8 characters');
      e.setPassphrase(enc.passphrase);
      if (enc.scryptWorkFactor !== undefined) e.setScryptWorkFactor(enc.scryptWorkFactor);
    } else {
      if (enc.recipients.length === 0) throw new CustodyError('BAD_REQUEST', 'no recipient to encrypt the backup for');
      for (const r of enc.recipients) e.addRecipient(r);
    }
  } catch (err) {
    if (err instanceof CustodyError) throw err;
    throw new CustodyError('BAD_REQUEST', `not an age recipient: ${(err as Error).message}`);
  }
  return (await e.encrypt(Readable.toWeb(Readable.from(src)) as ReadableStream<Uint8Array>)) as unknown as AsyncIterable<Uint8Array>;
}

export async function isEncrypted(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(AGE_MAGIC.length);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    return bytesRead === b.length && b.equals(AGE_MAGIC);
  } finally {
    await fh.close();
  }
}

/** The container's bytes: the file itself, or what age decrypts it to. */
export async function backupBytes(file: string, secrets: BackupSecrets = {}): Promise<AsyncIterable<Uint8Array>> {
  if (!(await isEncrypted(file))) return createReadStream(file, { highWaterMark: 1 << 20 });
  if (!secrets.passphrase && !secrets.identities?.length) throw new CustodyError('BAD_REQUEST', 'this backup is encrypted with age: give its passphrase (--passphrase) or an identity file (--identity FILE)');
  const d = new Decrypter();
  if (secrets.passphrase) d.addPassphrase(secrets.passphrase);
  for (const id of secrets.identities ?? []) d.addIdentity(id);
  try {
    const web = Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
    return (await d.decrypt(web)) as unknown as AsyncIterable<Uint8Array>;
  } catch (e) {
    throw new CustodyError('WRONG_PASSWORD', `cannot decrypt this backup: ${(e as Error).message} (wrong passphrase or identity?)`);
  }
}
