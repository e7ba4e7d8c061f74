// Interop of a disclosure's outer layer (issue 11): it must be a standard age file (c2sp.org/age)
// with one mlkem768x25519 stanza per recipient, readable by any age implementation. The standard
// `age` CLI (v1.3+, the first with post-quantum recipients) is not installable here: Debian ships
// 1.1.1, without them. So this test carries a small, independent, test-only age decryptor written
// from the spec on the primitives alone (@noble/post-quantum's ML-KEM-768+X25519 (X-Wing),
// @noble/hashes' HKDF/HMAC-SHA-256, @noble/ciphers' ChaCha20-Poly1305, @scure/base's bech32 for
// the identity string), none of it the age-encryption code path that wrote the file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Decrypter, Encrypter, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { hkdf, extract, expand } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { bech32 } from '@scure/base';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { disclose } from './disclose.ts';
import { verifyPackage } from './openDisclosure.ts';
import { AgeOpenError, ageDecrypt as nativeDecrypt, ageEncrypt } from './ageStream.ts';

// ---- a test-only age decryptor, from c2sp.org/age ----------------------------------------------

interface Stanza {
  type: string;
  args: string[];
  body: Uint8Array;
}

const enc = new TextEncoder();
const b64nopad = (s: string): Uint8Array => {
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) throw new Error('not unpadded base64');
  return new Uint8Array(Buffer.from(s, 'base64'));
};

/** Splits an age file into its stanzas, the header bytes the MAC covers, the MAC and the payload. */
function parseAgeFile(file: Uint8Array): { stanzas: Stanza[]; macInput: Uint8Array; mac: Uint8Array; payload: Uint8Array } {
  let at = 0;
  const line = (): string => {
    const nl = file.indexOf(0x0a, at);
    if (nl < 0) throw new Error('header line without newline');
    const s = Buffer.from(file.subarray(at, nl)).toString('latin1');
    at = nl + 1;
    return s;
  };
  if (line() !== 'age-encryption.org/v1') throw new Error('not an age v1 file');
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = at;
    const l = line();
    if (l.startsWith('--- ')) {
      return { stanzas, macInput: file.subarray(0, start + 3), mac: b64nopad(l.slice(4)), payload: file.subarray(at) };
    }
    if (!l.startsWith('-> ')) throw new Error(`unexpected header line ${JSON.stringify(l.slice(0, 20))}`);
    const [type = '', ...args] = l.slice(3).split(' ');
    // Body: lines of exactly 64 columns, ended by a shorter (possibly empty) line.
    let body = '';
    for (;;) {
      const b = line();
      if (b.length > 64) throw new Error('stanza body line too long');
      body += b;
      if (b.length < 64) break;
    }
    stanzas.push({ type, args, body: b64nopad(body) });
  }
}

const I2OSP2 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** RFC 9180 base-mode key schedule for KEM 0x647a (X-Wing), HKDF-SHA256 (1), ChaCha20Poly1305 (3). */
function hpkeKeyAndNonce(sharedSecret: Uint8Array, info: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const suite = cat(enc.encode('HPKE'), I2OSP2(0x647a), I2OSP2(0x0001), I2OSP2(0x0003));
  const labeledExtract = (salt: Uint8Array, label: string, ikm: Uint8Array) => extract(sha256, cat(enc.encode('HPKE-v1'), suite, enc.encode(label), ikm), salt);
  const labeledExpand = (prk: Uint8Array, label: string, ctx: Uint8Array, L: number) => expand(sha256, prk, cat(I2OSP2(L), enc.encode('HPKE-v1'), suite, enc.encode(label), ctx), L);
  const empty = new Uint8Array(0);
  const ctx = cat(Uint8Array.of(0x00), labeledExtract(empty, 'psk_id_hash', empty), labeledExtract(empty, 'info_hash', info));
  const secret = labeledExtract(sharedSecret, 'secret', empty);
  return { key: labeledExpand(secret, 'key', ctx, 32), nonce: labeledExpand(secret, 'base_nonce', ctx, 12) };
}

/** Decrypts an age file with one AGE-SECRET-KEY-PQ-1 identity. */
function ageDecrypt(file: Uint8Array, identity: string): Uint8Array {
  const { prefix, bytes: seed } = bech32.decodeToBytes(identity.toLowerCase());
  if (prefix !== 'age-secret-key-pq-' || seed.length !== 32) throw new Error('not a hybrid identity');
  const { stanzas, macInput, mac, payload } = parseAgeFile(file);
  let fileKey: Uint8Array | undefined;
  for (const s of stanzas) {
    if (s.type !== 'mlkem768x25519' || s.args.length !== 1 || s.body.length !== 32) continue;
    const shared = ml_kem768_x25519.decapsulate(b64nopad(s.args[0]!), seed);
    const { key, nonce } = hpkeKeyAndNonce(shared, enc.encode('age-encryption.org/mlkem768x25519'));
    try {
      fileKey = chacha20poly1305(key, nonce).decrypt(s.body);
      break;
    } catch {
      // Another recipient's stanza.
    }
  }
  if (!fileKey) throw new Error('no stanza for this identity');
  const expected = hmac(sha256, hkdf(sha256, fileKey, new Uint8Array(0), enc.encode('header'), 32), macInput);
  if (Buffer.compare(Buffer.from(expected), Buffer.from(mac)) !== 0) throw new Error('header MAC mismatch');
  const nonce = payload.subarray(0, 16);
  const key = hkdf(sha256, fileKey, nonce, enc.encode('payload'), 32);
  const CHUNK = 64 * 1024 + 16;
  const out: Uint8Array[] = [];
  const body = payload.subarray(16);
  for (let i = 0, off = 0; off < body.length; i++, off += CHUNK) {
    const last = off + CHUNK >= body.length;
    const n = new Uint8Array(12);
    new DataView(n.buffer).setUint32(7, i);
    n[11] = last ? 1 : 0;
    out.push(chacha20poly1305(key, n).decrypt(body.subarray(off, off + CHUNK)));
  }
  return cat(...out);
}

