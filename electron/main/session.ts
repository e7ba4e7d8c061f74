// What both shells (Electron main, the web shell) do around core calls: validate them, lock
// on request, after idle time or on suspend, and keep the auto-lock settings current.
// No electron import: the shell supplies how idle time is measured and what a lock does to
// the UI (Electron reloads the window; the web shell tells the page, which reloads itself).
import type { Envelope, Events, Method, Settings, VaultStatusView } from '../shared/contract.ts';
import { DEFAULT_SETTINGS } from '../core/api/settings.ts';
import { dispatch, failure, validateUpload, type CoreBackend, type UploadSource } from './dispatch.ts';

export type LockReason = Events['locked']['reason'];

export interface SessionOptions {
  backend: CoreBackend;
  /** Seconds since the user last did anything (system idle time, or since the last call). */
  idleSeconds(): number;
  /** After the vault was locked (keys wiped in core): drop the UI's decrypted views. */
  onLocked(reason: LockReason): void;
  /** How often the idle timer looks (tests use less). */
  checkEveryMs?: number;
}

const STATUS_METHODS: ReadonlySet<Method> = new Set(['vault.status', 'vault.unlock', 'vault.lock', 'vault.recover']);

export class Session {
  #settings: Settings = { ...DEFAULT_SETTINGS };
  #unlocked = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #locking: Promise<void> | null = null;

  constructor(private readonly opts: SessionOptions) {}

  get settings(): Readonly<Settings> {
    return this.#settings;
  }

  /** Loads the settings and starts the idle timer. */
  async start(): Promise<void> {
    await this.#reloadSettings();
    this.#timer = setInterval(() => void this.#checkIdle(), this.opts.checkEveryMs ?? 15_000);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One call from the UI: validated, forwarded, and its side effects applied. */
  async call(method: unknown, raw: unknown): Promise<Envelope<unknown>> {
    const env = await dispatch(this.opts.backend, method, raw);
    if (!env.ok) return env;
    if (method === 'settings.set') this.#settings = env.value as Settings;
    if (STATUS_METHODS.has(method as Method)) this.#unlocked = (env.value as VaultStatusView).unlocked;
    // At unlock the settings sealed in the vault replace the file's (which anyone able to
    // write the folder could have changed): the idle timer must follow them.
    if ((method === 'vault.unlock' || method === 'vault.recover') && this.#unlocked) await this.#reloadSettings();
    if (method === 'vault.lock') this.opts.onLocked('user');
    return env;
  }

  /** An upload (bytes streamed from the web shell's request body): validated like a call. */
  async upload(method: unknown, raw: unknown, source: UploadSource): Promise<Envelope<unknown>> {
    const v = validateUpload(method, raw);
    if (!v.ok) return v;
    if (!this.opts.backend.upload) return failure('BAD_REQUEST', 'uploads are not available here');
    return this.opts.backend.upload(v.method, v.request, source);
  }

  async #reloadSettings(): Promise<void> {
    const s = await this.opts.backend.call('settings.get', {});
    if (s.ok) this.#settings = s.value as Settings;
  }

  /** Locks from the shell (menu, idle, suspend, screen lock); the UI learns it through onLocked. */
  lock(reason: LockReason): Promise<void> {
    this.#locking ??= (async () => {
      try {
        const wasUnlocked = this.#unlocked;
        await this.opts.backend.call('vault.lock', {});
        this.#unlocked = false;
        if (wasUnlocked || reason === 'menu') this.opts.onLocked(reason);
      } finally {
        this.#locking = null;
      }
    })();
    return this.#locking;
  }

  /** Suspend and screen lock: locks when the setting asks for it. */
  async systemEvent(reason: 'suspend' | 'screen-lock'): Promise<void> {
    if (this.#settings.lockOnSuspend) await this.lock(reason);
  }

  async #checkIdle(): Promise<void> {
    const minutes = this.#settings.autoLockMinutes;
    if (!this.#unlocked || minutes === 0) return;
    if (this.opts.idleSeconds() >= minutes * 60) await this.lock('idle');
  }
}
