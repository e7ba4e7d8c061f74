// Issue 5 figures: export and verify a signed report of 100,000 entries across 1,000 records.
import { join } from 'node:path';
import { Custody } from '../electron/core/custody.ts';
import { KDF_FLOOR } from '../electron/core/crypto/kdf.ts';
import { seedRecordsAndLog } from '../electron/core/testing/seed.ts';
import { exportReport } from '../electron/core/reports/export.ts';
import { verifyReport } from '../electron/core/reports/verifyReport.ts';
import { ceilingFigure, type Figure } from './figures.ts';
import { makeRecords } from './vault.bench.ts';

const PASSWORD = 'benchmark password';

export async function reportBenchmarks(root: string, log: (s: string) => void, only: (name: string) => boolean): Promise<Figure[]> {
  if (!only('report')) return [];
  const dir = join(root, 'report-vault');
  await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
  const c = await Custody.open(dir);
  await c.unlock(PASSWORD, { buildIndex: false });
  const records = await seedRecordsAndLog(c, makeRecords(1000, 3), 100_000);
  const out = join(root, 'report-100k');
  let t0 = performance.now();
  const r = await exportReport(c, { outDir: out, purpose: 'benchmark', recipient: 'bench', recordIds: records.map((x) => x.id) });
  const exportS = (performance.now() - t0) / 1000;
  await c.close();
  log(`  exported ${r.entries} entries across ${r.records} records in ${exportS.toFixed(1)} s`);
  t0 = performance.now();
  const v = await verifyReport(out);
  const verifyS = (performance.now() - t0) / 1000;
  if (!v.ok) throw new Error(`the benchmark report does not verify: ${v.checks.find((x) => !x.ok)?.detail}`);
  log(`  verified in ${verifyS.toFixed(1)} s`);
  return [ceilingFigure(`export a signed report (${r.entries} entries, ${r.records} records)`, exportS, 's', 10), ceilingFigure('verify that report offline', verifyS, 's', 5)];
}
