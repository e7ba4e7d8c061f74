// A large report: 100,000 audit entries across 1,000 records, exported, checked by poppler's
// pdfsig and by the offline verifier. (Its timings are benchmarks, not asserted here.)
import { afterAll, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { seedRecordsAndLog } from '../testing/seed.ts';
import { exportReport } from './export.ts';
import { verifyReport } from './verifyReport.ts';

let tv: TempVault | undefined;
afterAll(async () => tv?.cleanup());

test('100,000 entries across 1,000 records: exported, pdfsig-valid, verified offline', async () => {
  tv = await tempVault();
  const records = Array.from({ length: 1000 }, (_, i) => ({ kind: 'note' as const, title: `Record ${i}`, body: '', fields: [], case: `Case ${i % 20}`, tags: [], classification: 'internal' as const }));
  const made = await seedRecordsAndLog(tv.custody, records, 100_000);
  const out = join(tv.dir, '..', 'large-report');
  const r = await exportReport(tv.custody, { outDir: out, purpose: 'large report test', recordIds: made.map((m) => m.id) });
  expect(r.records).toBe(1000);
  expect(r.entries).toBeGreaterThanOrEqual(99_000);
  expect(execFileSync('pdfsig', [join(out, 'report.pdf')], { encoding: 'utf8', maxBuffer: 1 << 26 })).toContain('Signature is Valid.');
  const v = await verifyReport(out);
  expect(v.checks.filter((c) => !c.ok)).toEqual([]);
  expect(v.entries).toBe(r.entries);
}, 600_000);
