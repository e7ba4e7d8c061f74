// Issue 4 figures, over the app's real IPC path: the web shell process (the same core worker,
// validation and wire format as the desktop app) serving a 100,000-record vault.
//   unlock -> first list page: what the user waits for after typing the password
//   search round trips after the keystroke debounce: goal p95 <= 50 ms
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { Custody } from '../electron/core/custody.ts';
import { deriveKek } from '../electron/core/crypto/kdf.ts';
import { ceilingFigure, medianRound, percentile, type Figure } from './figures.ts';
import { hundredKVault, PASSWORD } from './vault.bench.ts';
import { startWebShell, WEB_SHELL } from './webShell.ts';

export async function ipcBenchmarks(root: string, log: (s: string) => void, only: (name: string) => boolean): Promise<Figure[]> {
  if (!only('ipc')) return [];
  if (!existsSync(WEB_SHELL)) throw new Error(`${WEB_SHELL} is missing: run \`npx electron-vite build\` first`);
  const dir = await hundredKVault(root, log);
  const c = await Custody.open(dir);
  const kdf = async () => {
    const t = performance.now();
    await deriveKek(PASSWORD, c.vault.kdf);
    return performance.now() - t;
  };
  let t0: number;

  // `custody add` as a user runs it: a whole process (start, open, Argon2id, add, audit, lock),
  // each run beside an Argon2id of its own (the limit), CPU time from GNU time.
  const adds: { ms: number; cpuMs: number; kdfMs: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const kdfMs = await kdf();
    t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, 'out/cli/custody.mjs', '--vault', dir, 'add', '--title', `bench ${i}`, '--body', 'one more record'], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD }, encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`custody add failed: ${r.stderr}`);
    const [user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    adds.push({ ms, cpuMs: (user! + sys!) * 1000, kdfMs });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const addMs = median(adds.map((a) => a.ms));
  const kdfMs = median(adds.map((a) => a.kdfMs));
  log(`  custody add (whole process, median of 5): ${addMs.toFixed(0)} ms, CPU ${median(adds.map((a) => a.cpuMs)).toFixed(0)} ms (Argon2id alone ${kdfMs.toFixed(0)} ms, load ${loadavg()[0]!.toFixed(1)})`);

  // Unlock -> first list page in three fresh web shells, the median-ratio one reported (a single
  // first unlock ranged from 93 to 149 ms in full runs on the same code). Each starts as a user's
  // next session does: the index persisted (built here first if no other benchmark did).
  await c.unlock(PASSWORD, { buildIndex: false });
  await c.buildIndex();
  await c.close();
  const firsts: { ms: number; unlocked: number; kdfMs: number }[] = [];
  let shell = await startWebShell(dir);
  for (let round = 0; ; round++) {
    try {
      await shell.call('vault.status', {});
      const kdfMs = await kdf();
      t0 = performance.now();
      await shell.call('vault.unlock', { password: PASSWORD });
      const unlocked = performance.now() - t0;
      await shell.call('records.search', { text: '', limit: 100 });
      firsts.push({ ms: performance.now() - t0, unlocked, kdfMs });
    } catch (e) {
      await shell.stop();
      throw e;
    }
    if (round === 2) break;
    await shell.stop();
    shell = await startWebShell(dir);
  }
  const first = medianRound(firsts, (f) => f.ms / (f.kdfMs + 100));
  log(`  unlock -> first list page over IPC, 3 fresh shells: ${firsts.map((f) => `${f.ms.toFixed(0)} ms (unlock ${f.unlocked.toFixed(0)}, Argon2id alone just before ${f.kdfMs.toFixed(0)})`).join('; ')}; the list is answered from the database while the index loads; load ${loadavg()[0]!.toFixed(1)}`);
  const call = shell.call;
  try {
    // Search once the index is ready, as a user typing would.
    t0 = performance.now();
    while (!((await call('vault.status', {})) as { index: { ready: boolean } }).index.ready) await new Promise((r) => setTimeout(r, 250));
    log(`  search index ready ${((performance.now() - t0) / 1000).toFixed(1)} s after unlock`);
    const words = ['kari', 'selan', 'muver', 'ritokar', 'dolipa', 'anver', 'gorenu'];
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const w = words[i % words.length]!;
      const q = i % 3 === 0 ? { text: w.slice(0, 4) } : i % 3 === 1 ? { text: `${w} ${words[(i + 1) % words.length]}` } : { text: w, classification: 'confidential' };
      t0 = performance.now();
      await call('records.search', { ...q, limit: 200 });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    log(`  search over IPC: p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`);
    return [
      ceilingFigure('custody add, whole process, 100k records (limit: Argon2id + 400 ms)', addMs, 'ms', Math.round(kdfMs + 400)),
      ceilingFigure('unlock to first list page over IPC, 100k records (limit: Argon2id + 100 ms; median of 3 fresh shells)', first.ms, 'ms', Math.round(first.kdfMs + 100)),
      ceilingFigure('search response over IPC p95, 100k records', percentile(times, 95), 'ms', 50),
    ];
  } finally {
    await shell.stop();
    await c.close().catch(() => undefined);
  }
}
