// Test support: runs the built CLI (out/cli/custody.mjs, rebuilt by the vitest global setup).
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve('out/cli/custody.mjs');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function cli(vault: string, args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, '--vault', vault, ...args], { encoding: 'utf8', env: { ...process.env, CUSTODY_PASSWORD: '', ...env }, timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(vault: string, args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [CLI, '--vault', vault, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
