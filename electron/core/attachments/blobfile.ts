// Attachment blobs on disk: one chunked-encrypted file per attachment under <vault>/attachments/.
// Everything streams (memory stays flat for multi-GB files) and every write is crash-safe:
// temp file beside the destination, fsync, rename, fsync of the directory.
//
// Throughput: AES-GCM runs on this thread, the plaintext's SHA-256 on a helper thread for
// large files (PlaintextDigest), and file reads and writes in libuv's thread pool, all at
// once: reads are queued a few MiB ahead of the encryption, and ciphertext goes out behind
// it, past the page cache where the platform allows (DirectWriter: a vault blob is written
// once and rarely read) and otherwise in batched writevs (BatchWriter). Every stage is
// bounded (the digest's buffer pool, READ_AHEAD, the writers' queues), so a slow stage holds
// back the others instead of letting buffers pile up: memory stays flat (a few tens of MiB)
// whatever the file size.
import { fsyncDir } from '../util/atomicFile.ts';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createChunkOpener, createChunkSealer, decryptChunked, encryptChunked } from '../crypto/chunked.ts';
import { DirectWriter } from './directWriter.ts';
import { DIGEST_BUFFER_SIZE, PlaintextDigest, type BlobDigest } from './plaintextDigest.ts';

export type { BlobDigest } from './plaintextDigest.ts';

/** Bytes of the source file processed so far, and its size. Called at most every 100 ms, and once at the end. */
export type ProgressCallback = (done: number, total: number) => void;

// Large reads and batched writes keep syscalls and thread-pool round trips rare next to the
// 16 KiB chunk work; a batch is many small chunk buffers that go out in one writev. Small
// enough that the bytes are still in the CPU cache when the next stage touches them.
const READ_SIZE = DIGEST_BUFFER_SIZE;
const READ_AHEAD = 4;
const WRITE_BATCH = 2 * 1024 * 1024;
const MAX_QUEUED = 4 * 1024 * 1024;
const SYNC_INTERVAL = 32 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

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

/**
 * Reads `handle` from start to end into buffers from `acquire`, keeping READ_AHEAD reads
 * queued so the caller rarely waits for the disk (or for a busy thread pool). Reads run one
 * after another, each from where the previous one ended. A yielded view is valid until the
 * caller asks for the next one (or hands its buffer on, as PlaintextDigest.release does).
 */
async function* readAhead(handle: FileHandle, acquire: () => Promise<Buffer<ArrayBuffer>>): AsyncGenerator<Buffer<ArrayBuffer>> {
  let position = 0;
  let atEnd = false;
  let last: Promise<Buffer<ArrayBuffer>> = Promise.resolve(Buffer.alloc(0));
  const queue: Array<Promise<Buffer<ArrayBuffer>>> = [];
  const enqueue = (): void => {
    last = last.then(async () => {
      if (atEnd) return Buffer.alloc(0);
      const buffer = await acquire();
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      position += bytesRead;
      atEnd = bytesRead === 0;
      return buffer.subarray(0, bytesRead);
    });
    // Observed when it reaches the head of the queue; not an unhandled rejection before that.
    last.catch(() => undefined);
    queue.push(last);
  };
  try {
    for (let i = 0; i < READ_AHEAD; i++) enqueue();
    for (let head = queue.shift(); head; head = queue.shift()) {
      const chunk = await head;
      if (chunk.length === 0) return;
      enqueue();
      yield chunk;
    }
  } finally {
    // If the caller stopped early, let the reads in flight settle before the handle closes.
    await last.catch(() => undefined);
  }
}

/** Buffers taken in turn: enough for readAhead when the caller is done with each view at once. */
function bufferRing(): () => Promise<Buffer<ArrayBuffer>> {
  // READ_AHEAD queued plus the one the caller is working on.
  const ring = Array.from({ length: READ_AHEAD + 1 }, () => Buffer.allocUnsafe(READ_SIZE));
  let turn = 0;
  return () => {
    const buffer = ring[turn % ring.length] as Buffer<ArrayBuffer>;
    turn++;
    return Promise.resolve(buffer);
  };
}

