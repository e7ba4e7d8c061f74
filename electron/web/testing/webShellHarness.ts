// Test support: the web shell over real HTTP, serving the real core (createCore, in this process)
// over a real vault made with the cheapest KDF the floor allows, and a small renderer folder.
// The tests of the shell and of what it logs share this set-up; they talk to it in raw HTTP, so
// each controls Host, Origin, paths and headers exactly as an attacker could.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventName, Events, Method, UploadMethod } from '../../shared/contract.ts';
import { createCore, type CoreApi } from '../../core/api/handlers.ts';
import { settingsFileFor } from '../../core/api/settings.ts';
import { KDF_FLOOR } from '../../core/crypto/kdf.ts';
import { Custody } from '../../core/custody.ts';
import { PASSWORD, tempDir } from '../../core/testing/tempVault.ts';
import type { UploadSource } from '../../main/dispatch.ts';
import { startWebShell, type WebShell } from '../webShell.ts';

type Listener = <E extends EventName>(event: E, payload: Events[E]) => void;

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer's envelope, as the page reads it. */
export type Answer = { ok: boolean; value?: unknown; error?: { code: string; message: string } };
export const answerOf = (r: Reply): Answer => JSON.parse(r.body) as Answer;

export interface TestShell {
  /** The temporary folder holding the vault (`vaultDir`), the renderer (`staticDir`) and anything a test adds. */
  root: string;
  vaultDir: string;
  staticDir: string;
  core: CoreApi;
  shell: WebShell;
  /** Raw HTTP to the shell; nothing added (no token, no Origin). */
  send(opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply>;
  /** A call as the page makes it: POST JSON with the token and the shell's Origin; `headers` override. */
  call(method: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** An upload as the page makes it: the raw bytes, the call without them in X-Custody-Request. */
  upload(method: string, request: unknown, data: Buffer): Promise<Reply>;
  /** Closes the shell and the core and removes the folder. */
  close(): Promise<void>;
}

export interface TestShellOptions {
  /** The renderer's files, by path under its folder (default: an index.html). */
  staticFiles?: Record<string, string>;
  /** The folder to work in (default: a new temporary one), e.g. made before TMPDIR is changed. */
  root?: string;
}

/** A vault, its core and the web shell serving them, on a free loopback port. */
export async function startTestShell(opts: TestShellOptions = {}): Promise<TestShell> {
  const root = opts.root ?? tempDir();
  const vaultDir = join(root, 'vault');
  const staticDir = join(root, 'renderer');
  await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
  mkdirSync(staticDir, { recursive: true });
  for (const [path, text] of Object.entries(opts.staticFiles ?? { 'index.html': '<!doctype html><title>Custody</title>' })) {
    mkdirSync(dirname(join(staticDir, path)), { recursive: true });
    writeFileSync(join(staticDir, path), text);
  }
  const listeners = new Set<Listener>();
  const core = createCore({
    vaultDir,
    settingsFile: settingsFileFor(vaultDir),
    emit: (event, payload) => listeners.forEach((l) => l(event, payload)),
    nativeDialogs: false,
    shell: 'web',
    appVersion: 'test',
  });
  const backend = {
    call: (m: Method, r: unknown) => core.invoke(m, r),
    upload: (m: UploadMethod, r: unknown, source: UploadSource) => core.upload(m, r, source),
    onEvent: (l: Listener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const shell = await startWebShell({ backend, staticDir });

  const send: TestShell['send'] = (o) =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: shell.port, method: o.method ?? 'GET', path: o.path, headers: o.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(o.body);
    });
  const page = () => ({ authorization: `Bearer ${shell.token}`, origin: shell.origin });

  return {
    root,
    vaultDir,
    staticDir,
    core,
    shell,
    send,
    call: (method, body, headers = {}) =>
      send({ method: 'POST', path: `/api/call/${method}`, headers: { 'content-type': 'application/json', ...page(), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    upload: (method, request, data) =>
      send({
        method: 'POST',
        path: `/api/upload/${method}`,
        headers: { ...page(), 'content-type': 'application/octet-stream', 'content-length': String(data.length), 'x-custody-request': encodeURIComponent(JSON.stringify(request)) },
        body: data,
      }),
    async close() {
      await shell.close();
      await core.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
