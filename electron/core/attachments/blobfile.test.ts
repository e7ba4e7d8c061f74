import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ChunkedDecryptionError, chunkedCiphertextSize } from '../crypto/chunked.ts';
import { decryptFile, decryptFileToBytes, encryptBytesToFile, encryptFile, testingOnly, verifyBlob } from './blobfile.ts';
import { testingOnly as directTesting } from './directWriter.ts';
import { closeHashThread, HASH_THREAD_THRESHOLD } from './plaintextDigest.ts';

const key = randomBytes(32);
const context = Buffer.from('custody/attachment/v1 vault=V1 attachment=A1');
const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();
// Compares files by length and digest: deep equality on big Buffers is slow in vitest.
const fingerprint = (data: Uint8Array): string => `${data.length} bytes, sha256 ${sha256(data).toString('hex')}`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'custody-blobfile-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});
const at = (name: string): string => path.join(dir, name);
const flip = (data: Buffer, offset: number): Buffer => {
  const copy = Buffer.from(data);
  copy[offset] = (copy[offset] ?? 0) ^ 0x80;
  return copy;
};

// Vault blobs are written past the page cache where the platform allows it (O_DIRECT on Linux),
// through it elsewhere: the round trips run both ways on every platform that has both.
describe.each([
  ['written directly where possible', true],
  ['written through the page cache (no O_DIRECT)', false],
])('encryptFile / decryptFile / verifyBlob, %s', (_how, direct) => {
  const enabled = directTesting.enabled;
  beforeEach(() => {
    directTesting.enabled = enabled && direct;
  });
  afterEach(() => {
    directTesting.enabled = enabled;
  });

  test.each([0, 1, 16383, 16384, 16385, 3 * 16384, 3 * 1024 * 1024 + 7, 5 * 1024 * 1024 + 4097])('round trip of %i bytes', async (size) => {
    const plaintext = randomBytes(size);
    writeFileSync(at('plain.bin'), plaintext);

    const encrypted = await encryptFile(at('plain.bin'), at('blob'), key, context);
    expect(encrypted.size).toBe(size);
    expect(encrypted.sha256.equals(sha256(plaintext))).toBe(true);
    expect(statSync(at('blob')).size).toBe(chunkedCiphertextSize(size));
    if (process.platform !== 'win32') expect(statSync(at('blob')).mode & 0o777).toBe(0o600);

    const decrypted = await decryptFile(at('blob'), at('out.bin'), key, context);
    expect(decrypted).toEqual(encrypted);
    expect(fingerprint(readFileSync(at('out.bin')))).toBe(fingerprint(plaintext));
    expect(await verifyBlob(at('blob'), key, context)).toEqual(encrypted);
    expect(fingerprint(await decryptFileToBytes(at('blob'), key, context))).toBe(fingerprint(plaintext));
    expect(readdirSync(dir).sort()).toEqual(['blob', 'out.bin', 'plain.bin']);
  });

  test('encryptBytesToFile is interchangeable with encryptFile', async () => {
    const plaintext = randomBytes(40_000);
    const digest = await encryptBytesToFile(plaintext, at('blob'), key, context);
    expect(digest).toEqual({ size: plaintext.length, sha256: sha256(plaintext) });
    expect(await decryptFile(at('blob'), at('out.bin'), key, context)).toEqual(digest);
    expect(readFileSync(at('out.bin')).equals(plaintext)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['blob', 'out.bin']);
  });

  test('each encryption uses a fresh salt', async () => {
    const plaintext = randomBytes(100);
    await encryptBytesToFile(plaintext, at('a'), key, context);
    await encryptBytesToFile(plaintext, at('b'), key, context);
    expect(readFileSync(at('a')).equals(readFileSync(at('b')))).toBe(false);
  });

  test('replaces an existing destination atomically', async () => {
    writeFileSync(at('blob'), 'old content');
    await encryptBytesToFile(Buffer.from('new'), at('blob'), key, context);
    expect((await decryptFileToBytes(at('blob'), key, context)).toString()).toBe('new');
    expect(readdirSync(dir)).toEqual(['blob']);
  });

  test('progress is throttled, monotonic and ends at the total', async () => {
    const size = 6 * 1024 * 1024 + 5;
    writeFileSync(at('plain.bin'), randomBytes(size));
    const calls: Array<[number, number]> = [];
    await encryptFile(at('plain.bin'), at('blob'), key, context, (done, total) => calls.push([done, total]));
    // 385 chunks, 7 reads: far fewer callbacks than chunks, the last one complete.
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(7);
    expect(calls.at(-1)).toEqual([size, size]);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![0]);

    const blobSize = statSync(at('blob')).size;
    for (const run of [
      (cb: (d: number, t: number) => void) => decryptFile(at('blob'), at('out.bin'), key, context, cb),
      (cb: (d: number, t: number) => void) => verifyBlob(at('blob'), key, context, cb),
    ]) {
      const seen: Array<[number, number]> = [];
      await run((done, total) => seen.push([done, total]));
      expect(seen.length).toBeLessThanOrEqual(7);
      expect(seen.at(-1)).toEqual([blobSize, blobSize]);
    }
  });

  test('a failing encryption leaves no temp file and no destination', async () => {
    await expect(encryptFile(at('missing.bin'), at('blob'), key, context)).rejects.toThrow(/ENOENT/);
    // A directory stats fine but fails on the first read, after the temp file was created.
    mkdirSync(at('not-a-file'));
    await expect(encryptFile(at('not-a-file'), at('blob'), key, context)).rejects.toThrow(/EISDIR/);
    expect(readdirSync(dir)).toEqual(['not-a-file']);
  });
});

