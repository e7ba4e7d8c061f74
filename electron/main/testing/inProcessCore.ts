// Main's core, in this process: the same surface as CoreHost (call, plan, callWithFiles,
// events, crash, close) over the real core handlers and a real vault, without the worker thread
// (whose entry exists only once built, in out/main/coreWorker.js). Main's tests use it in place
// of CoreHost; `calls` is what reached core, in order, as the worker would have received it.
import { EventEmitter } from 'node:events';
import type { Envelope, EventName, Events, Method } from '../../shared/contract.ts';
import { createCore, type CoreApi } from '../../core/api/handlers.ts';
import type { DialogMethod, DialogPlan } from '../../core/api/protocol.ts';
import type { CoreHostOptions } from '../coreHost.ts';

type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

export class InProcessCoreHost {
  /** Every instance made, so a test reaches the one main created. */
  static readonly instances: InProcessCoreHost[] = [];
  readonly options: CoreHostOptions;
  /** 'call': a plain call; 'plan': which dialog a dialog method needs; 'files': a dialog method with its path(s). */
  readonly calls: { kind: 'call' | 'plan' | 'files'; method: Method; request: unknown }[] = [];
  closed = false;
  readonly #core: CoreApi;
  readonly #events = new EventEmitter();

  constructor(options: CoreHostOptions) {
    this.options = options;
    this.#core = createCore({
      vaultDir: options.vaultDir,
      settingsFile: options.settingsFile,
      emit: (event, payload) => this.#events.emit('event', event, payload),
      nativeDialogs: options.nativeDialogs,
      shell: options.shell,
      appVersion: options.appVersion,
    });
    InProcessCoreHost.instances.push(this);
  }

  call(method: Method, request: unknown): Promise<Envelope<unknown>> {
    this.calls.push({ kind: 'call', method, request });
    return this.#core.invoke(method, request);
  }

  plan(method: DialogMethod, request: unknown): Promise<Envelope<DialogPlan>> {
    this.calls.push({ kind: 'plan', method, request });
    return this.#core.plan(method, request);
  }

  callWithFiles(method: DialogMethod, request: unknown): Promise<Envelope<unknown>> {
    this.calls.push({ kind: 'files', method, request });
    return this.#core.invokeWithFiles(method, request);
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
