// Reports never drop an entry silently: an entry in scope whose body retention removed is
// listed as pruned, by its leaf hash (events.jsonl, its inclusion proof, the PDF's table and
// entries.json), beside the signed retention run that removed it; the offline verifier checks
// both. A body removed by anyone else stops the export.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { resignReport } from '../testing/resignReport.ts';
import { pruneAuditBodies } from '../audit/retention.ts';
import { exportReport } from './export.ts';
import { readEmbeddedEntries } from './pdf/verify.ts';
import { parsePrunedLine } from './prunedLine.ts';
import { verifyReport } from './verifyReport.ts';

const DAY = 86_400_000;
let tv: TempVault;
let scratch: string;
let recordId: string;
let run: Awaited<ReturnType<typeof pruneAuditBodies>>;
let report: string;

beforeAll(async () => {
  tv = await tempVault();
  const c = tv.custody;
  recordId = (await c.createRecord({ kind: 'note', title: 'Harbour watch', case: 'Gull' })).id;
  await c.getRecord(recordId);
  await c.createRecord({ kind: 'note', title: 'Other case', case: 'Tern' });
  run = await pruneAuditBodies(c.vault, { olderThanDays: 1, now: new Date(Date.now() + 2 * DAY) });
  // After the run: this access keeps its body.
  await c.getRecord(recordId);
  scratch = join(tv.dir, '..');
  report = join(scratch, 'report');
  await exportReport(c, { outDir: report, case: 'Gull', purpose: 'pruned entries' });
}, 120_000);
afterAll(async () => tv.cleanup());

const lines = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');

describe('a report over pruned entries', () => {
  test("lists the record's pruned entries by leaf hash, with the retention run that removed them, and verifies", async () => {
    const all = lines(report);
    const pruned = all.map(parsePrunedLine).filter((p) => p !== undefined);
    // record.created and record.viewed of the chosen record, pruned; its later view, not.
    expect(pruned.length).toBeGreaterThanOrEqual(2);
    expect(pruned.every((p) => p.retentionSeq === run.retentionSeq && p.seq < run.prunedBelowSeq)).toBe(true);
    const rows = tv.custody.vault.db.sql.prepare('SELECT seq, leaf_hash FROM audit_entry WHERE seq = ?');
    for (const p of pruned) expect((rows.get(p.seq) as { leaf_hash: Buffer }).leaf_hash.toString('hex')).toBe(p.leafHash);
    const runLine = all.map((l) => JSON.parse(l)).find((e) => e.seq === run.retentionSeq);
    expect(runLine).toMatchObject({ event: 'retention.run', details: { cutoff: run.cutoff, prunedBelowSeq: run.prunedBelowSeq } });
    expect(all.some((l) => l.includes(`"target":"record:${recordId}"`) && l.includes('"record.viewed"'))).toBe(true);

    const r = await verifyReport(report);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.prunedEntries).toBe(pruned.length);
    expect(r.checks.find((c) => c.name === 'pruned entries')!.detail).toBe(
      `${pruned.length} entries listed by leaf hash only: the body was pruned, ${pruned.length} under retention entry ${run.retentionSeq} (cutoff ${run.cutoff})`,
    );
    expect(r.checks.find((c) => c.name === 'inclusion proofs')!.detail).toContain(`(${pruned.length} by leaf hash only: pruned)`);
  });

  test('the PDF lists them as pruned too (entries.json and the table), and pdfsig accepts it', async () => {
    const pdf = readFileSync(join(report, 'report.pdf'));
    const embedded = await readEmbeddedEntries(pdf);
    const prunedSeqs = lines(report).map(parsePrunedLine).filter((p) => p !== undefined).map((p) => p.seq);
    expect(embedded.filter((e) => e.pruned).map((e) => e.seq)).toEqual(prunedSeqs);
    expect(execFileSync('pdfsig', [join(report, 'report.pdf')], { encoding: 'utf8' })).toContain('Signature is Valid.');
    const text = execFileSync('pdftotext', ['-layout', join(report, 'report.pdf'), '-'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(text).toContain(`pruned by #${run.retentionSeq}`);
    expect(text.replace(/\s+/g, ' ')).toContain('had its body removed by the retention run at entry R');
  });

  test('a report signer claiming pruning that the retention run does not cover is caught', async () => {
    // Someone with the signing key rewrites a pruned line to point at an entry that is no
    // retention run, and re-signs the manifest: the leaf hash still proves, the claim does not.
    const dir = join(scratch, 'false-claim');
    cpSync(report, dir, { recursive: true });
    const all = lines(dir);
    const i = all.findIndex((l) => parsePrunedLine(l));
    const p = parsePrunedLine(all[i]!)!;
    const other = all.map((l) => JSON.parse(l)).find((e) => e.event === 'record.viewed')!.seq as number;
    all[i] = all[i]!.replace(`"retentionSeq":${p.retentionSeq}`, `"retentionSeq":${other}`);
    writeFileSync(join(dir, 'events.jsonl'), all.join('\n') + '\n');
    resignReport(dir, tv.custody.vault.keys().signingSeed);
    const r = await verifyReport(dir);
    expect(r.checks.find((c) => c.name === 'pruned entries')).toMatchObject({
      ok: false,
      detail: `entry ${p.seq} is listed as pruned under retention entry ${other}, but the report holds no signed retention run at ${other}`,
    });
  });

  test('dropping the pruned lines from the report is caught (the PDF still lists them)', async () => {
    const dir = join(scratch, 'dropped');
    cpSync(report, dir, { recursive: true });
    const kept = lines(dir).filter((l) => !parsePrunedLine(l));
    writeFileSync(join(dir, 'events.jsonl'), kept.join('\n') + '\n');
    const r = await verifyReport(dir);
    expect(r.ok).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(expect.arrayContaining(['manifest signature and file hashes', 'inclusion proofs', 'entries listed in report.pdf = events.jsonl']));
  });

  test('an export over a body removed by hand (not by retention) refuses, naming the entry', async () => {
    await tv.custody.close();
    const db = new Database(join(tv.dir, 'custody.db'));
    const victim = (db.prepare("SELECT max(seq) AS s FROM audit_entry WHERE event = 'record.viewed'").get() as { s: number }).s;
    db.prepare("UPDATE audit_entry SET entry = NULL, actor = '', pruned_at = 1 WHERE seq = ?").run(victim);
    db.close();
    const c = await tv.reopen();
    await c.unlock(PASSWORD, { buildIndex: false });
    await expect(exportReport(c, { outDir: join(scratch, 'refused'), case: 'Gull', purpose: 'x' })).rejects.toMatchObject({
      code: 'TAMPERED',
      message: `the body of audit entry ${victim} is missing and no signed retention run covers it; run "custody audit verify"`,
    });
  });
});
