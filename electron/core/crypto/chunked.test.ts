import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, test } from 'vitest';
import {
  ChunkedDecryptionError,
  chunkedCiphertextSize,
  createDecryptStream,
  createEncryptStream,
  decryptChunked,
  encryptChunked,
  hkdfExpandSha512,
  testingOnly,
} from './chunked.ts';

interface VectorCase {
  desc: string;
  plaintextLength: number | null;
  plaintextSha256: string | null;
  ciphertext: string;
  wantErr: boolean;
}
const vectors = JSON.parse(readFileSync(path.resolve(process.cwd(), 'testdata/chunked-encryption/vectors.json'), 'utf8')) as {
  inputKey: string;
  context: string;
  cases: VectorCase[];
};
const vectorKey = Buffer.from(vectors.inputKey, 'base64');
const vectorContext = Buffer.from(vectors.context, 'base64');
const validCases = vectors.cases.filter((c) => !c.wantErr);
const invalidCases = vectors.cases.filter((c) => c.wantErr);

// The documented plaintext of every vector: byte i is (i*7+3) mod 251.
const pattern = (length: number): Buffer => {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + 3) % 251;
  return out;
};
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
// Compares large buffers by length and digest: deep equality on big Buffers is slow in vitest.
const fingerprint = (data: Uint8Array): string => `${data.length} bytes, sha256 ${sha256(data)}`;

/** Splits `data` into pieces of the given sizes (cycled), to exercise chunk reassembly. */
function split(data: Buffer, sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

/** Writes the pieces straight into the stream (fast even for 1-byte writes) and collects its output. */
function runStream(stream: Transform, pieces: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    stream.on('data', (b: Buffer) => out.push(b));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(out)));
    for (const piece of pieces) stream.write(piece);
    stream.end();
  });
}

const randomSizes = (seed: number): number[] => {
  // Deterministic pseudo-random split sizes (1..40000) so failures are reproducible.
  const sizes: number[] = [];
  let x = seed;
  for (let i = 0; i < 64; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    sizes.push(1 + (x % 40000));
  }
  return sizes;
};
const awkwardSplits: Array<[string, number[]]> = [
  ['1-byte writes', [1]],
  ['7-byte writes', [7]],
  ['16 KiB - 1 writes', [16383]],
  ['16 KiB + 1 writes', [16385]],
  ['16 KiB + 16 writes', [16400]],
  ['random splits', randomSizes(42)],
];

describe('HKDF-Expand', () => {
  test('matches node hkdf when fed the PRK that HKDF-Extract would produce', () => {
    const ikm = randomBytes(32);
    const salt = randomBytes(24);
    const info = Buffer.from('chunked info');
    const prk = createHmac('sha512', salt).update(ikm).digest();
    for (const length of [1, 64, 76, 200]) {
      expect(hkdfExpandSha512(prk, info, length)).toEqual(Buffer.from(hkdfSync('sha512', ikm, salt, info, length)));
    }
  });
});

describe('chunk nonces', () => {
  test('XOR the base nonce with the counter as a 38-bit big-endian integer', () => {
    const base = Buffer.from('00112233445566778899aabb', 'hex');
    expect(testingOnly.chunkNonce(base, 0).toString('hex')).toBe('00112233445566778899aabb');
    expect(testingOnly.chunkNonce(base, 1).toString('hex')).toBe('00112233445566778899aaba');
    expect(testingOnly.chunkNonce(base, 0xffffffff).toString('hex')).toBe('001122334455667777665544');
    expect(testingOnly.chunkNonce(base, 2 ** 38 - 1).toString('hex')).toBe('001122334455664877665544');
    expect(() => testingOnly.chunkNonce(base, 2 ** 38)).toThrow(/2\^38/);
  });
});

