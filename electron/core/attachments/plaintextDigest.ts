// Size and SHA-256 of an attachment's plaintext, computed beside the encryption instead of
// after it. For large files the hashing runs on a helper thread: SHA-256 and AES-GCM then use
// both cores, and the bytes travel there and back in pooled buffers that are transferred,
// never copied. The pool has a fixed cap, so memory stays flat for files of any size and the
// caller simply waits (backpressure) when the thread falls behind.
//
// The thread and its buffers are kept for the next large file (one file at a time uses them)
// and end after a while unused. Starting a thread and filling 32 new buffers for every file
// cost more than the hashing gained on a machine where fresh memory is dear
// (docs/performance.md, "Attachments written past the page cache"). The thread zeroes each
// buffer once hashed, so no plaintext waits in the pool between files.
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Size and SHA-256 of an attachment's plaintext. */
export interface BlobDigest {
  size: number;
  sha256: Buffer;
}

/** Size of the buffers lent out by PlaintextDigest.acquire(). */
export const DIGEST_BUFFER_SIZE = 1024 * 1024;
/** From this expected size on, hashing runs on the helper thread (not worth the hand-offs below). */
export const HASH_THREAD_THRESHOLD = 32 * 1024 * 1024;
// Enough buffers for the caller to keep encrypting while the thread starts up; the cap on memory.
const THREAD_BUFFERS = 32;

/** Seam for tests: how long the thread waits unused for the next large file before it ends. */
export const testingOnly = { idleMs: 10_000 };

