// A private web shell for specs that change vault state: its own vault, port and token, so
// they neither depend on nor disturb the shared server of playwright.config.ts. Runs the
// build that server made (out/main/webShell.js, from electron/web/index.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface PrivateShell {
  url: string;
  origin: string;
  token: string;
  vaultDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `env`: extra environment for the shell (e.g. TMPDIR, to watch the temp folder it would use). */
export async function launchWebShell(opts: { env?: Record<string, string> } = {}): Promise<PrivateShell> {
  const entry = resolve('out/main/webShell.js');
  if (!existsSync(entry)) throw new Error('out/main/webShell.js is missing: run `npx electron-vite build` (the web server of playwright.config.ts does)');
  const root = mkdtempSync(join(tmpdir(), 'custody-e2e-private-'));
  const vaultDir = join(root, 'vault');
  const token = randomBytes(32).toString('base64url');
  const child = spawn(process.execPath, [entry, '--port', '0'], {
    env: { ...process.env, ...opts.env, CUSTODY_VAULT: vaultDir, CUSTODY_WEB_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`the web shell did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.on('exit', (code) => fail(new Error(`the web shell exited (${code}): ${stderr}`)));
  });
  return {
    url,
    origin: new URL(url).origin,
    token,
    vaultDir,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