describe('C2SP chunked-encryption vectors (Cobblestone-256)', () => {
  test('the vector file has valid and invalid cases', () => {
    expect(validCases.length).toBeGreaterThanOrEqual(7);
    expect(invalidCases.length).toBeGreaterThanOrEqual(7);
  });

  test.each(validCases.map((c) => [c.desc, c] as const))('%s decrypts (one-shot)', (_desc, c) => {
    const plaintext = decryptChunked(vectorKey, vectorContext, Buffer.from(c.ciphertext, 'base64'));
    expect(plaintext.length).toBe(c.plaintextLength);
    expect(sha256(plaintext)).toBe(c.plaintextSha256);
    expect(fingerprint(plaintext)).toBe(fingerprint(pattern(plaintext.length)));
  });

  test.each(validCases.map((c) => [c.desc, c] as const))('%s decrypts (streamed, awkward writes)', async (_desc, c) => {
    const ciphertext = Buffer.from(c.ciphertext, 'base64');
    for (const [, sizes] of awkwardSplits) {
      const plaintext = await runStream(createDecryptStream(vectorKey, vectorContext), split(ciphertext, sizes));
      expect(sha256(plaintext)).toBe(c.plaintextSha256);
    }
  });

  test.each(validCases.map((c) => [c.desc, c] as const))('%s re-encrypts to the vector with its salt', (_desc, c) => {
    const ciphertext = Buffer.from(c.ciphertext, 'base64');
    const salt = ciphertext.subarray(0, 24);
    const plaintext = pattern(c.plaintextLength ?? 0);
    expect(fingerprint(testingOnly.encryptChunked(vectorKey, vectorContext, salt, plaintext))).toBe(fingerprint(ciphertext));
    expect(chunkedCiphertextSize(plaintext.length)).toBe(ciphertext.length);
  });

  test.each(invalidCases.map((c) => [c.desc, c] as const))('%s is rejected (one-shot)', (_desc, c) => {
    expect(() => decryptChunked(vectorKey, vectorContext, Buffer.from(c.ciphertext, 'base64'))).toThrow(ChunkedDecryptionError);
  });

  test.each(invalidCases.map((c) => [c.desc, c] as const))('%s is rejected (streamed, awkward writes)', async (_desc, c) => {
    const ciphertext = Buffer.from(c.ciphertext, 'base64');
    for (const [, sizes] of awkwardSplits) {
      const released: Buffer[] = [];
      const decrypt = createDecryptStream(vectorKey, vectorContext);
      decrypt.on('data', (b: Buffer) => released.push(b));
      await expect(runStream(decrypt, split(ciphertext, sizes))).rejects.toBeInstanceOf(ChunkedDecryptionError);
      // Whatever was released before the error is authentic plaintext, in order, and
      // never a whole message (the failure is always detected before the end).
      const partial = Buffer.concat(released);
      expect(fingerprint(partial)).toBe(fingerprint(pattern(partial.length)));
      expect(partial.length % 16384).toBe(0);
      expect(partial.length).toBeLessThan(40000);
    }
  });
});

