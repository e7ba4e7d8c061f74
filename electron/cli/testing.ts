// Test support: runs the built CLI (out/cli/custody.mjs, rebuilt by the vitest global setup).
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve('out/cli/custody.mjs');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

// Ten minutes catches a hung command; it is not a speed limit (a report export spawned while every
// core is busy elsewhere has taken over a minute).
const HANG_MS = 600_000;

export function cli(vault: string, args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, '--vault', vault, ...args], { encoding: 'utf8', env: { ...process.env, CUSTODY_PASSWORD: '', ...env }, timeout: HANG_MS });
  // A command killed (hung, or by a signal) says so in its stderr, so a failing test shows why.
  const killed = r.error ? `\n[test] custody ${args[0] ?? ''} did not finish: ${r.error.message}` : r.signal ? `\n[test] custody ${args[0] ?? ''} was killed by ${r.signal}` : '';
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr + killed };
}

export function cliAsync(vault: string, args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [CLI, '--vault', vault, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