// The direct writer's stages go to one blob at a time; the others write through the page cache.
test('three blobs encrypted at once all round-trip', async () => {
  const plaintexts = [0, 1, 2].map((i) => randomBytes(3 * 1024 * 1024 + 1000 * i));
  plaintexts.forEach((p, i) => writeFileSync(at(`plain${i}`), p));
  const digests = await Promise.all(plaintexts.map((_, i) => encryptFile(at(`plain${i}`), at(`blob${i}`), key, context)));
  for (const [i, p] of plaintexts.entries()) {
    expect(digests[i]).toEqual({ size: p.length, sha256: sha256(p) });
    expect(statSync(at(`blob${i}`)).size).toBe(chunkedCiphertextSize(p.length));
    expect(fingerprint(await decryptFileToBytes(at(`blob${i}`), key, context))).toBe(fingerprint(p));
  }
});

describe('large files (SHA-256 on the helper thread)', () => {
  // Every worker thread started meanwhile (Node reports each with the 'worker' event), and its exit.
  let exits: Array<Promise<number>>;
  const onWorker = (worker: Worker): void => void exits.push(new Promise((resolve) => worker.once('exit', resolve)));
  beforeEach(async () => {
    // Each test starts without a hashing thread, so it sees the one its files start.
    await closeHashThread();
    exits = [];
    process.on('worker', onWorker);
  });
  afterEach(() => {
    process.off('worker', onWorker);
  });

  test('round trip above the threshold: one hashing thread serves the encryption, the decryption and the verification, and can be ended', async () => {
    const plaintext = Buffer.concat([randomBytes(1024 * 1024), Buffer.alloc(HASH_THREAD_THRESHOLD - 1024 * 1024 + 4321, 0x5a)]);
    writeFileSync(at('plain.bin'), plaintext);
    const encrypted = await encryptFile(at('plain.bin'), at('blob'), key, context);
    expect(encrypted).toEqual({ size: plaintext.length, sha256: sha256(plaintext) });
    expect(statSync(at('blob')).size).toBe(chunkedCiphertextSize(plaintext.length));
    expect(await decryptFile(at('blob'), at('out.bin'), key, context)).toEqual(encrypted);
    expect(fingerprint(readFileSync(at('out.bin')))).toBe(fingerprint(plaintext));
    expect(await verifyBlob(at('blob'), key, context)).toEqual(encrypted);
    expect(exits).toHaveLength(1);
    await closeHashThread();
    await Promise.all(exits);
    expect(readdirSync(dir).sort()).toEqual(['blob', 'out.bin', 'plain.bin']);
  });

  test('a file given up part-way leaves no temp file, and the next file on the same thread gets its own digest', async () => {
    const plaintext = randomBytes(HASH_THREAD_THRESHOLD + 100);
    writeFileSync(at('plain.bin'), plaintext);
    await expect(encryptFile(at('plain.bin'), at('missing-dir/blob'), key, context)).rejects.toThrow(/ENOENT/);
    const encrypted = await encryptFile(at('plain.bin'), at('blob'), key, context);
    expect(encrypted).toEqual({ size: plaintext.length, sha256: sha256(plaintext) });
    // Two reads of chunks are hashed before chunk 130 fails: the thread must drop them.
    writeFileSync(at('tampered'), flip(readFileSync(at('blob')), 56 + 130 * 16_400 + 10));
    await expect(decryptFile(at('tampered'), at('out.bin'), key, context)).rejects.toThrow(/chunk 130 failed authentication/);
    await expect(verifyBlob(at('tampered'), key, context)).rejects.toBeInstanceOf(ChunkedDecryptionError);
    expect(await verifyBlob(at('blob'), key, context)).toEqual(encrypted);
    expect(exits).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual(['blob', 'plain.bin', 'tampered']);
  });
});

// Linux's /dev/full fails every write with ENOSPC: a disk that fills up part-way.
// /dev/full also refuses O_DIRECT at open: this covers the fallback to the page-cache writer.
test.runIf(existsSync('/dev/full'))('a full disk fails the encryption and leaves nothing behind', async () => {
  writeFileSync(at('plain.bin'), randomBytes(5 * 1024 * 1024));
  const openTemp = testingOnly.openTemp;
  testingOnly.openTemp = () => open('/dev/full', 'w');
  try {
    await expect(encryptFile(at('plain.bin'), at('blob'), key, context)).rejects.toThrow(/ENOSPC/);
  } finally {
    testingOnly.openTemp = openTemp;
  }
  expect(readdirSync(dir)).toEqual(['plain.bin']);
});

