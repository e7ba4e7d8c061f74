// Whole-process search figures shared by searchIndex.bench.ts and scale.bench.ts (issue 13):
//   `custody search WORD` spawned as a user runs it: wall time, CPU time, peak RSS (GNU time's
//   %e %U %S %M; %M is the kernel's high-water mark of the process's resident set, in KiB);
//   the web shell after unlock + the first full-index search: its RSS and peak (VmRSS, VmHWM).
// Each is printed beside Argon2id's own time (the vault's KDF, measured here) and the load.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { deriveKek } from '../electron/core/crypto/kdf.ts';
import { readHeader } from '../electron/core/vault/header.ts';
import { startWebShell, WEB_SHELL } from './webShell.ts';

export const CLI = 'out/cli/custody.mjs';

export interface ProcessRun {
  /** Wall time from spawn to exit, ms. */
  ms: number;
  /** User + system CPU time of the process, ms. */
  cpuMs: number;
  peakMiB: number;
}

/** Runs `custody --vault DIR search WORD` once under /usr/bin/time; throws if it fails. */
export function spawnSearch(dir: string, word: string, password: string): ProcessRun {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, CLI, '--vault', dir, 'search', word], { env: { ...process.env, CUSTODY_PASSWORD: password }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`custody search failed (${r.status}): ${r.stderr}`);
  const [user, sys, kib] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  return { ms, cpuMs: (user + sys) * 1000, peakMiB: kib / 1024 };
}

/** Median of `runs` spawned searches after one warm-up (file cache), and the highest peak RSS. */
export function searchRuns(dir: string, word: string, password: string, runs = 3): { median: ProcessRun; peakMiB: number } {
  spawnSearch(dir, word, password);
  const all = Array.from({ length: runs }, () => spawnSearch(dir, word, password)).sort((a, b) => a.ms - b.ms);
  return { median: all[Math.floor(runs / 2)]!, peakMiB: Math.max(...all.map((r) => r.peakMiB)) };
}

/** Argon2id alone with the vault's own parameters: median of 3, ms. */
export async function argon2Ms(dir: string, password: string): Promise<number> {
  const { kdf } = readHeader(dir);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await deriveKek(password, kdf);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[1]!;
}

function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

/**
 * Starts the built web shell on the vault, unlocks it over HTTP, waits for the first full-index
 * search (and a first list page), and reads the process's RSS; then stops it and waits for it
 * to exit. Undefined when the web shell is not built.
 */
export async function webShellMemory(dir: string, word: string, password: string): Promise<{ rssMiB: number; peakMiB: number; readyMs: number } | undefined> {
  if (!existsSync(WEB_SHELL)) return undefined;
  const shell = await startWebShell(dir);
  const call = shell.call;
  try {
    await call('vault.unlock', { password });
    const t0 = performance.now();
    const r = (await call('records.search', { text: word })) as { indexReady: boolean };
    const readyMs = performance.now() - t0;
    if (!r.indexReady) throw new Error('the web shell answered before its index was ready');
    await call('records.search', { text: '', limit: 100 });
    return { ...memory(shell.process.pid!), readyMs };
  } finally {
    await shell.stop();
  }
}