// ---- the test ----------------------------------------------------------------------------------

let issuer: TempVault;
beforeAll(async () => {
  issuer = await tempVault();
  // Enough content for several 64 KiB payload chunks.
  for (let i = 0; i < 40; i++) await issuer.custody.createRecord({ kind: 'note', title: `record ${i}`, body: 'x'.repeat(5000) + i, capturedAt: `2026-05-0${1 + (i % 5)}T12:00:00Z` });
}, 120_000);
afterAll(async () => {
  await issuer?.cleanup();
});

test('the outer layer is a standard age file, one mlkem768x25519 stanza per recipient, opened by an independent decryptor', async () => {
  const ids = [await generateHybridIdentity(), await generateHybridIdentity()];
  const recipients = await Promise.all(ids.map((i) => identityToRecipient(i)));
  const out = join(issuer.dir, '..', 'two.age');
  await disclose(issuer.custody, { to: recipients, from: '2026-05-01', until: '2026-05-05', purpose: 'interop', out });
  const file = new Uint8Array(readFileSync(out));
  const { stanzas } = parseAgeFile(file);
  expect(stanzas.map((s) => s.type)).toEqual(['mlkem768x25519', 'mlkem768x25519']);
  for (const s of stanzas) expect(b64nopad(s.args[0]!).length).toBe(1120); // ML-KEM-768 ciphertext + X25519 share
  for (const id of ids) {
    const plain = ageDecrypt(file, id);
    expect(Buffer.from(plain.subarray(0, 22)).toString()).toBe('custody-disclosure/v1\n');
    // What the independent decryptor got verifies as Custody's package.
    expect(verifyPackage(plain).records).toHaveLength(40);
  }
  // A third identity has no stanza; a flipped payload byte fails the independent decryptor too.
  const third = await generateHybridIdentity();
  expect(() => ageDecrypt(file, third)).toThrow(/no stanza for this identity/);
  const bad = Uint8Array.from(file);
  bad[bad.length - 5]! ^= 1;
  expect(() => ageDecrypt(bad, ids[0]!)).toThrow();
});

test('the native payload (Node ChaCha20-Poly1305) reads and writes the same age files as the library and the independent decryptor, any size; damage is refused', async () => {
  const id = await generateHybridIdentity();
  const to = await identityToRecipient(id);
  const lib = new Decrypter();
  lib.addIdentity(id);
  // 0 bytes, one byte, exactly two chunks (the last one full), and a partial third chunk.
  for (const size of [0, 1, 128 * 1024, 150_000]) {
    const plain = new Uint8Array(Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff)));
    const mine = await ageEncrypt([to], plain);
    expect(Buffer.from(await lib.decrypt(mine)).equals(Buffer.from(plain)), `library reads ${size}`).toBe(true);
    expect(Buffer.from(ageDecrypt(mine, id)).equals(Buffer.from(plain)), `independent decryptor reads ${size}`).toBe(true);
    const e = new Encrypter();
    e.addRecipient(to);
    const theirs = await e.encrypt(plain);
    expect((await nativeDecrypt(theirs, [id])).equals(Buffer.from(plain)), `native reads library's ${size}`).toBe(true);
    if (size === 0) continue;
    // A flipped payload byte, a dropped last chunk, a chunk boundary moved: all refused.
    const flipped = Buffer.from(mine);
    flipped[flipped.length - 20]! ^= 1;
    await expect(nativeDecrypt(flipped, [id])).rejects.toThrow(AgeOpenError);
    if (size > 64 * 1024) {
      const cut = Buffer.from(mine.subarray(0, mine.length - 1));
      await expect(nativeDecrypt(cut, [id])).rejects.toThrow(AgeOpenError);
      const lastChunk = (size % (64 * 1024) || 64 * 1024) + 16;
      const dropped = Buffer.from(theirs.subarray(0, theirs.length - lastChunk));
      await expect(nativeDecrypt(dropped, [id])).rejects.toThrow(/does not authenticate/);
    }
  }
  const other = await generateHybridIdentity();
  await expect(nativeDecrypt(await ageEncrypt([to], Buffer.from('x')), [other])).rejects.toMatchObject({ notAddressed: true });
});
