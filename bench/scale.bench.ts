// `npm run bench -- --scale [10k,100k,1M] [--keep DIR]` (not part of CI): how the costs grow
// with the vault. For each size it builds a vault of ~1 KiB records (the bench's bulk import)
// and lets the first unlock build and persist the search index. Then a fresh process, as a
// user's next session would be, opens it and measures with the persisted index loaded:
// unlock -> search-ready, search p50/p95, the first list page, add one (p95); then the peak
// RSS of `custody search WORD` as a whole process, the web shell's, and the database and index
// sizes on disk. With --keep the vaults are built in DIR and left there, and the next run with
// the same DIR measures them again without rebuilding (each run adds 120 records to them).
// The goals at 1M are printed beside: search p95 <= 50 ms, search-ready <= 5 s,
// RSS <= 1.5 GiB.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Custody } from '../electron/core/custody.ts';
import { insertRecords } from '../electron/core/records/importer.ts';
import { DELTA_FILE, INDEX_FILE } from '../electron/core/search/indexFile.ts';
import { percentile } from './figures.ts';
import { argon2Ms, searchRuns, webShellMemory } from './searchProcess.ts';
import { makeRecords, newVault, PASSWORD, rng, word } from './vault.bench.ts';

const MiB = 2 ** 20;
const WORD = 'kari';

export interface ScaleRow {
  records: number;
  /** The import's time when the vault was built (by an earlier run, with --keep). */
  importS: number;
  reused: boolean;
  unlockMs: number;
  searchReadyMs: number;
  searchP50Ms: number;
  searchP95Ms: number;
  firstListMs: number;
  addP95Ms: number;
  /** Peak RSS of `custody search WORD` (unlock, load the index, search), whole process. */
  rssMiB: number;
  /** `custody search WORD`, whole process: wall and CPU time (median of 3), and Argon2id alone. */
  searchWholeMs: number;
  searchCpuMs: number;
  kdfMs: number;
  /** Peak RSS of the web shell after unlock + the first full-index search (NaN: not built). */
  webShellMiB: number;
  dbMiB: number;
  indexMiB: number;
  load: number;
}

/** "10k,100k,1M" -> [10000, 100000, 1000000]. */
export function parseSizes(arg: string | undefined): number[] {
  if (!arg) return [10_000, 100_000, 1_000_000];
  return arg.split(',').map((s) => {
    const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
    if (!m) throw new Error(`--scale: "${s}" is not a size (e.g. 2k, 100k, 1M)`);
    const n = Math.round(Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1e3 : 1e6));
    if (n < 1000) throw new Error('--scale: sizes start at 1k');
    return n;
  });
}

const label = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n));
const fileMiB = (...paths: string[]) => paths.reduce((s, p) => s + (existsSync(p) ? statSync(p).size : 0), 0) / MiB;

function queries(n: number): { text: string; case?: string }[] {
  const rand = rng(99);
  return Array.from({ length: n }, (_, i) => {
    const w = word(rand);
    const w2 = word(rand);
    return i % 3 === 0 ? { text: w } : i % 3 === 1 ? { text: `${w} ${w2}` } : { text: w, case: `Case ${i % 40}` };
  });
}

/** Written in a vault folder once it is built and its index persisted (what --keep reuses). */
const BUILT = 'scale-built.json';

