// Main's core, in this process: the same CoreBackend surface as CoreHost (call, events, crash,
// close) over the real core handlers and a real vault, without the worker thread (whose entry
// exists only once built, in out/main/coreWorker.js). Main's tests use it in place of CoreHost.
import { EventEmitter } from 'node:events';
import type { Envelope, EventName, Events, Method } from '../../shared/contract.ts';
import { createCore, type CoreApi } from '../../core/api/handlers.ts';
import type { CoreHostOptions } from '../coreHost.ts';

type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

export class InProcessCoreHost {
  /** Every instance made, so a test reaches the one main created. */
  static readonly instances: InProcessCoreHost[] = [];
  readonly options: CoreHostOptions;
  readonly calls: { method: Method; request: unknown }[] = [];
  closed = false;
  readonly #core: CoreApi;
  readonly #events = new EventEmitter();

  constructor(options: CoreHostOptions) {
    this.options = options;
    this.#core = createCore({
      vaultDir: options.vaultDir,
      settingsFile: options.settingsFile,
      emit: (event, payload) => this.#events.emit('event', event, payload),
      dialogs: options.dialogs,
      shell: options.shell,
      appVersion: options.appVersion,
    });
    InProcessCoreHost.instances.push(this);
  }

  call(method: Method, request: unknown): Promise<Envelope<unknown>> {
    this.calls.push({ method, request });
    return this.#core.invoke(method, request);
  }

  onEvent(listener: EventListener): () => void {
    this.#events.on('event', listener);
    return () => this.#events.off('event', listener);
  }

  onCrash(listener: (detail: string) => void): void {
    this.#events.once('crash', listener);
  }

  /** What CoreHost does when its worker dies. */
  crash(detail: string): void {
    this.#events.emit('crash', detail);
  }

  get alive(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.#core.close();
  }
}