describe('tampered blobs are rejected and leave nothing behind', () => {
  const plaintext = randomBytes(4 * 16384 + 1000);
  const chunkAt = (k: number): number => 56 + k * 16400;

  const tamperings: Array<[string, (blob: Buffer) => Buffer, RegExp]> = [
    ['truncated at a chunk boundary', (b) => b.subarray(0, chunkAt(4)), /truncated/],
    ['truncated to the header', (b) => b.subarray(0, chunkAt(0)), /truncated/],
    ['truncated mid-chunk', (b) => b.subarray(0, chunkAt(3) + 9000), /chunk 3 failed authentication/],
    ['truncated inside the header', (b) => b.subarray(0, 40), /truncated/],
    ['empty file', () => Buffer.alloc(0), /truncated/],
    [
      'chunks 0 and 1 swapped',
      (b) => Buffer.concat([b.subarray(0, chunkAt(0)), b.subarray(chunkAt(1), chunkAt(2)), b.subarray(chunkAt(0), chunkAt(1)), b.subarray(chunkAt(2))]),
      /chunk 0 failed authentication/,
    ],
    ['flipped byte in the salt', (b) => flip(b, 5), /commitment/],
    ['flipped byte in the commitment', (b) => flip(b, 40), /commitment/],
    ...[0, 1, 2, 3, 4].map((k): [string, (blob: Buffer) => Buffer, RegExp] => [
      `flipped byte in chunk ${k}`,
      (b) => flip(b, chunkAt(k) + 100),
      new RegExp(`chunk ${k} failed authentication`),
    ]),
    ['flipped byte in the last tag', (b) => flip(b, b.length - 1), /chunk 4 failed authentication/],
    ['appended bytes', (b) => Buffer.concat([b, Buffer.from('trailing')]), /chunk 4 failed authentication/],
  ];

  test.each(tamperings)('%s', async (_desc, tamper, message) => {
    await encryptBytesToFile(plaintext, at('good'), key, context);
    writeFileSync(at('blob'), tamper(readFileSync(at('good'))));
    writeFileSync(at('existing.bin'), 'keep me');

    await expect(decryptFile(at('blob'), at('out.bin'), key, context)).rejects.toThrow(message);
    await expect(decryptFile(at('blob'), at('existing.bin'), key, context)).rejects.toBeInstanceOf(ChunkedDecryptionError);
    await expect(verifyBlob(at('blob'), key, context)).rejects.toBeInstanceOf(ChunkedDecryptionError);
    await expect(decryptFileToBytes(at('blob'), key, context)).rejects.toThrow(message);
    expect(readdirSync(dir).sort()).toEqual(['blob', 'existing.bin', 'good']);
    expect(readFileSync(at('existing.bin'), 'utf8')).toBe('keep me');
  });

  test('wrong context or key', async () => {
    await encryptBytesToFile(plaintext, at('blob'), key, context);
    const otherContext = Buffer.from('custody/attachment/v1 vault=V1 attachment=A2');
    await expect(decryptFile(at('blob'), at('out.bin'), key, otherContext)).rejects.toThrow(/commitment/);
    await expect(decryptFile(at('blob'), at('out.bin'), randomBytes(32), context)).rejects.toThrow(/commitment/);
    await expect(verifyBlob(at('blob'), key, otherContext)).rejects.toBeInstanceOf(ChunkedDecryptionError);
    expect(readdirSync(dir)).toEqual(['blob']);
  });
});

describe('vectors through files', () => {
  const vectors = JSON.parse(readFileSync(path.resolve(process.cwd(), 'testdata/chunked-encryption/vectors.json'), 'utf8')) as {
    inputKey: string;
    context: string;
    cases: Array<{ desc: string; plaintextSha256: string | null; plaintextLength: number | null; ciphertext: string; wantErr: boolean }>;
  };
  const vectorKey = Buffer.from(vectors.inputKey, 'base64');
  const vectorContext = Buffer.from(vectors.context, 'base64');

  test.each(vectors.cases.map((c) => [c.desc, c] as const))('%s', async (_desc, c) => {
    writeFileSync(at('blob'), Buffer.from(c.ciphertext, 'base64'));
    const run = decryptFile(at('blob'), at('out.bin'), vectorKey, vectorContext);
    if (c.wantErr) {
      await expect(run).rejects.toBeInstanceOf(ChunkedDecryptionError);
      expect(readdirSync(dir)).toEqual(['blob']);
    } else {
      const digest = await run;
      expect(digest.size).toBe(c.plaintextLength);
      expect(digest.sha256.toString('hex')).toBe(c.plaintextSha256);
      expect(sha256(readFileSync(at('out.bin'))).toString('hex')).toBe(c.plaintextSha256);
    }
  });
});
