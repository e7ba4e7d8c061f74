// The worker's end of an upload: chunks posted by main, read by the encryption as an async
// iterable. Each chunk is acknowledged (so main sends more) and zeroed once the reader asks
// for the next one, i.e. once it was encrypted and hashed: plaintext does not linger here.
import { CustodyError } from '../../shared/errors.ts';

export class UploadInbox implements AsyncIterable<Uint8Array> {
  readonly #chunks: Uint8Array[] = [];
  #ended = false;
  #failure: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(private readonly ack: (bytes: number) => void) {}

  push(chunk: Uint8Array): void {
    if (this.#ended || this.#failure) return;
    this.#chunks.push(chunk);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** The sender gave up: the reader fails at its next step, and queued chunks are zeroed. */
  abort(): void {
    this.#failure ??= new CustodyError('BAD_REQUEST', 'the upload was interrupted before it finished');
    for (const c of this.#chunks.splice(0)) c.fill(0);
    this.#notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      const chunk = this.#chunks.shift();
      if (chunk) {
        try {
          yield chunk;
        } finally {
          chunk.fill(0);
        }
        this.ack(chunk.byteLength);
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
