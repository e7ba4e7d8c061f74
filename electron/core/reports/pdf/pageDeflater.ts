// Deflates the report's page content streams on a helper thread while this thread lays out the
// next pages: for 100,000 entries that is some 6,000 pages and 100 MB of operators, a good part
// of the export's time. Pages go over in batches (one message per ~1 MB, copied; never shared),
// come back deflated in one transferred buffer per batch, and are put into the document under
// the object number each took when it was drawn, so the file is the same bytes as with an
// in-line deflate. A document of a few pages is deflated in line: a thread is not worth it.
import { Worker } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';

/** zlib level 3 compresses these streams as well as the default level in half the time. */
export const PAGE_DEFLATE_LEVEL = 3;
const BATCH_BYTES = 1 << 20;
/** Pages kept in line before a thread is started (a short report never starts one). */
const INLINE_PAGES = 64;

// Plain JavaScript evaluated as the worker's script: it needs no file of its own, so it works
// unchanged from the TypeScript sources (tests) and from every bundle (CLI, Electron).
// Protocol: {id, pages: string[] (latin1)} -> {id, data: ArrayBuffer, ends: number[]}.
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { deflateSync } = require('node:zlib');
parentPort.on('message', ({ id, pages }) => {
  const parts = pages.map((p) => deflateSync(Buffer.from(p, 'latin1'), { level: workerData.level }));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const ends = [];
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
    ends.push(at);
  }
  parentPort.postMessage({ id, data: data.buffer, ends }, [data.buffer]);
});
`;

export class PageDeflater {
  #worker: Worker | undefined;
  #batch: string[] = [];
  #batchSink: ((deflated: Uint8Array) => void)[] = [];
  #batchBytes = 0;
  #sent = 0;
  #inline = 0;
  readonly #waiting = new Map<number, ((deflated: Uint8Array) => void)[]>();
  #failure: Error | undefined;
  #onDone: (() => void) | undefined;
  #onFail: ((e: Error) => void) | undefined;

  /** Deflates `content` (a page's operators, latin1); `put` receives the deflated bytes. */
  add(content: string, put: (deflated: Uint8Array) => void): void {
    if (this.#failure) throw this.#failure;
    if (this.#inline < INLINE_PAGES) {
      this.#inline++;
      put(deflateSync(Buffer.from(content, 'latin1'), { level: PAGE_DEFLATE_LEVEL }));
      return;
    }
    this.#batch.push(content);
    this.#batchSink.push(put);
    this.#batchBytes += content.length;
    if (this.#batchBytes >= BATCH_BYTES) this.#send();
  }

  /** Waits for every page given to add(), then ends the thread. */
  async settled(): Promise<void> {
    if (this.#batch.length > 0) this.#send();
    if (this.#waiting.size > 0 && !this.#failure)
      await new Promise<void>((resolve, reject) => {
        this.#onDone = resolve;
        this.#onFail = reject;
      });
    this.#stop();
    if (this.#failure) throw this.#failure;
  }

  /** Ends the thread without waiting (a render that failed). */
  dispose(): void {
    this.#stop();
  }

  #send(): void {
    const worker = (this.#worker ??= this.#start());
    const id = this.#sent++;
    this.#waiting.set(id, this.#batchSink);
    worker.postMessage({ id, pages: this.#batch });
    this.#batch = [];
    this.#batchSink = [];
    this.#batchBytes = 0;
  }

  #start(): Worker {
    // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'custody-pdf-deflate', execArgv: [], env: {}, workerData: { level: PAGE_DEFLATE_LEVEL } });
    worker.on('message', ({ id, data, ends }: { id: number; data: ArrayBuffer; ends: number[] }) => {
      const sinks = this.#waiting.get(id);
      if (!sinks) return;
      this.#waiting.delete(id);
      let start = 0;
      sinks.forEach((put, i) => {
        put(new Uint8Array(data, start, ends[i]! - start));
        start = ends[i]!;
      });
      if (this.#waiting.size === 0) this.#onDone?.();
    });
    worker.on('error', (e) => this.#fail(new Error(`the PDF deflating thread failed: ${e.message}`)));
    worker.on('exit', (code) => {
      // A thread that ended with nothing in hand is started again for the next batch.
      if (this.#worker === worker) this.#worker = undefined;
      if (this.#waiting.size > 0) this.#fail(new Error(`the PDF deflating thread stopped (exit code ${code})`));
    });
    return worker;
  }

  #fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    this.#onFail?.(e);
  }

  #stop(): void {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) {
      w.removeAllListeners();
      w.on('error', () => undefined);
      void w.terminate();
    }
  }
}
