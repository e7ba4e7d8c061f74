// `npm run bench`: prints every figure the issues ask for beside its limit, measured in the
// same run; `-- --json` prints {"figures": [...]} for tracking over time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, type Figure } from './figures.ts';
import { vaultBenchmarks } from './vault.bench.ts';
import { auditBenchmarks } from './audit.bench.ts';
import { reportBenchmarks } from './report.bench.ts';
import { ipcBenchmarks } from './ipc.bench.ts';
import { syncBenchmarks } from './sync.bench.ts';
import { searchIndexBenchmarks } from './searchIndex.bench.ts';
import { disclosureBenchmarks } from './disclosure.bench.ts';
import { backupBenchmarks } from './backup.bench.ts';
import { MEASURE_FLAG, measureOpened, parseSizes, scaleBenchmarks, scaleTable } from './scale.bench.ts';

const json = process.argv.includes('--json');
const argAfter = (flag: string) => process.argv.find((a, i) => process.argv[i - 1] === flag);
// `npm run bench -- --only search,insert` runs the benchmarks whose names contain those words.
const onlyArg = argAfter('--only');
const only = (name: string) => !onlyArg || onlyArg.split(',').some((w) => name.includes(w));
const log = (s: string) => process.stderr.write(s + '\n');
// The scale table's measurements of one built vault, in the fresh process it spawns.
const measureDir = argAfter(MEASURE_FLAG);
if (measureDir !== undefined) {
  process.stdout.write(JSON.stringify(await measureOpened(measureDir)) + '\n');
  process.exit(0);
}

const root = mkdtempSync(join(tmpdir(), 'custody-bench-'));

// `npm run bench -- --scale [10k,100k,1M] [--keep DIR]`: only the scale table (not part of CI;
// see docs/performance.md).
const scaleAt = process.argv.indexOf('--scale');
if (scaleAt >= 0) {
  const next = process.argv[scaleAt + 1];
  const keep = argAfter('--keep');
  if (process.argv.includes('--keep') && (keep === undefined || keep.startsWith('--'))) throw new Error('--keep needs a folder');
  try {
    const rows = await scaleBenchmarks(root, parseSizes(next && !next.startsWith('--') ? next : undefined), log, keep && resolve(keep));
    process.stdout.write(json ? JSON.stringify({ scale: rows }, null, 2) + '\n' : '\n' + scaleTable(rows) + '\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  process.exit(0);
}

const suites: [string, (root: string, log: (s: string) => void, only: (name: string) => boolean) => Promise<Figure[]>][] = [
  ['vault', vaultBenchmarks],
  ['search index (persisted)', searchIndexBenchmarks],
  ['audit log', auditBenchmarks],
  ['reports', reportBenchmarks],
  ['desktop IPC', ipcBenchmarks],
  ['sync (local PostgreSQL)', syncBenchmarks],
  ['disclosure', disclosureBenchmarks],
  ['backup', backupBenchmarks],
];

const figures: Figure[] = [];
try {
  for (const [name, run] of suites) {
    log(`${name}:`);
    figures.push(...(await run(root, log, only)));
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

if (json) process.stdout.write(JSON.stringify({ figures }, null, 2) + '\n');
else {
  const rows = figures.map((f) => [f.met ? 'met ' : 'MISS', f.name, `${fmt(f.value)} ${f.unit}`, `${f.limit}${/^goal/.test(f.limit) ? '' : ` = ${fmt(f.limitValue)}`}`, `ratio ${fmt(f.ratio)} (${f.goal})`]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write('\n' + rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n') + '\n');
  process.stdout.write(`\n${figures.filter((f) => f.met).length} of ${figures.length} goals met\n`);
}