/** Builds the vault (import, then the first index build, persisted), unless one is built there. */
async function build(dir: string, n: number, log: (s: string) => void): Promise<{ importS: number; reused: boolean }> {
  const mark = join(dir, BUILT);
  if (existsSync(mark)) {
    const built = JSON.parse(readFileSync(mark, 'utf8')) as { records: number; importS: number };
    if (built.records !== n) throw new Error(`${dir} holds a ${label(built.records)} vault, not ${label(n)}`);
    log(`  ${label(n)}: reusing the vault built in ${dir}`);
    return { importS: built.importS, reused: true };
  }
  if (existsSync(dir)) throw new Error(`${dir} holds a vault whose build did not finish (no ${BUILT}): remove it to build it again`);
  // Import: the bench's bulk import, 10,000 records per call (as `custody import` batches).
  let t0 = performance.now();
  const { custody } = await newVault(dirname(dir), basename(dir));
  for (let i = 0; i < n; i += 10_000) await insertRecords(custody.vault, makeRecords(Math.min(10_000, n - i), i + 7));
  const importS = (performance.now() - t0) / 1000;
  // The first unlock builds the index and persists it (once per vault).
  t0 = performance.now();
  await custody.buildIndex();
  log(`  ${label(n)}: imported in ${importS.toFixed(1)} s; search index built and persisted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await custody.close();
  writeFileSync(mark, JSON.stringify({ records: n, importS }));
  return { importS, reused: false };
}

type Opened = Pick<ScaleRow, 'unlockMs' | 'searchReadyMs' | 'searchP50Ms' | 'searchP95Ms' | 'firstListMs' | 'addP95Ms'>;

/**
 * What a session that opens the vault sees: unlock returns, the first list page, the first
 * full-index search, 200 searches, 100 adds. Runs in its own process (measureOpenedInChild), so
 * the build's heap and threads are not in it.
 */
export async function measureOpened(dir: string): Promise<Opened> {
  const c = await Custody.open(dir);
  let t0 = performance.now();
  await c.unlock(PASSWORD);
  const unlockMs = performance.now() - t0;
  const list0 = performance.now();
  await c.search({ text: '', limit: 100 });
  const firstListMs = performance.now() - list0;
  const r = await c.search({ text: WORD });
  const searchReadyMs = performance.now() - t0;
  if (!r.indexReady || c.indexKeeper.origin.source !== 'file') throw new Error(`${dir}: the persisted index was not used (${c.indexKeeper.origin.rejected ?? 'not ready'})`);

  const qs = queries(220);
  for (const q of qs.splice(0, 20)) await c.search(q);
  const times: number[] = [];
  for (const q of qs) {
    t0 = performance.now();
    await c.search(q);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);

  const adds: number[] = [];
  for (let i = 0; i < 120; i++) {
    t0 = performance.now();
    await c.createRecord({ kind: 'note', title: `scale add ${i}`, body: `one more record ${WORD} ${i}` });
    if (i >= 20) adds.push(performance.now() - t0);
  }
  adds.sort((a, b) => a - b);
  await c.close();
  return { unlockMs, searchReadyMs, searchP50Ms: percentile(times, 50), searchP95Ms: percentile(times, 95), firstListMs, addP95Ms: percentile(adds, 95) };
}

/** The flag bench/index.ts answers with measureOpened's figures as JSON on stdout. */
export const MEASURE_FLAG = '--scale-measure';

/** measureOpened in a fresh process: this bench's own script, with its Node flags. */
function measureOpenedInChild(dir: string): Opened {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, MEASURE_FLAG, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`measuring ${dir} in a fresh process failed (exit ${r.status})`);
  return JSON.parse(r.stdout) as Opened;
}

async function measure(root: string, n: number, log: (s: string) => void, keep?: string): Promise<ScaleRow> {
  const dir = join(keep ?? root, `scale-${label(n)}`);
  mkdirSync(dirname(dir), { recursive: true });
  const { importS, reused } = await build(dir, n, log);
  const opened = measureOpenedInChild(dir);

  // `custody search WORD` as a whole process (searchProcess.ts), and the web shell's peak RSS.
  const kdfMs = await argon2Ms(dir, PASSWORD);
  const search = searchRuns(dir, WORD, PASSWORD);
  const shell = await webShellMemory(dir, WORD, PASSWORD);

  return {
    records: n,
    importS,
    reused,
    ...opened,
    rssMiB: search.peakMiB,
    searchWholeMs: search.median.ms,
    searchCpuMs: search.median.cpuMs,
    kdfMs,
    webShellMiB: shell?.peakMiB ?? NaN,
    dbMiB: fileMiB(join(dir, 'custody.db'), join(dir, 'custody.db-wal')),
    indexMiB: fileMiB(join(dir, INDEX_FILE), join(dir, DELTA_FILE)),
    load: loadavg()[0]!,
  };
}

export async function scaleBenchmarks(root: string, sizes: number[], log: (s: string) => void, keep?: string): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const n of sizes) {
    rows.push(await measure(root, n, log, keep));
    // The table so far, so a long run (1M) that is stopped still leaves the smaller sizes.
    log(scaleTable(rows));
  }
  return rows;
}

/** One column per size, the 1M goals in the last column. */
export function scaleTable(rows: ScaleRow[]): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines: [string, (r: ScaleRow) => string, string][] = [
    ['import', (r) => `${f(r.importS)} s${r.reused ? ' (kept)' : ''}`, ''],
    ['unlock (Argon2id at the floor) -> search-ready', (r) => `${f(r.searchReadyMs, 0)} ms`, '<= 5 s'],
    ['  of which unlock', (r) => `${f(r.unlockMs, 0)} ms`, ''],
    ['search p50', (r) => `${f(r.searchP50Ms, 2)} ms`, ''],
    ['search p95', (r) => `${f(r.searchP95Ms, 2)} ms`, '<= 50 ms'],
    ['first list page (100)', (r) => `${f(r.firstListMs, 1)} ms`, ''],
    ['add one, index loaded, p95', (r) => `${f(r.addP95Ms, 2)} ms`, ''],
    ['peak RSS, custody search WORD', (r) => `${f(r.rssMiB, 0)} MiB`, '<= 1536 MiB'],
    ['custody search WORD, whole process', (r) => `${f(r.searchWholeMs, 0)} ms`, '(100k: <= 1500 ms)'],
    ['  its CPU time; Argon2id alone', (r) => `${f(r.searchCpuMs, 0)}; ${f(r.kdfMs, 0)} ms`, ''],
    ['peak RSS, web shell after unlock + index', (r) => `${f(r.webShellMiB, 0)} MiB`, '(100k: <= 300 MiB)'],
    ['database on disk', (r) => `${f(r.dbMiB)} MiB`, ''],
    ['search index on disk', (r) => `${f(r.indexMiB)} MiB`, ''],
    ['load average', (r) => f(r.load), ''],
  ];
  const table = [['records', ...rows.map((r) => label(r.records)), 'goal at 1M'], ...lines.map(([name, cell, goal]) => [name, ...rows.map(cell), goal])];
  const w = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}
