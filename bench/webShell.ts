// The web shell as the bench drives it: the built process on a free loopback port, serving one
// vault, with a caller for its IPC path (the same validation and wire format as the desktop app).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const WEB_SHELL = 'out/main/webShell.js';

export interface BenchShell {
  process: ChildProcess;
  call: (method: string, body: unknown) => Promise<unknown>;
  /** Stops it and waits for it to lock and close (the bench folder is removed afterwards). */
  stop: () => Promise<void>;
}

export async function startWebShell(vaultDir: string): Promise<BenchShell> {
  const token = randomBytes(32).toString('base64url');
  const shell = spawn(process.execPath, [WEB_SHELL, '--port', '0'], { env: { ...process.env, CUSTODY_VAULT: vaultDir, CUSTODY_WEB_TOKEN: token }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => shell.once('exit', () => r()));
  const stop = async () => {
    if (shell.exitCode === null && shell.signalCode === null) shell.kill('SIGTERM');
    await exited;
  };
  let base: string;
  try {
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      shell.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (m) resolve(m[1]!);
      });
      shell.on('exit', (code) => reject(new Error(`the web shell exited (${code})`)));
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const call = async (method: string, body: unknown) => {
    const res = await fetch(`${base}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: base }, body: JSON.stringify(body) });
    const env = JSON.parse(await res.text()) as { ok: boolean; value?: unknown; error?: { message: string } };
    if (!env.ok) throw new Error(`${method}: ${env.error?.message}`);
    return env.value;
  };
  return { process: shell, call, stop };
}
