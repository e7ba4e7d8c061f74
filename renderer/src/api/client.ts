// The renderer's one way to core: `window.custody` when the desktop preload provided it, else
// the loopback web shell (fetch + server-sent events) when the page runs in a plain browser.
// Both speak electron/shared/contract.ts; a failed call rejects with a CustodyError (`.code`).
import { METHOD_NAMES, uploads, type CustodyApi, type CustodyBridge, type Envelope, type EventName, type Events, type Method } from '../../../electron/shared/contract.ts';
import { CustodyError, ERROR_CODES, type ErrorCode } from '../../../electron/shared/errors.ts';
import { parseWire, stringifyWire } from '../../../electron/shared/wire.ts';

declare global {
  interface Window {
    custody?: CustodyBridge;
  }
}

type Listener = (payload: unknown) => void;

let api: CustodyApi | null = null;

/** The API for this page (created once). */
export function getApi(): CustodyApi {
  api ??= window.custody ? fromBridge(window.custody) : webClient();
  return api;
}

function unwrap<T>(env: Envelope<T>): T {
  if (env.ok) return env.value;
  const retryAfter = env.error.retryAfter;
  throw new CustodyError(env.error.code, env.error.message, typeof retryAfter === 'number' && Number.isFinite(retryAfter) ? retryAfter : undefined);
}

function fromBridge(bridge: CustodyBridge): CustodyApi {
  const out: Record<string, unknown> = { on: bridge.on };
  for (const m of METHOD_NAMES) {
    const call = bridge[m] as (request: unknown) => Promise<Envelope<unknown>>;
    out[m] = async (request: unknown) => unwrap(await call(request ?? {}));
  }
  return out as unknown as CustodyApi;
}

// ---- web shell ---------------------------------------------------------------------------

const TOKEN_KEY = 'custody.token';

/**
 * The page gets its token in the URL fragment (never sent to the server, never in logs) and
 * keeps it in sessionStorage so the reload after a lock still works; the fragment is then
 * removed from the address bar.
 */
function accessToken(): string | null {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (m?.[1]) {
    window.sessionStorage.setItem(TOKEN_KEY, m[1]);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return window.sessionStorage.getItem(TOKEN_KEY);
}

/** Methods the web shell takes as a streamed upload (electron/shared/contract.ts `uploads`). */
const UPLOAD_METHODS: ReadonlySet<string> = new Set(Object.keys(uploads));
const isUpload = (method: Method, request: unknown): request is { data: Uint8Array<ArrayBuffer> } & Record<string, unknown> =>
  UPLOAD_METHODS.has(method) && request !== null && typeof request === 'object' && (request as { data?: unknown }).data instanceof Uint8Array;

const isErrorCode = (c: unknown): c is ErrorCode => typeof c === 'string' && (ERROR_CODES as readonly string[]).includes(c);

function webClient(): CustodyApi {
  const token = accessToken();
  const headers = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  const listeners = new Map<EventName, Set<Listener>>();

  async function call(method: Method, request: unknown): Promise<unknown> {
    if (!token) throw new CustodyError('BAD_REQUEST', 'this page was opened without its access token: open the address printed by `npm run start:web`');
    const res = isUpload(method, request) ? await upload(method, request) : await fetch(`/api/call/${encodeURIComponent(method)}`, {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'application/json' },
      // Uint8Array fields as {"$bytes": "<base64>"}: the web shell decodes them with the same module.
      body: stringifyWire(request ?? {}),
      cache: 'no-store',
    });
    const text = await res.text();
    let env: Envelope<unknown>;
    try {
      env = parseWire(text) as Envelope<unknown>;
    } catch {
      throw new CustodyError('INTERNAL', `the web shell answered HTTP ${res.status} without a result`);
    }
    if (!env.ok && !isErrorCode(env.error?.code)) throw new CustodyError('INTERNAL', `the web shell answered HTTP ${res.status}`);
    return unwrap(env);
  }

  /**
   * Attachment bytes go as the raw request body, which the shell streams into the vault's
   * encryption (no base64 copy here, no whole copy there); the rest of the call rides in a header.
   */
  function upload(method: Method, request: { data: Uint8Array<ArrayBuffer> } & Record<string, unknown>): Promise<Response> {
    const { data, ...rest } = request;
    return fetch(`/api/upload/${encodeURIComponent(method)}`, {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'application/octet-stream', 'x-custody-request': encodeURIComponent(JSON.stringify(rest)) },
      body: data,
      cache: 'no-store',
    });
  }

  function emit(event: string, payload: unknown): void {
    for (const l of listeners.get(event as EventName) ?? []) l(payload);
    // Lock wipes keys in core; reloading drops every decrypted view this page still holds.
    if (event === 'locked') window.setTimeout(() => window.location.reload(), 0);
  }

  /** Reads the server-sent event stream; reconnects with backoff while the page lives. */
  async function streamEvents(): Promise<void> {
    let delay = 500;
    for (;;) {
      try {
        const res = await fetch('/api/events', { headers: { ...headers(), accept: 'text/event-stream' }, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) return;
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data) emit(event, parseWire(data));
          }
        }
      } catch {
        // The shell restarted or the network dropped: try again below.
      }
      await new Promise((r) => window.setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }

  if (token) void streamEvents();

  const out: Record<string, unknown> = {
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      const set = listeners.get(event) ?? new Set<Listener>();
      listeners.set(event, set);
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },
  };
  for (const m of METHOD_NAMES) out[m] = (request: unknown) => call(m, request);
  return out as unknown as CustodyApi;
}
