// Attachment blobs on disk: one chunked-encrypted file per attachment under <vault>/attachments/.
// Everything streams (memory stays flat for multi-GB files) and every write is crash-safe:
// temp file beside the destination, fsync, rename, fsync of the directory.
import { fsyncDir } from '../util/atomicFile.ts';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, createEncryptStream, decryptChunked, encryptChunked } from '../crypto/chunked.ts';

/** Size and SHA-256 of an attachment's plaintext. */
export interface BlobDigest {
  size: number;
  sha256: Buffer;
}

/** Bytes of the source file processed so far, and its size. Called at most every 100 ms, and once at the end. */
export type ProgressCallback = (done: number, total: number) => void;

// Large reads, and a write buffer that lets the many small chunk buffers go out in one
// writev, keep syscalls and thread-pool round trips rare next to the 16 KiB chunk work.
const READ_SIZE = 1024 * 1024;
const WRITE_BUFFER = 4 * READ_SIZE;
const PROGRESS_INTERVAL_MS = 100;

class Digest {
  private readonly hash = createHash('sha256');
  private size = 0;

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  result(): BlobDigest {
    return { size: this.size, sha256: this.hash.digest() };
  }
}

class Progress {
  private done = 0;
  private lastReport = performance.now();

  constructor(
    private readonly total: number,
    private readonly onProgress: ProgressCallback | undefined,
  ) {}

  advance(bytes: number): void {
    this.done += bytes;
    if (this.onProgress === undefined) return;
    const now = performance.now();
    if (now - this.lastReport < PROGRESS_INTERVAL_MS) return;
    this.lastReport = now;
    this.onProgress(this.done, this.total);
  }

  finish(): void {
    this.onProgress?.(this.done, this.total);
  }
}

/** A pass-through stage that lets `observe` see every chunk. */
function tap(observe: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      observe(chunk);
      callback(null, chunk);
    },
  });
}

async function openSource(srcPath: string, onProgress: ProgressCallback | undefined): Promise<{ source: Readable; progress: Progress }> {
  const { size } = await stat(srcPath);
  const progress = new Progress(size, onProgress);
  return { source: createReadStream(srcPath, { highWaterMark: READ_SIZE }), progress };
}

/**
 * Lets `fill` write `destPath + '.tmp'`, then makes it durable and renames it over
 * `destPath`. If `fill` fails, the temp file is removed and `destPath` is never touched.
 */
async function writeAtomically(destPath: string, fill: (sink: Writable) => Promise<void>): Promise<void> {
  const tempPath = `${destPath}.tmp`;
  try {
    // flush: fsync before close, so the rename never exposes a file whose data is not on disk.
    await fill(createWriteStream(tempPath, { mode: 0o600, flush: true, highWaterMark: WRITE_BUFFER }));
    await rename(tempPath, destPath);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  fsyncDir(path.dirname(destPath));
}

/** Encrypts the file at `srcPath` into `destPath`; returns the plaintext's size and SHA-256. */
export async function encryptFile(
  srcPath: string,
  destPath: string,
  key: Uint8Array,
  context: Uint8Array,
  onProgress?: ProgressCallback,
): Promise<BlobDigest> {
  const { source, progress } = await openSource(srcPath, onProgress);
  const digest = new Digest();
  const observe = (chunk: Buffer): void => {
    digest.update(chunk);
    progress.advance(chunk.length);
  };
  await writeAtomically(destPath, (sink) => pipeline(source, tap(observe), createEncryptStream(key, context), sink));
  progress.finish();
  return digest.result();
}

/**
 * Decrypts the blob at `srcPath` into `destPath`. The plaintext goes to a temp file that is
 * renamed only after the whole ciphertext authenticated: a tampered or truncated blob
 * leaves nothing behind and rejects with ChunkedDecryptionError.
 */
export async function decryptFile(
  srcPath: string,
  destPath: string,
  key: Uint8Array,
  context: Uint8Array,
  onProgress?: ProgressCallback,
): Promise<BlobDigest> {
  const { source, progress } = await openSource(srcPath, onProgress);
  const digest = new Digest();
  await writeAtomically(destPath, (sink) =>
    pipeline(
      source,
      tap((chunk) => progress.advance(chunk.length)),
      createDecryptStream(key, context),
      tap((chunk) => digest.update(chunk)),
      sink,
    ),
  );
  progress.finish();
  return digest.result();
}

/** Authenticates the whole blob and returns its plaintext's size and SHA-256, writing nothing. */
export async function verifyBlob(srcPath: string, key: Uint8Array, context: Uint8Array, onProgress?: ProgressCallback): Promise<BlobDigest> {
  const { source, progress } = await openSource(srcPath, onProgress);
  const digest = new Digest();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      digest.update(chunk);
      callback();
    },
  });
  await pipeline(source, tap((chunk) => progress.advance(chunk.length)), createDecryptStream(key, context), sink);
  progress.finish();
  return digest.result();
}

/** Encrypts an in-memory attachment into `destPath` (crash-safe like encryptFile). */
export async function encryptBytesToFile(plaintext: Uint8Array, destPath: string, key: Uint8Array, context: Uint8Array): Promise<BlobDigest> {
  const ciphertext = encryptChunked(key, context, plaintext);
  await writeAtomically(destPath, (sink) => pipeline(Readable.from(ciphertext), sink));
  return { size: plaintext.length, sha256: createHash('sha256').update(plaintext).digest() };
}

/** Reads and decrypts a small blob into memory. */
export async function decryptFileToBytes(srcPath: string, key: Uint8Array, context: Uint8Array): Promise<Buffer> {
  return decryptChunked(key, context, await readFile(srcPath));
}
