// Writes an attachment's ciphertext with O_DIRECT (Linux): straight to the disk, past the page
// cache. A vault blob is written once and read rarely, so caching it only evicts pages the
// user needs, and filling the cache is most of the cost of a buffered write: every page of a
// new file is a fresh page the kernel must find and copy into. On virtual machines whose
// balloon hands free memory back to the host, a fresh page can cost a fault in the host too,
// and that cost decided whole rounds of the attachment benchmark (docs/performance.md).
//
// O_DIRECT wants the memory, the file offset and the length aligned to the device's block size
// (512 bytes or 4 KiB). The ciphertext is copied into page-aligned stage buffers, written a
// whole stage at a time; the last stage is padded to a page and the file truncated back to its
// length. Where the file system refuses any of this, the writer falls back to ordinary writes
// on the same file, and where the platform has no O_DIRECT (macOS, Windows) it is never used.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Bytes per direct write. */
export const STAGE_SIZE = 1024 * 1024;
// One stage filling while the others wait for the disk: the bound on memory and on writes queued.
const STAGES = 4;
// Alignment of every direct write (offset and length); a page covers both usual block sizes.
const ALIGNMENT = 4096;
const WASM_PAGE = 65536;

// The main process's TypeScript lib has no WebAssembly types (they come with the DOM lib): the one constructor used.
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

/**
 * STAGES buffers of STAGE_SIZE bytes, each starting on a page boundary. A WebAssembly memory is
 * allocated in whole pages, so its buffer starts on one; an ordinary ArrayBuffer comes from
 * malloc and is only 16-byte aligned.
 */
function pageAlignedStages(): Buffer[] {
  const pages = (STAGE_SIZE * STAGES) / WASM_PAGE;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  return Array.from({ length: STAGES }, (_, i) => Buffer.from(memory.buffer, i * STAGE_SIZE, STAGE_SIZE));
}

/** The stage buffers, one set for the process, lent to one writer at a time. */
class StagePool {
  #stages: Buffer[] | null = null;
  #lent = false;

  /**
   * The stages, or null while another writer holds them or where they cannot be made (no
   * WebAssembly, as under --jitless): the caller then writes buffered.
   */
  take(): Buffer[] | null {
    if (this.#lent) return null;
    try {
      this.#stages ??= pageAlignedStages();
    } catch {
      return null;
    }
    this.#lent = true;
    return [...this.#stages];
  }

  give(): void {
    this.#lent = false;
  }
}

const pool = new StagePool();

/**
 * Seams for tests: whether O_DIRECT is tried at all, and an error every direct write fails with
 * ('EINVAL': a file system refusing O_DIRECT writes; anything else: a failing disk).
 */
export const testingOnly: { enabled: boolean; directWriteError: string | null } = {
  enabled: constants.O_DIRECT !== undefined,
  directWriteError: null,
};

/**
 * Appends ciphertext to a file through page-aligned O_DIRECT writes, one stage at a time, behind
 * the caller: it waits only when every stage is full and queued. Same contract as the buffered
 * writer: pieces are copied, errors surface on the next push() or in finish().
 */
export class DirectWriter {
  readonly #direct: FileHandle;
  readonly #file: FileHandle;
  readonly #free: Buffer[];
  readonly #pending: Promise<void>[] = [];
  #stage: Buffer | null = null;
  #filled = 0;
  #position = 0;
  #length = 0;
  #buffered = false;
  #failure: Error | null = null;
  #released = false;

  private constructor(direct: FileHandle, file: FileHandle, stages: Buffer[]) {
    this.#direct = direct;
    this.#file = file;
    this.#free = stages;
  }

  /**
   * A direct writer onto the file `file` has open, or null where O_DIRECT cannot be had (no such
   * flag, a file system that refuses it, the stages lent to another writer). The file is reopened
   * through /proc/self/fd, which names the open file itself: never another file put at its path.
   */
  static async over(file: FileHandle): Promise<DirectWriter | null> {
    if (!testingOnly.enabled || constants.O_DIRECT === undefined) return null;
    const stages = pool.take();
    if (stages === null) return null;
    try {
      const direct = await open(`/proc/self/fd/${file.fd}`, constants.O_WRONLY | constants.O_DIRECT);
      return new DirectWriter(direct, file, stages);
    } catch {
      pool.give();
      return null;
    }
  }

  /** Queues a copy of `pieces`. */
  async push(pieces: readonly Uint8Array[]): Promise<void> {
    this.#throwIfFailed();
    for (const piece of pieces) {
      for (let offset = 0; offset < piece.length; ) {
        if (this.#stage === null) {
          if (this.#free.length === 0) await this.#pending[0];
          this.#throwIfFailed();
          this.#stage = this.#free.pop() as Buffer;
        }
        const n = Math.min(piece.length - offset, STAGE_SIZE - this.#filled);
        this.#stage.set(piece.subarray(offset, offset + n), this.#filled);
        this.#filled += n;
        offset += n;
        if (this.#filled === STAGE_SIZE) this.#submit();
      }
    }
  }

  /** Writes everything queued, trims the padding and makes the file durable (fsync). */
  async finish(): Promise<void> {
    this.#throwIfFailed();
    if (this.#filled > 0) this.#submit();
    await this.settle();
    this.#throwIfFailed();
    // The last stage went out padded to a page (or, after a fallback, unpadded: then a no-op).
    await this.#file.truncate(this.#length);
    await this.#file.sync();
  }

  /** Waits until no write runs (they never reject: failures are kept). */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) await this.#pending[0];
  }

  /** Closes the direct handle and gives the stages back; after settle(), once. */
  async close(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.settle();
    pool.give();
    await this.#direct.close();
  }

  #submit(): void {
    const stage = this.#stage as Buffer;
    const length = this.#filled;
    const position = this.#position;
    this.#stage = null;
    this.#filled = 0;
    // Aligned up to a page: only the last stage is ever short, and its padding is truncated away.
    // Zeroed so that what lands past the end on disk is nothing, not the previous stage's bytes.
    const padded = Math.ceil(length / ALIGNMENT) * ALIGNMENT;
    stage.fill(0, length, padded);
    this.#position += padded;
    this.#length = position + length;
    // Writes run one after another, in order, each at its own offset.
    const previous = this.#pending.at(-1) ?? Promise.resolve();
    const write = previous
      .then(() => (this.#failure ? undefined : this.#write(stage, length, padded, position)))
      .catch((error: unknown) => {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.#pending.shift();
        this.#free.push(stage);
      });
    this.#pending.push(write);
  }

  async #write(stage: Buffer, length: number, padded: number, position: number): Promise<void> {
    if (!this.#buffered) {
      try {
        const forced = testingOnly.directWriteError;
        if (forced !== null) throw Object.assign(new Error(`${forced}: forced by a test, write`), { code: forced });
        const { bytesWritten } = await this.#direct.write(stage, 0, padded, position);
        if (bytesWritten !== padded) throw new Error(`could not write the attachment file (${bytesWritten} of ${padded} bytes written; is the disk full?)`);
        return;
      } catch (error) {
        // A file system that opens files for O_DIRECT but will not take these writes: finish
        // through the page cache, on the same file.
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
        this.#buffered = true;
      }
    }
    const { bytesWritten } = await this.#file.write(stage, 0, length, position);
    if (bytesWritten !== length) throw new Error(`could not write the attachment file (${bytesWritten} of ${length} bytes written; is the disk full?)`);
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }
}
