// Issue 5 figures: export and verify a signed report of 100,000 entries across 1,000 records.
// Issue 13: CPU time printed beside wall time (both threads; and this thread alone, where
// Linux tells it), with the load average: the build machine is shared.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Custody } from '../electron/core/custody.ts';
import { KDF_FLOOR } from '../electron/core/crypto/kdf.ts';
import { seedRecordsAndLog } from '../electron/core/testing/seed.ts';
import { exportReport } from '../electron/core/reports/export.ts';
import { verifyReport } from '../electron/core/reports/verifyReport.ts';
import { ceilingFigure, type Figure } from './figures.ts';
import { makeRecords } from './vault.bench.ts';

const PASSWORD = 'benchmark password';

/** CPU seconds of the whole process (every thread). */
const processCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of this (the main) thread, from /proc on Linux; NaN elsewhere. */
const threadCpu = () => {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
};
const cpuNote = (c0: number, t0: number) => {
  const thread = threadCpu() - t0;
  return `CPU ${(processCpu() - c0).toFixed(1)} s${Number.isNaN(thread) ? '' : `, this thread ${thread.toFixed(1)} s`}, load ${loadavg()[0]!.toFixed(1)}`;
};

export async function reportBenchmarks(root: string, log: (s: string) => void, only: (name: string) => boolean): Promise<Figure[]> {
  if (!only('report')) return [];
  const dir = join(root, 'report-vault');
  await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
  const c = await Custody.open(dir);
  await c.unlock(PASSWORD, { buildIndex: false });
  const records = await seedRecordsAndLog(c, makeRecords(1000, 3), 100_000);
  const out = join(root, 'report-100k');
  let t0 = performance.now();
  let c0 = processCpu();
  let m0 = threadCpu();
  const r = await exportReport(c, { outDir: out, purpose: 'benchmark', recipient: 'bench', recordIds: records.map((x) => x.id) });
  const exportS = (performance.now() - t0) / 1000;
  const exportCpu = cpuNote(c0, m0);
  await c.close();
  log(`  exported ${r.entries} entries across ${r.records} records in ${exportS.toFixed(1)} s (${exportCpu})`);
  t0 = performance.now();
  c0 = processCpu();
  m0 = threadCpu();
  const v = await verifyReport(out);
  const verifyS = (performance.now() - t0) / 1000;
  const verifyCpu = cpuNote(c0, m0);
  if (!v.ok) throw new Error(`the benchmark report does not verify: ${v.checks.find((x) => !x.ok)?.detail}`);
  log(`  verified in ${verifyS.toFixed(1)} s (${verifyCpu})`);
  return [
    ceilingFigure(`export a signed report (${r.entries} entries, ${r.records} records; ${exportCpu})`, exportS, 's', 10),
    ceilingFigure(`verify that report offline (${verifyCpu})`, verifyS, 's', 5),
  ];
}
