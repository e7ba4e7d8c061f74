// Owns the core worker thread (docs/architecture.md, "Processes and trust"): forwards validated calls, correlates the
// replies, and relays core's events. The worker asks main for nothing: a method that needs a
// file dialog is planned, its dialog shown by main, then called with the path (dialogCalls.ts,
// core/api/protocol.ts). A worker that dies
// is reported (every pending and later call fails with INTERNAL), never silently restarted:
// its keys died with it, and a restart would hide whatever killed it.
// No electron import: the web shell (electron/web) hosts its worker with this too.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Envelope, EventName, Events, Method, UploadMethod } from '../shared/contract.ts';
import { UPLOAD_WINDOW, type DialogMethod, type DialogPlan, type FromWorker, type ToWorker, type WorkerConfig } from '../core/api/protocol.ts';
import type { DialogCore } from './dialogCalls.ts';
import { failure, type UploadSource } from './dispatch.ts';

export interface CoreHostOptions extends WorkerConfig {
  /** The built worker entry (out/main/coreWorker.js). */
  workerFile: URL;
}

type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

const STOPPED = 'the vault engine stopped unexpectedly; restart Custody (your data on disk is safe)';

export class CoreHost implements DialogCore {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (e: Envelope<unknown>) => void>();
  /** Per upload in flight: called with the bytes the worker acknowledged. */
  readonly #acks = new Map<number, (bytes: number) => void>();
  readonly #events = new EventEmitter();
  #nextId = 0;
  #dead: string | null = null;
  #closing: Promise<void> | null = null;

  constructor(opts: CoreHostOptions) {
    const { workerFile, ...config } = opts;
    const workerData: WorkerConfig = config;
    this.#worker = new Worker(workerFile, { workerData, name: 'custody-core' });
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m));
    this.#worker.on('error', (e) => this.#die(`core worker error: ${e.stack ?? e.message}`));
    this.#worker.on('exit', (code) => this.#die(`core worker exited with code ${code}`));
  }

  call(method: Method, request: unknown): Promise<Envelope<unknown>> {
    return this.#ask((id) => ({ type: 'call', id, method, request }));
  }

  /** Which dialog a dialog method needs before it runs (or why not now). */
  plan(method: DialogMethod, request: unknown): Promise<Envelope<DialogPlan>> {
    return this.#ask((id) => ({ type: 'plan', id, method, request })) as Promise<Envelope<DialogPlan>>;
  }

  /** A dialog method with the path(s) main's dialog gave. */
  callWithFiles(method: DialogMethod, request: unknown): Promise<Envelope<unknown>> {
    return this.#ask((id) => ({ type: 'call-with-files', id, method, request }));
  }

  #ask(message: (id: number) => ToWorker): Promise<Envelope<unknown>> {
    if (this.#dead || this.#closing) return Promise.resolve(failure('INTERNAL', STOPPED));
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#post(message(id));
    });
  }

  /**
   * Streams an upload's bytes to the worker, at most UPLOAD_WINDOW unacknowledged at a time
   * (backpressure: the body is read only as fast as the worker encrypts it). Stops reading
   * once the worker answered (e.g. refused the record); a body that breaks off aborts it.
   */
  async upload(method: UploadMethod, request: unknown, source: UploadSource): Promise<Envelope<unknown>> {
    if (this.#dead || this.#closing) return failure('INTERNAL', STOPPED);
    const id = ++this.#nextId;
    let answered = false;
    const reply = new Promise<Envelope<unknown>>((resolve) => this.#pending.set(id, resolve)).finally(() => (answered = true));
    let unacked = 0;
    let room: (() => void) | null = null;
    this.#acks.set(id, (bytes) => {
      unacked -= bytes;
      room?.();
    });
    this.#post({ type: 'upload', id, method, request, size: source.size });
    try {
      for await (const chunk of source.chunks) {
        if (answered) break;
        // A copy in its own ArrayBuffer, handed over (transferred) rather than cloned again.
        const data = new Uint8Array(chunk);
        unacked += data.byteLength;
        this.#worker.postMessage({ type: 'upload-chunk', id, data } satisfies ToWorker, [data.buffer]);
        while (unacked > UPLOAD_WINDOW && !answered) await Promise.race([reply, new Promise<void>((resolve) => (room = resolve))]);
      }
      if (!answered) this.#post({ type: 'upload-end', id });
    } catch {
      if (!answered) this.#post({ type: 'upload-abort', id });
    } finally {
      this.#acks.delete(id);
    }
    return reply;
  }

  /** Core's events (progress, index.ready). */
  onEvent(listener: EventListener): () => void {
    this.#events.on('event', listener);
    return () => this.#events.off('event', listener);
  }

  /** Called once if the worker dies (not on close()). */
  onCrash(listener: (detail: string) => void): void {
    this.#events.once('crash', listener);
  }

  get alive(): boolean {
    return this.#dead === null;
  }

  /** Locks and closes the vault, then ends the worker. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#dead) return resolve();
      const timer = setTimeout(() => void this.#worker.terminate().finally(resolve), 10_000);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#post({ type: 'close' });
    });
    return this.#closing;
  }

  #post(m: ToWorker): void {
    this.#worker.postMessage(m);
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'reply':
        this.#pending.get(m.id)?.(m.envelope);
        this.#pending.delete(m.id);
        break;
      case 'event':
        this.#events.emit('event', m.event, m.payload);
        break;
      case 'upload-ack':
        this.#acks.get(m.id)?.(m.bytes);
        break;
      case 'closed':
        break;
    }
  }

  #die(detail: string): void {
    if (this.#dead) return;
    this.#dead = detail;
    for (const resolve of this.#pending.values()) resolve(failure('INTERNAL', STOPPED));
    this.#pending.clear();
    if (!this.#closing) {
      console.error(`[custody] ${detail}`);
      this.#events.emit('crash', detail);
    }
  }
}