/** Where a blob's bytes go: pieces are queued in order, finish() makes them durable. */
interface BlobWriter {
  /** Queues `pieces`, which must not change afterwards. */
  push(pieces: readonly Buffer[]): Promise<void>;
  /** Writes everything queued and makes it durable (fsync). */
  finish(): Promise<void>;
  /** Waits until no write runs (they never reject: failures are kept). */
  settle(): Promise<void>;
}

/**
 * Appends to a file in batches of many small buffers (one writev each). Writing runs
 * behind the caller: a batch starts as soon as the previous write finished, and the caller
 * waits only when MAX_QUEUED bytes are waiting (backpressure). Errors surface on the next
 * push() or in finish().
 */
class BatchWriter implements BlobWriter {
  readonly #handle: FileHandle;
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #position = 0;
  #writing: Promise<void> | null = null;
  #syncing: Promise<void> | null = null;
  #synced = 0;
  #failure: Error | null = null;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Queues `pieces`, which must not change afterwards. */
  async push(pieces: readonly Buffer[]): Promise<void> {
    this.#throwIfFailed();
    for (const piece of pieces) {
      this.#queued.push(piece);
      this.#queuedBytes += piece.length;
    }
    if (this.#queuedBytes < WRITE_BATCH) return;
    if (this.#writing === null) {
      this.#startWrite();
    } else if (this.#queuedBytes >= MAX_QUEUED) {
      await this.#writing; // which starts the next write
      this.#throwIfFailed();
    }
  }

  /** Writes everything queued and makes it durable (fsync). */
  async finish(): Promise<void> {
    await this.settle();
    this.#throwIfFailed();
    if (this.#queuedBytes > 0) this.#startWrite();
    await this.settle();
    this.#throwIfFailed();
    await this.#handle.sync();
  }

  /** Waits until no write or sync is running (they never reject: failures are kept). */
  async settle(): Promise<void> {
    while (this.#writing) await this.#writing;
    while (this.#syncing) await this.#syncing;
  }

  #startWrite(): void {
    const batch = this.#queued;
    const bytes = this.#queuedBytes;
    const position = this.#position;
    this.#queued = [];
    this.#queuedBytes = 0;
    this.#position += bytes;
    this.#writing = this.#handle.writev(batch, position).then(
      ({ bytesWritten }) => {
        this.#writing = null;
        // libuv retries short writes; a short count means it hit an error part-way (e.g. disk full).
        if (bytesWritten !== bytes) return this.#fail(new Error(`could not write the attachment file (${bytesWritten} of ${bytes} bytes written; is the disk full?)`));
        this.#startSync(position + bytes);
        if (this.#queuedBytes >= WRITE_BATCH) this.#startWrite();
      },
      (error: unknown) => {
        this.#writing = null;
        this.#fail(error);
      },
    );
  }

  // The kernel would otherwise keep a large file's pages dirty and write them all in the final
  // fsync, after the encryption; syncing as the file grows overlaps that disk work with it.
  #startSync(written: number): void {
    if (this.#syncing || written - this.#synced < SYNC_INTERVAL) return;
    this.#synced = written;
    this.#syncing = this.#handle.datasync().then(
      () => {
        this.#syncing = null;
      },
      (error: unknown) => {
        this.#syncing = null;
        this.#fail(error);
      },
    );
  }

  #fail(error: unknown): void {
    this.#failure ??= error instanceof Error ? error : new Error(String(error));
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }
}

/** Seam for tests: how the temp file is opened (one opens /dev/full to simulate a full disk). */
export const testingOnly = { openTemp: (tempPath: string): Promise<FileHandle> => open(tempPath, 'wx', 0o600) };

/** How a blob is written: `vault` ciphertext past the page cache where the platform allows (DirectWriter), the rest buffered. */
type WriteMode = 'vault' | 'buffered';

/**
 * Lets `fill` write a temp file beside `destPath`, then makes it durable and renames it over
 * `destPath`. If `fill` fails, the temp file is removed and `destPath` is never touched.
 * The temp name is unguessable and created exclusively ('wx': O_CREAT|O_EXCL, which never
 * follows a symlink someone placed there), and the rename replaces a symlink at `destPath`
 * instead of writing through it: plaintext never lands where a folder writer pointed it.
 */
async function writeAtomically(destPath: string, mode: WriteMode, fill: (writer: BlobWriter) => Promise<void>): Promise<void> {
  const tempPath = `${destPath}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const handle = await testingOnly.openTemp(tempPath);
    const direct = mode === 'vault' ? await DirectWriter.over(handle) : null;
    const writer = direct ?? new BatchWriter(handle);
    try {
      await fill(writer);
      // fsync before the rename, so the rename never exposes a file whose data is not on disk.
      await writer.finish();
    } finally {
      await writer.settle();
      await direct?.close();
      await handle.close();
    }
    await rename(tempPath, destPath);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  fsyncDir(path.dirname(destPath));
}

/**
 * Runs `work` with progress over `size` bytes and a digest sized for them; returns the digest
 * of what `work` fed it, and ends the digest (and its thread) however `work` ends.
 */
async function digesting(size: number, onProgress: ProgressCallback | undefined, work: (progress: Progress, digest: PlaintextDigest) => Promise<void>): Promise<BlobDigest> {
  const digest = new PlaintextDigest(size);
  try {
    const progress = new Progress(size, onProgress);
    await work(progress, digest);
    const result = await digest.result();
    progress.finish();
    return result;
  } finally {
    await digest.dispose();
  }
}

/**
 * Opens `srcPath` for `work`, with progress over its size and a digest sized for it; returns
 * the digest of what `work` fed it, and closes both.
 */
async function withSource(
  srcPath: string,
  onProgress: ProgressCallback | undefined,
  work: (source: FileHandle, progress: Progress, digest: PlaintextDigest) => Promise<void>,
): Promise<BlobDigest> {
  const source = await open(srcPath, 'r');
  try {
    const { size } = await source.stat();
    return await digesting(size, onProgress, (progress, digest) => work(source, progress, digest));
  } finally {
    await source.close();
  }
}

/**
 * Plaintext to seal, and how each piece reaches the digest once it is sealed: a file's pieces
 * are the digest's own lent buffers, handed back without a copy (release); pieces from a stream
 * or memory belong to their producer and are copied in (update).
 */
interface SealInput<P extends Uint8Array> {
  pieces: AsyncIterable<P> | Iterable<P>;
  digest(piece: P): void | Promise<void>;
}

/** The one encryption loop: seals `input` into `destPath` (crash-safe), digesting and counting each piece. */
async function seal<P extends Uint8Array>(destPath: string, key: Uint8Array, context: Uint8Array, input: SealInput<P>, progress: Progress): Promise<void> {
  await writeAtomically(destPath, 'vault', async (writer) => {
    const sealer = createChunkSealer(key, context);
    try {
      for await (const plaintext of input.pieces) {
        const out: Buffer[] = [];
        sealer.write(plaintext, out);
        // Sealed first: from here on a lent buffer belongs to the digest (maybe another thread).
        await input.digest(plaintext);
        progress.advance(plaintext.length);
        await writer.push(out);
      }
      const out: Buffer[] = [];
      sealer.final(out);
      await writer.push(out);
    } finally {
      // The derived keys and staged plaintext are zeroed however this ends, errors included.
      sealer.wipe();
    }
  });
}

/** Encrypts the file at `srcPath` into `destPath`; returns the plaintext's size and SHA-256. */
export async function encryptFile(
  srcPath: string,
  destPath: string,
  key: Uint8Array,
  context: Uint8Array,
  onProgress?: ProgressCallback,
): Promise<BlobDigest> {
  return withSource(srcPath, onProgress, (source, progress, digest) =>
    seal(destPath, key, context, { pieces: readAhead(source, () => digest.acquire()), digest: (piece) => digest.release(piece) }, progress),
  );
}

/** Authenticates and decrypts every chunk of `source`, hashing the plaintext and handing it to `sink`. */
async function openChunks(source: FileHandle, key: Uint8Array, context: Uint8Array, progress: Progress, digest: PlaintextDigest, sink: (plaintext: Buffer[]) => Promise<void>): Promise<void> {
  const opener = createChunkOpener(key, context);
  try {
    for await (const ciphertext of readAhead(source, bufferRing())) {
      const out: Buffer[] = [];
      opener.write(ciphertext, out);
      progress.advance(ciphertext.length);
      await digest.update(out);
      await sink(out);
    }
    const out: Buffer[] = [];
    opener.final(out);
    await digest.update(out);
    await sink(out);
  } finally {
    // The derived keys are zeroed however this ends (a tampered chunk, a read error).
    opener.wipe();
  }
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
  return withSource(srcPath, onProgress, (source, progress, digest) =>
    writeAtomically(destPath, 'buffered', (writer) => openChunks(source, key, context, progress, digest, (out) => writer.push(out))),
  );
}

/** Authenticates the whole blob and returns its plaintext's size and SHA-256, writing nothing. */
export async function verifyBlob(srcPath: string, key: Uint8Array, context: Uint8Array, onProgress?: ProgressCallback): Promise<BlobDigest> {
  return withSource(srcPath, onProgress, (source, progress, digest) => openChunks(source, key, context, progress, digest, async () => undefined));
}

/** Plaintext that is not in a file: an upload streamed from a request body, or bytes in memory. */
export interface PlaintextSource {
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** The size announced (progress, and whether hashing gets its own thread); the real size is counted. */
  size: number;
}

/** Bytes already in memory as a source, in slices so progress and the digest advance as it encrypts. */
export function bytesSource(data: Uint8Array): PlaintextSource {
  function* slices(): Generator<Uint8Array> {
    for (let i = 0; i < data.length; i += READ_SIZE) yield data.subarray(i, i + READ_SIZE);
  }
  return { chunks: slices(), size: data.length };
}

/**
 * Encrypts plaintext from `source` into `destPath` as it arrives: nothing but ciphertext ever
 * reaches the disk. Returns the plaintext's size and SHA-256.
 */
export async function encryptSource(source: PlaintextSource, destPath: string, key: Uint8Array, context: Uint8Array, onProgress?: ProgressCallback): Promise<BlobDigest> {
  return digesting(source.size, onProgress, (progress, digest) => seal(destPath, key, context, { pieces: source.chunks, digest: (piece) => digest.update([piece]) }, progress));
}

/**
 * Authenticates and decrypts the whole blob into memory (an attachment opened in the page),
 * writing nothing. On failure the plaintext gathered so far is zeroed.
 */
export async function decryptToMemory(srcPath: string, key: Uint8Array, context: Uint8Array, onProgress?: ProgressCallback): Promise<BlobDigest & { plaintext: Buffer }> {
  const pieces: Buffer[] = [];
  try {
    const digest = await withSource(srcPath, onProgress, (source, progress, d) =>
      openChunks(source, key, context, progress, d, async (out) => {
        pieces.push(...out);
      }),
    );
    return { ...digest, plaintext: Buffer.concat(pieces) };
  } finally {
    for (const p of pieces) p.fill(0);
  }
}

/** Encrypts an in-memory attachment into `destPath` (crash-safe like encryptFile). */
export async function encryptBytesToFile(plaintext: Uint8Array, destPath: string, key: Uint8Array, context: Uint8Array): Promise<BlobDigest> {
  const ciphertext = encryptChunked(key, context, plaintext);
  await writeAtomically(destPath, 'buffered', (writer) => writer.push([ciphertext]));
  return { size: plaintext.length, sha256: createHash('sha256').update(plaintext).digest() };
}

/** Reads and decrypts a small blob into memory. */
export async function decryptFileToBytes(srcPath: string, key: Uint8Array, context: Uint8Array): Promise<Buffer> {
  return decryptChunked(key, context, await readFile(srcPath));
}

/**
 * Re-encrypts the blob at `srcPath` under `newKey` into `destPath` (crash-safe, as every blob
 * write), chunk by chunk: the old blob is authenticated as it is read, and the plaintext never
 * leaves memory. Returns the plaintext's size and SHA-256, to compare with the recorded ones.
 */
export async function reencryptBlob(srcPath: string, destPath: string, oldKey: Uint8Array, newKey: Uint8Array, context: Uint8Array, onProgress?: ProgressCallback): Promise<BlobDigest> {
  return withSource(srcPath, onProgress, (source, progress, digest) =>
    writeAtomically(destPath, 'vault', async (writer) => {
      const sealer = createChunkSealer(newKey, context);
      try {
        await openChunks(source, oldKey, context, progress, digest, async (plaintext) => {
          const out: Buffer[] = [];
          for (const p of plaintext) sealer.write(p, out);
          await writer.push(out);
        });
        const out: Buffer[] = [];
        sealer.final(out);
        await writer.push(out);
      } finally {
        sealer.wipe();
      }
    }),
  );
}
