// The age file format (c2sp.org/age) with the payload done by Node's native ChaCha20-Poly1305.
// age-encryption does the header (recipient stanzas, X-Wing/X25519, header MAC); its payload
// STREAM is pure JavaScript and was most of the time to seal or open a 20 MB package. The bytes
// are the same standard age file: any age implementation reads what this writes, and vice versa.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Decrypter, Encrypter } from 'age-encryption';

const CHUNK = 64 * 1024;
const TAG = 16;
const NONCE = 16;
const VERSION_LINE = Buffer.from('age-encryption.org/v1\n', 'latin1');

const streamKey = (fileKey: Uint8Array, nonce: Uint8Array): Buffer => Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));

/** STREAM nonce: 11-byte big-endian chunk counter, then the last-chunk flag. */
function chunkNonce(i: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(i, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

/** Encrypts `plain` to age recipients (age1pq1… / age1…) as a standard age file. */
export async function ageEncrypt(recipients: readonly string[], plain: Uint8Array): Promise<Buffer> {
  const cap: { fileKey?: Uint8Array } = {};
  const enc = new Encrypter();
  // Adds no stanza: it only sees the file key the header is made for, to seal the payload here.
  enc.addRecipient({ wrapFileKey: (k: Uint8Array) => ((cap.fileKey = Uint8Array.from(k)), []) });
  for (const r of recipients) enc.addRecipient(r);
  const empty = await enc.encrypt(new Uint8Array(0));
  // An empty file is header, 16-byte nonce, one empty final chunk (its 16-byte tag).
  const header = Buffer.from(empty.subarray(0, empty.length - NONCE - TAG));
  if (!cap.fileKey || header[header.length - 1] !== 0x0a) throw new Error('age header could not be made');
  const nonce = randomBytes(NONCE);
  const k = streamKey(cap.fileKey, nonce);
  cap.fileKey.fill(0);
  const out: Buffer[] = [header, nonce];
  const n = Math.max(1, Math.ceil(plain.length / CHUNK));
  for (let i = 0; i < n; i++) {
    const c = createCipheriv('chacha20-poly1305', k, chunkNonce(i, i === n - 1), { authTagLength: TAG });
    out.push(c.update(plain.subarray(i * CHUNK, Math.min(plain.length, (i + 1) * CHUNK))), c.final(), c.getAuthTag());
  }
  k.fill(0);
  return Buffer.concat(out);
}

/** The age layer could not be opened: `notAddressed` when no identity matches a stanza. */
export class AgeOpenError extends Error {
  constructor(
    message: string,
    readonly notAddressed: boolean,
  ) {
    super(message);
  }
}

/** Decrypts a standard (binary) age file with any of `identities`; throws AgeOpenError. */
export async function ageDecrypt(file: Uint8Array, identities: readonly string[]): Promise<Buffer> {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  if (!buf.subarray(0, VERSION_LINE.length).equals(VERSION_LINE)) {
    // Not a binary age file (an armored one, or damage): the library's own reader says why.
    try {
      return Buffer.from(await d.decrypt(file));
    } catch (e) {
      throw new AgeOpenError((e as Error).message, /no identity matched/i.test((e as Error).message));
    }
  }
  // Stanza lines start with "-> " or are base64: the MAC line is the first "\n--- ".
  const mac = buf.indexOf('\n--- ', 0, 'latin1');
  const end = mac < 0 ? -1 : buf.indexOf(0x0a, mac + 5);
  if (end < 0) throw new AgeOpenError('the age header is incomplete', false);
  let fileKey: Uint8Array;
  try {
    fileKey = await d.decryptHeader(buf.subarray(0, end + 1));
  } catch (e) {
    throw new AgeOpenError((e as Error).message, /no identity matched/i.test((e as Error).message));
  }
  const payload = buf.subarray(end + 1);
  if (payload.length < NONCE + TAG) {
    fileKey.fill(0);
    throw new AgeOpenError('the age payload is truncated', false);
  }
  const k = streamKey(fileKey, payload.subarray(0, NONCE));
  fileKey.fill(0);
  const body = payload.subarray(NONCE);
  const n = Math.ceil(body.length / (CHUNK + TAG));
  const out: Buffer[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const c = body.subarray(i * (CHUNK + TAG), (i + 1) * (CHUNK + TAG));
      if (c.length < TAG || (i === n - 1 && i > 0 && c.length === TAG)) throw new AgeOpenError('the age payload has a truncated or empty last chunk', false);
      const dec = createDecipheriv('chacha20-poly1305', k, chunkNonce(i, i === n - 1), { authTagLength: TAG });
      dec.setAuthTag(c.subarray(c.length - TAG));
      const p = dec.update(c.subarray(0, c.length - TAG));
      try {
        dec.final();
      } catch {
        for (const x of out) x.fill(0);
        p.fill(0);
        throw new AgeOpenError(`the age payload chunk ${i} does not authenticate`, false);
      }
      out.push(p);
    }
  } finally {
    k.fill(0);
  }
  const plain = Buffer.concat(out);
  for (const x of out) x.fill(0);
  return plain;
}