describe('round trips', () => {
  const key = randomBytes(32);
  const context = Buffer.from('vault:1234/attachment:5678');
  const sizes = [0, 1, 16383, 16384, 16385, 3 * 16384, 3 * 16384 + 5];

  test.each(sizes)('%i bytes: one-shot and streamed agree and round-trip', async (size) => {
    const plaintext = randomBytes(size);
    const salt = randomBytes(24);
    const oneShot = testingOnly.encryptChunked(key, context, salt, plaintext);
    expect(oneShot.length).toBe(chunkedCiphertextSize(size));
    for (const [, splitSizes] of awkwardSplits) {
      const streamed = await runStream(testingOnly.createEncryptStream(key, context, salt), split(plaintext, splitSizes));
      expect(fingerprint(streamed)).toBe(fingerprint(oneShot));
      expect(fingerprint(await runStream(createDecryptStream(key, context), split(streamed, splitSizes)))).toBe(fingerprint(plaintext));
    }
    expect(fingerprint(decryptChunked(key, context, oneShot))).toBe(fingerprint(plaintext));
    expect(fingerprint(decryptChunked(key, context, encryptChunked(key, context, plaintext)))).toBe(fingerprint(plaintext));
    expect(fingerprint(decryptChunked(key, context, await runStream(createEncryptStream(key, context), [plaintext])))).toBe(fingerprint(plaintext));
  });

  test('a fresh salt every time', () => {
    const a = encryptChunked(key, context, Buffer.alloc(10));
    const b = encryptChunked(key, context, Buffer.alloc(10));
    expect(a.subarray(0, 24)).not.toEqual(b.subarray(0, 24));
    expect(a.subarray(56)).not.toEqual(b.subarray(56));
  });

  test('rejects tampering with clear messages and no secrets', () => {
    const plaintext = randomBytes(4 * 16384 + 100);
    const ciphertext = encryptChunked(key, context, plaintext);
    const chunkAt = (k: number): number => 56 + k * 16400;
    const cases: Array<[string, Buffer, Uint8Array, RegExp]> = [];
    // Truncation at each chunk boundary (including right after the header) and mid-chunk.
    for (let k = 0; k <= 4; k++) cases.push([`cut at chunk ${k}`, ciphertext.subarray(0, chunkAt(k)), context, /truncated/]);
    cases.push(['cut mid-chunk', ciphertext.subarray(0, chunkAt(2) + 500), context, /chunk 2 failed authentication/]);
    cases.push(['cut in the header', ciphertext.subarray(0, 30), context, /truncated/]);
    const swapped = Buffer.concat([ciphertext.subarray(0, chunkAt(1)), ciphertext.subarray(chunkAt(2), chunkAt(3)), ciphertext.subarray(chunkAt(1), chunkAt(2)), ciphertext.subarray(chunkAt(3))]);
    cases.push(['chunks 1 and 2 swapped', swapped, context, /chunk 1 failed authentication/]);
    for (let k = 0; k <= 4; k++) {
      const flipped = Buffer.from(ciphertext);
      flipped[chunkAt(k) + 3] = (flipped[chunkAt(k) + 3] ?? 0) ^ 1;
      cases.push([`flipped byte in chunk ${k}`, flipped, context, new RegExp(`chunk ${k} failed authentication`)]);
    }
    cases.push(['appended bytes', Buffer.concat([ciphertext, Buffer.alloc(3)]), context, /chunk 4 failed authentication/]);
    cases.push(['appended full chunk', Buffer.concat([ciphertext, ciphertext.subarray(chunkAt(0), chunkAt(1))]), context, /failed authentication/]);
    cases.push(['wrong context', ciphertext, Buffer.from('vault:1234/attachment:9999'), /commitment/]);
    for (const [desc, tampered, ctx, message] of cases) {
      let caught: unknown;
      try {
        decryptChunked(key, ctx, tampered);
      } catch (error) {
        caught = error;
      }
      expect(caught, desc).toBeInstanceOf(ChunkedDecryptionError);
      const text = (caught as Error).message;
      expect(text, desc).toMatch(message);
      expect(text).not.toContain(key.toString('hex'));
      expect(text).not.toContain(key.toString('base64'));
    }
    expect(() => decryptChunked(randomBytes(32), context, ciphertext)).toThrow(/commitment/);
  });

  test('rejects keys of the wrong size', () => {
    expect(() => encryptChunked(randomBytes(16), context, Buffer.alloc(1))).toThrow(/32 bytes/);
    expect(() => createDecryptStream(randomBytes(31), context)).toThrow(/32 bytes/);
  });
});

describe('memory', () => {
  // 256 MiB is four times the memory bound below, enough to show memory stays flat; the timeout
  // is for a machine whose cores are all busy (the stress run), not a speed limit.
  test('256 MiB streams through encrypt and decrypt with flat memory', async () => {
    const total = 256 * 1024 * 1024;
    const block = 1024 * 1024;
    const template = randomBytes(block);
    const key = randomBytes(32);
    const context = Buffer.from('memory test');
    const sourceHash = createHash('sha256');
    let produced = 0;
    // Generated on demand: each block is the template with its index stamped in, so no
    // two blocks are equal and nothing holds the whole input.
    const source = new Readable({
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        const chunk = Buffer.from(template);
        chunk.writeUInt32BE(produced / block, 0);
        produced += block;
        sourceHash.update(chunk);
        this.push(chunk);
      },
    });
    const sinkHash = createHash('sha256');
    let received = 0;
    let peakRss = 0;
    let producedAtFirstOutput = -1;
    const baseline = process.memoryUsage().rss;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (producedAtFirstOutput < 0) producedAtFirstOutput = produced;
        sinkHash.update(chunk);
        received += chunk.length;
        if ((received & (32 * 1024 * 1024 - 1)) < chunk.length) peakRss = Math.max(peakRss, process.memoryUsage().rss);
        callback();
      },
    });
    await pipeline(source, createEncryptStream(key, context), createDecryptStream(key, context), sink);
    expect(received).toBe(total);
    // Plaintext came out while the source was still producing: nothing waited for the whole input.
    expect(producedAtFirstOutput).toBeLessThan(16 * block);
    expect(sinkHash.digest('hex')).toBe(sourceHash.digest('hex'));
    expect(peakRss - baseline).toBeLessThan(64 * 1024 * 1024);
  }, 300_000);
});