// Plain JavaScript evaluated as the worker's script: it needs no file of its own, so it works
// unchanged from the TypeScript sources (tests) and from every bundle (CLI, Electron).
// Protocol, in order: {buffer, length} is hashed, zeroed and sent back; 'digest' answers the
// SHA-256 of everything since the last 'digest' or 'reset'; 'reset' drops it (a file given up).
const WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let hash = createHash('sha256');
parentPort.on('message', (message) => {
  if (message === 'digest') {
    parentPort.postMessage(hash.digest());
    hash = createHash('sha256');
  } else if (message === 'reset') {
    hash = createHash('sha256');
  } else {
    const bytes = new Uint8Array(message.buffer, 0, message.length);
    hash.update(bytes);
    bytes.fill(0);
    parentPort.postMessage(message.buffer, [message.buffer]);
  }
});
`;

/** A fresh 1 MiB buffer with its own ArrayBuffer (not a slice of Node's pool), so it can be transferred. */
const newBuffer = (): Buffer<ArrayBuffer> => Buffer.from(new ArrayBuffer(DIGEST_BUFFER_SIZE));

/**
 * The process's hashing thread and its buffers, lent to one digest at a time. Idle, it does not
 * keep the process alive, and it ends after testingOnly.idleMs.
 */
class HashThread {
  static #current: HashThread | null = null;

  readonly #worker: Worker;
  readonly #free: Buffer<ArrayBuffer>[] = [];
  #allocated = 0;
  #leased = false;
  #waiting: { resolve: (buffer: Buffer<ArrayBuffer>) => void; reject: (error: Error) => void } | null = null;
  #digest: { resolve: (sha256: Buffer) => void; reject: (error: Error) => void } | null = null;
  #failure: Error | null = null;
  #idle: NodeJS.Timeout | undefined;

  private constructor() {
    // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, name: 'custody-sha256', execArgv: [], env: {} });
    this.#worker.on('message', (message: unknown) => this.#onMessage(message));
    this.#worker.on('error', (error) => this.#die(new Error(`the hashing thread failed: ${error.message}`)));
    this.#worker.on('exit', (code) => this.#die(new Error(`the hashing thread stopped (exit code ${code})`)));
  }

  /** The thread, for one digest until it calls end(); null while another digest has it, or when no thread can be started. */
  static lease(): HashThread | null {
    let thread = HashThread.#current;
    if (thread === null) {
      try {
        thread = new HashThread();
      } catch {
        return null; // no thread to be had (resource limits): the caller hashes inline
      }
      HashThread.#current = thread;
    }
    if (thread.#leased) return null;
    thread.#leased = true;
    clearTimeout(thread.#idle);
    thread.#worker.ref();
    return thread;
  }

  /** Ends the idle thread, if any (tests; and whoever wants its memory back at once). */
  static async close(): Promise<void> {
    const thread = HashThread.#current;
    if (thread === null || thread.#leased) return;
    HashThread.#current = null;
    clearTimeout(thread.#idle);
    await thread.#worker.terminate();
  }

  /** A buffer to fill; waits while every buffer is with the thread. */
  acquire(): Promise<Buffer<ArrayBuffer>> {
    if (this.#failure) return Promise.reject(this.#failure);
    const buffer = this.#free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.#allocated < THREAD_BUFFERS) {
      this.#allocated++;
      return Promise.resolve(newBuffer());
    }
    if (this.#waiting) return Promise.reject(new Error('PlaintextDigest.acquire() called while another call waits'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** Hashes the first `length` bytes of `buffer`, which is transferred (unusable here until it comes back). */
  hash(buffer: ArrayBuffer, length: number): void {
    if (this.#failure) throw this.#failure;
    this.#worker.postMessage({ buffer, length }, [buffer]);
  }

  /** The SHA-256 of everything hashed since the lease began. */
  digest(): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#digest = { resolve, reject };
      this.#worker.postMessage('digest');
    });
  }

  /**
   * Ends the lease. `abandoned` buffers were lent out and never handed back (the caller may
   * still hold them): they leave the pool. Without `digested`, the hash so far is dropped.
   */
  end(digested: boolean, abandoned: number): void {
    if (!this.#leased) return;
    this.#leased = false;
    this.#allocated -= abandoned;
    this.#waiting?.reject(new Error('the hashing thread was closed'));
    this.#digest?.reject(new Error('the hashing thread was closed'));
    this.#waiting = null;
    this.#digest = null;
    if (this.#failure) return;
    if (!digested) this.#worker.postMessage('reset');
    this.#worker.unref();
    this.#idle = setTimeout(() => void HashThread.close(), testingOnly.idleMs);
    this.#idle.unref();
  }

  #onMessage(message: unknown): void {
    if (message instanceof ArrayBuffer) {
      const buffer = Buffer.from(message);
      const waiting = this.#waiting;
      this.#waiting = null;
      if (waiting) waiting.resolve(buffer);
      else this.#free.push(buffer);
    } else if (message instanceof Uint8Array && this.#digest) {
      const { resolve } = this.#digest;
      this.#digest = null;
      resolve(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    }
  }

  #die(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    if (HashThread.#current === this) HashThread.#current = null;
    clearTimeout(this.#idle);
    this.#waiting?.reject(error);
    this.#digest?.reject(error);
    this.#waiting = null;
    this.#digest = null;
  }
}

/** Ends the idle hashing thread now, if there is one (tests). */
export function closeHashThread(): Promise<void> {
  return HashThread.close();
}

/**
 * Hashes bytes fed either through buffers it lends out (acquire, fill, release: no copy) or as
 * pieces (update: copied into those buffers). Always call dispose(), which gives the thread back.
 */
export class PlaintextDigest {
  // Inline for small inputs (or while another file has the thread), the helper thread for large ones.
  readonly #engine: { hash: Hash } | { thread: HashThread };
  readonly #free: Buffer<ArrayBuffer>[] = [];
  // Buffers lent to the caller and not yet released (by their ArrayBuffer).
  readonly #lent = new Set<ArrayBuffer>();
  #disposed = false;
  #digested = false;
  #size = 0;
  // update() copies pieces into this buffer until it is full.
  #filling: Buffer<ArrayBuffer> | null = null;
  #filled = 0;

  /** `expectedSize` (the file size) decides whether the helper thread pays off. */
  constructor(expectedSize: number) {
    const thread = expectedSize >= HASH_THREAD_THRESHOLD ? HashThread.lease() : null;
    this.#engine = thread ? { thread } : { hash: createHash('sha256') };
  }

  /** True when hashing runs on the helper thread. */
  get threaded(): boolean {
    return 'thread' in this.#engine;
  }

  /** A buffer of DIGEST_BUFFER_SIZE bytes to fill; waits while every buffer is out. */
  async acquire(): Promise<Buffer<ArrayBuffer>> {
    if (this.#disposed) throw new Error('the hashing thread was closed');
    // Inline, a released buffer is free again at once: the caller never holds more than a few.
    const buffer = 'thread' in this.#engine ? await this.#engine.thread.acquire() : (this.#free.pop() ?? newBuffer());
    this.#lent.add(buffer.buffer);
    return buffer;
  }

  /**
   * Hashes `filled`, the start of a buffer from acquire(), and takes that buffer back: the
   * caller must not touch it again.
   */
  release(filled: Buffer<ArrayBuffer>): void {
    if (this.#disposed) throw new Error('the hashing thread was closed');
    this.#lent.delete(filled.buffer);
    this.#size += filled.length;
    if ('hash' in this.#engine) {
      this.#engine.hash.update(filled);
      this.#free.push(Buffer.from(filled.buffer, filled.byteOffset, DIGEST_BUFFER_SIZE));
    } else {
      this.#engine.thread.hash(filled.buffer, filled.length);
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
    if (this.#disposed) throw new Error('the hashing thread was closed');
    this.#flushFilling();
    if ('hash' in this.#engine) return { size: this.#size, sha256: this.#engine.hash.digest() };
    const sha256 = await this.#engine.thread.digest();
    this.#digested = true;
    return { size: this.#size, sha256 };
  }

  /**
   * Gives the thread back (if any) and fails a caller still waiting for a buffer; safe to call
   * more than once and after a failure. A buffer still lent out is zeroed and left to the caller.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const buffer of this.#lent) if (buffer.byteLength > 0) new Uint8Array(buffer).fill(0);
    for (const buffer of this.#free) buffer.fill(0);
    if ('thread' in this.#engine) this.#engine.thread.end(this.#digested, this.#lent.size);
    this.#lent.clear();
  }

  #flushFilling(): void {
    if (this.#filling === null) return;
    this.release(this.#filling.subarray(0, this.#filled));
    this.#filling = null;
    this.#filled = 0;
  }
}
