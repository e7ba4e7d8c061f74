// Issue 13 figures for the persisted search index, on the 100,000-record vault:
//   search usable after unlock (unlock returns -> first full-index search answered), <= 1.5 s
//   `custody search WORD` as a user runs it (a whole process, spawned), <= 1.5 s, and its peak RSS
//   the web shell's RSS after unlock + index ready, <= 300 MiB
//   add one record with the index loaded (encrypt + audit + commit + index + delta), p95 <= 5 ms
//   the index's size on disk (information)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Custody } from '../electron/core/custody.ts';
import { DELTA_FILE, INDEX_FILE } from '../electron/core/search/indexFile.ts';
import { ceilingFigure, percentile, type Figure } from './figures.ts';
import { hundredKVault, PASSWORD } from './vault.bench.ts';

const MiB = 2 ** 20;
const WORD = 'kari';

/** Peak RSS of a finished child, from GNU time's %M (KiB), and its wall time. */
function timed(args: string[]): { ms: number; peakMiB: number; status: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  const kib = Number(r.stderr.trim().split('\n').at(-1));
  return { ms, peakMiB: kib / 1024, status: r.status ?? -1 };
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

export async function searchIndexBenchmarks(root: string, log: (s: string) => void, only: (name: string) => boolean): Promise<Figure[]> {
  if (!only('search') && !only('index')) return [];
  const dir = await hundredKVault(root, log);
  const figures: Figure[] = [];

  // Make sure the persisted index exists (the first unlock of a vault builds and writes it).
  let c = await Custody.open(dir);
  await c.unlock(PASSWORD, { buildIndex: false });
  let t0 = performance.now();
  await c.buildIndex();
  if (c.indexKeeper.origin.source === 'build') log(`  search index built and persisted in ${((performance.now() - t0) / 1000).toFixed(1)} s (once, at the first unlock)`);
  await c.close();
  const indexBytes = statSync(join(dir, INDEX_FILE)).size + (existsSync(join(dir, DELTA_FILE)) ? statSync(join(dir, DELTA_FILE)).size : 0);
  log(`  index on disk: ${(indexBytes / MiB).toFixed(1)} MiB (database ${(statSync(join(dir, 'custody.db')).size / MiB).toFixed(0)} MiB)`);

  // Search usable after unlock: unlock returns, then the first search over the full index.
  const ready: number[] = [];
  for (let i = 0; i < 3; i++) {
    c = await Custody.open(dir);
    await c.unlock(PASSWORD);
    t0 = performance.now();
    const r = await c.search({ text: WORD });
    ready.push(performance.now() - t0);
    if (!r.indexReady || c.indexKeeper.origin.source !== 'file') throw new Error('the persisted index was not used');
    await c.close();
  }
  ready.sort((a, b) => a - b);
  log(`  search usable after unlock: median ${ready[1]!.toFixed(0)} ms (load ${loadavg()[0]!.toFixed(1)})`);
  figures.push(ceilingFigure('search usable after unlock, 100k (unlock returns -> first full-index search)', ready[1]!, 'ms', 1500));

  // Add one record without the index, then with it loaded: the difference is the index's upkeep.
  c = await Custody.open(dir);
  await c.unlock(PASSWORD, { buildIndex: false });
  const bare: number[] = [];
  for (let i = 0; i < 120; i++) {
    t0 = performance.now();
    await c.createRecord({ kind: 'note', title: `bench bare ${i}`, body: `one more record ${WORD} ${i}` });
    if (i >= 20) bare.push(performance.now() - t0);
  }
  bare.sort((a, b) => a - b);
  log(`  add one without the search index: p50 ${percentile(bare, 50).toFixed(2)} ms, p95 ${percentile(bare, 95).toFixed(2)} ms`);
  await c.close();
  c = await Custody.open(dir);
  await c.unlock(PASSWORD);
  await c.buildIndex();
  const adds: number[] = [];
  for (let i = 0; i < 220; i++) {
    t0 = performance.now();
    await c.createRecord({ kind: 'note', title: `bench add ${i}`, body: `one more record ${WORD} ${i}` });
    if (i >= 20) adds.push(performance.now() - t0);
  }
  adds.sort((a, b) => a - b);
  log(`  add one with the index loaded: p50 ${percentile(adds, 50).toFixed(2)} ms, p95 ${percentile(adds, 95).toFixed(2)} ms`);
  figures.push(ceilingFigure('add one record, index loaded, 100k (encrypt + audit + commit + index), p95', percentile(adds, 95), 'ms', 5));
  await c.close();

  // `custody search WORD`, whole process.
  timed(['out/cli/custody.mjs', '--vault', dir, 'search', WORD]);
  const runs = [0, 1, 2].map(() => timed(['out/cli/custody.mjs', '--vault', dir, 'search', WORD]));
  if (runs.some((r) => r.status !== 0)) throw new Error('custody search failed');
  runs.sort((a, b) => a.ms - b.ms);
  const peak = Math.max(...runs.map((r) => r.peakMiB));
  log(`  custody search ${WORD} (whole process): median ${runs[1]!.ms.toFixed(0)} ms, peak RSS ${peak.toFixed(0)} MiB (load ${loadavg()[0]!.toFixed(1)})`);
  figures.push(ceilingFigure('custody search WORD on a 100k vault, whole process', runs[1]!.ms, 'ms', 1500));
  figures.push(ceilingFigure('peak RSS of custody search WORD, 100k', peak, 'MiB', 300));

  // The web shell after unlock + index ready.
  if (existsSync('out/main/webShell.js')) {
    const token = randomBytes(32).toString('base64url');
    const shell = spawn(process.execPath, ['out/main/webShell.js', '--port', '0'], { env: { ...process.env, CUSTODY_VAULT: dir, CUSTODY_WEB_TOKEN: token }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = '';
        shell.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (m) resolve(m[1]!);
        });
        shell.on('exit', (code) => reject(new Error(`the web shell exited (${code})`)));
      });
      const call = async (method: string, body: unknown) => {
        const res = await fetch(`${base}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: base }, body: JSON.stringify(body) });
        const env = JSON.parse(await res.text()) as { ok: boolean; value?: unknown; error?: { message: string } };
        if (!env.ok) throw new Error(`${method}: ${env.error?.message}`);
        return env.value;
      };
      await call('vault.unlock', { password: PASSWORD });
      const r = (await call('records.search', { text: WORD })) as { indexReady: boolean };
      if (!r.indexReady) throw new Error('the web shell answered before its index was ready');
      await call('records.search', { text: '', limit: 100 });
      const mem = rssMiB(shell.pid!);
      log(`  web shell after unlock + index: RSS ${mem.rss.toFixed(0)} MiB (peak ${mem.peak.toFixed(0)} MiB)`);
      figures.push(ceilingFigure('web shell RSS after unlock + index, 100k', mem.rss, 'MiB', 300));
    } finally {
      // Wait for it to lock and close: the folder is removed after the suites.
      const exited = new Promise((r) => shell.once('exit', r));
      shell.kill();
      await exited;
    }
  }
  log(`  search index on disk: ${(indexBytes / MiB).toFixed(1)} MiB for 100,000 records`);
  return figures;
}
