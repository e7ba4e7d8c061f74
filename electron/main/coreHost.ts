// Owns the core worker thread (docs/architecture.md, "Processes and trust"): forwards validated calls, correlates the
// replies, relays core's events, and answers the worker's dialog requests. A worker that dies
// is reported (every pending and later call fails with INTERNAL), never silently restarted:
// its keys died with it, and a restart would hide whatever killed it.
// No electron import: the web shell (electron/web) hosts its worker with this too.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Envelope, EventName, Events, Method, UploadMethod } from '../shared/contract.ts';
import type { Dialogs } from '../core/api/handlers.ts';
import { UPLOAD_WINDOW, type FromWorker, type ToWorker, type WorkerConfig } from '../core/api/protocol.ts';
import { failure, type CoreBackend, type UploadSource } from './dispatch.ts';

export interface CoreHostOptions extends Omit<WorkerConfig, 'dialogs'> {
  /** The built worker entry (out/main/coreWorker.js). */
  workerFile: URL;
  dialogs: Dialogs | null;
}

type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

const STOPPED = 'the vault engine stopped unexpectedly; restart Custody (your data on disk is safe)';

export class CoreHost implements CoreBackend {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (e: Envelope<unknown>) => void>();
  /** Per upload in flight: called with the bytes the worker acknowledged. */
  readonly #acks = new Map<number, (bytes: number) => void>();
  readonly #events = new EventEmitter();
  readonly #dialogs: Dialogs | null;
  #nextId = 0;
  #dead: string | null = null;
  #closing: Promise<void> | null = null;

  constructor(opts: CoreHostOptions) {
    const { workerFile, dialogs, ...config } = opts;
    this.#dialogs = dialogs;
    const workerData: WorkerConfig = { ...config, dialogs: dialogs !== null };
    this.#worker = new Worker(workerFile, { workerData, name: 'custody-core' });
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m));
    this.#worker.on('error', (e) => this.#die(`core worker error: ${e.stack ?? e.message}`));
    this.#worker.on('exit', (code) => this.#die(`core worker exited with code ${code}`));
  }

  call(method: Method, request: unknown): Promise<Envelope<unknown>> {
    if (this.#dead || this.#closing) return Promise.resolve(failure('INTERNAL', STOPPED));
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#post({ type: 'call', id, method, request });
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
      case 'dialog':
        void this.#dialog(m.id, m.kind, m.arg);
        break;
      case 'closed':
        break;
    }
  }

  async #dialog(id: number, kind: keyof Dialogs, arg?: string): Promise<void> {
    let result: string[] | string | null = null;
    try {
      const d = this.#dialogs;
      if (d) {
        switch (kind) {
          case 'saveFile':
            result = await d.saveFile(arg ?? 'attachment');
            break;
          case 'saveReport':
            result = await d.saveReport(arg ?? 'custody-report.zip');
            break;
          case 'showInFolder':
            if (arg) await d.showInFolder(arg);
            break;
          case 'openCertificate':
            result = (await d.openCertificate?.()) ?? null;
            break;
          default:
            result = await d[kind]();
        }
      }
    } catch (e) {
      console.error('[custody] file dialog failed:', e instanceof Error ? e.message : String(e));
    }
    if (!this.#dead) this.#post({ type: 'dialog-result', id, result });
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
