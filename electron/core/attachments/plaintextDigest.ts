// Size and SHA-256 of an attachment's plaintext, computed beside the encryption instead of
// after it. For large files the hashing runs on a helper thread: SHA-256 and AES-GCM then use
// both cores, and the bytes travel there and back in pooled buffers that are transferred,
// never copied. The pool has a fixed cap, so memory stays flat for files of any size and the
// caller simply waits (backpressure) when the thread falls behind.
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Size and SHA-256 of an attachment's plaintext. */
export interface BlobDigest {
  size: number;
  sha256: Buffer;
}

/** Size of the buffers lent out by PlaintextDigest.acquire(). */
export const DIGEST_BUFFER_SIZE = 1024 * 1024;
/** From this expected size on, hashing runs on a helper thread (~50 ms to start: not worth it below). */
export const HASH_THREAD_THRESHOLD = 32 * 1024 * 1024;
// Enough buffers for the caller to keep encrypting while the thread starts up; the cap on memory.
const THREAD_BUFFERS = 32;

// Plain JavaScript evaluated as the worker's script: it needs no file of its own, so it works
// unchanged from the TypeScript sources (tests) and from every bundle (CLI, Electron).
// Protocol: {buffer, length} is hashed and the buffer sent back; 'digest' answers the SHA-256.
const WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (message) => {
  if (message === 'digest') {
    parentPort.postMessage(hash.digest());
    return;
  }
  hash.update(new Uint8Array(message.buffer, 0, message.length));
  parentPort.postMessage(message.buffer, [message.buffer]);
});
`;

/**
 * Hashes bytes fed either through buffers it lends out (acquire, fill, release: no copy) or as
 * pieces (update: copied into those buffers). Always call dispose(), which ends the thread.
 */
export class PlaintextDigest {
  // Inline for small inputs, a helper thread for large ones.
  readonly #engine: { hash: Hash } | { worker: Worker };
  readonly #maxBuffers: number;
  readonly #free: Buffer<ArrayBuffer>[] = [];
  #allocated = 0;
  #waiting: ((buffer: Buffer<ArrayBuffer>) => void) | null = null;
  #onDigest: ((sha256: Buffer) => void) | null = null;
  #onFailure: ((error: Error) => void) | null = null;
  #failure: Error | null = null;
  #disposed = false;
  #size = 0;
  // update() copies pieces into this buffer until it is full.
  #filling: Buffer<ArrayBuffer> | null = null;
  #filled = 0;

  /** `expectedSize` (the file size) decides whether a helper thread pays off. */
  constructor(expectedSize: number) {
    if (expectedSize < HASH_THREAD_THRESHOLD) {
      this.#engine = { hash: createHash('sha256') };
      // Inline, a released buffer is free again at once: the caller never holds more than a few.
      this.#maxBuffers = Infinity;
      return;
    }
    // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'custody-sha256', execArgv: [], env: {} });
    worker.on('message', (message: unknown) => this.#onMessage(message));
    worker.on('error', (error) => this.#fail(new Error(`the hashing thread failed: ${error.message}`)));
    worker.on('exit', (code) => this.#fail(new Error(`the hashing thread stopped (exit code ${code})`)));
    this.#engine = { worker };
    this.#maxBuffers = THREAD_BUFFERS;
  }

  /** True when hashing runs on a helper thread. */
  get threaded(): boolean {
    return 'worker' in this.#engine;
  }

  /** A buffer of DIGEST_BUFFER_SIZE bytes to fill; waits while every buffer is out. */
  acquire(): Promise<Buffer<ArrayBuffer>> {
    if (this.#failure) return Promise.reject(this.#failure);
    const buffer = this.#free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.#allocated < this.#maxBuffers) {
      this.#allocated++;
      // Its own ArrayBuffer (not a slice of Node's pool), so that it can be transferred.
      return Promise.resolve(Buffer.from(new ArrayBuffer(DIGEST_BUFFER_SIZE)));
    }
    if (this.#waiting) return Promise.reject(new Error('PlaintextDigest.acquire() called while another call waits'));
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#onFailure = reject;
    });
  }

  /**
   * Hashes `filled`, the start of a buffer from acquire(), and takes that buffer back: the
   * caller must not touch it again.
   */
  release(filled: Buffer<ArrayBuffer>): void {
    if (this.#failure) throw this.#failure;
    this.#size += filled.length;
    if ('hash' in this.#engine) {
      this.#engine.hash.update(filled);
      this.#recycle(Buffer.from(filled.buffer, filled.byteOffset, DIGEST_BUFFER_SIZE));
    } else {
      this.#engine.worker.postMessage({ buffer: filled.buffer, length: filled.length }, [filled.buffer]);
    }
  }

  /** Hashes `pieces` (plaintext in buffers it does not own: copied when handed to the thread). */
  async update(pieces: readonly Uint8Array[]): Promise<void> {
    for (const piece of pieces) {
      if ('hash' in this.#engine) {
        this.#engine.hash.update(piece);
        this.#size += piece.length;
        continue;
      }
      for (let offset = 0; offset < piece.length; ) {
        this.#filling ??= await this.acquire();
        const n = Math.min(piece.length - offset, DIGEST_BUFFER_SIZE - this.#filled);
        this.#filling.set(piece.subarray(offset, offset + n), this.#filled);
        this.#filled += n;
        offset += n;
        if (this.#filled === DIGEST_BUFFER_SIZE) this.#flushFilling();
      }
    }
  }

  /** Size and SHA-256 of everything fed so far; call once, at the end. */
  async result(): Promise<BlobDigest> {
    if (this.#failure) throw this.#failure;
    this.#flushFilling();
    const engine = this.#engine;
    if ('hash' in engine) return { size: this.#size, sha256: engine.hash.digest() };
    const sha256 = await new Promise<Buffer>((resolve, reject) => {
      this.#onDigest = resolve;
      this.#onFailure = reject;
      engine.worker.postMessage('digest');
    });
    return { size: this.#size, sha256 };
  }

  /** Ends the helper thread (if any): safe to call more than once and after a failure. */
  async dispose(): Promise<void> {
    if ('hash' in this.#engine || this.#disposed) return;
    this.#disposed = true;
    this.#fail(new Error('the hashing thread was closed'));
    await this.#engine.worker.terminate();
  }

  #flushFilling(): void {
    if (this.#filling === null) return;
    this.release(this.#filling.subarray(0, this.#filled));
    this.#filling = null;
    this.#filled = 0;
  }

  #recycle(buffer: Buffer<ArrayBuffer>): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = null;
      this.#onFailure = null;
      waiting(buffer);
    } else {
      this.#free.push(buffer);
    }
  }

  #onMessage(message: unknown): void {
    if (message instanceof ArrayBuffer) {
      this.#recycle(Buffer.from(message));
    } else if (message instanceof Uint8Array && this.#onDigest) {
      const onDigest = this.#onDigest;
      this.#onDigest = null;
      this.#onFailure = null;
      onDigest(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    }
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    const onFailure = this.#onFailure;
    this.#waiting = null;
    this.#onDigest = null;
    this.#onFailure = null;
    onFailure?.(error);
  }
}
