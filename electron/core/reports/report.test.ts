// Signed reports end to end: export, then check with real poppler tools and with the offline
// verifier, and tamper with every part of the report to see each caught and named.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { exportReport } from './export.ts';
import { verifyReport } from './verifyReport.ts';

let tv: TempVault;
let report: string;
const ids: string[] = [];

beforeAll(async () => {
  tv = await tempVault();
  const c = tv.custody;
  for (const [i, title] of ['Harbour watch', 'Interview with the ferryman', 'Permit scans'].entries()) {
    const r = await c.createRecord({ kind: i === 2 ? 'file' : 'note', title, body: `body ${i}`, case: i < 2 ? 'Gull' : 'Tern', classification: 'confidential' });
    ids.push(r.id);
  }
  await c.updateRecord(ids[0]!, 1, { body: 'edited' });
  await c.getRecord(ids[1]!);
  writeFileSync(join(tv.dir, '..', 'scan.txt'), 'scan bytes');
  await c.addAttachment(ids[0]!, join(tv.dir, '..', 'scan.txt'));
  report = join(tv.dir, '..', 'report');
  await exportReport(c, { outDir: report, case: 'Gull', purpose: 'Court filing', recipient: 'District court' });
}, 120_000);
afterAll(async () => tv.cleanup());

/** A copy of the report to damage. */
function copy(name: string): string {
  const dir = join(tv.dir, '..', name);
  cpSync(report, dir, { recursive: true });
  return dir;
}
const failed = (r: Awaited<ReturnType<typeof verifyReport>>) => r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

describe('signed report', () => {
  test('holds the files docs/reports.md lists, and the export is an audit entry', async () => {
    expect(readdirSync(report).sort()).toEqual(['checkpoint.note', 'events.jsonl', 'inclusion-proofs.jsonl', 'manifest', 'openings.jsonl', 'report.pdf', 'signing-certificate.pem', 'verifier.vkey']);
    const events = readFileSync(join(report, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const targets = new Set(events.map((e) => e.target));
    expect(targets.has(`record:${ids[0]}`) && targets.has(`record:${ids[1]}`)).toBe(true);
    expect(targets.has(`record:${ids[2]}`)).toBe(false);
    const entry = (await tv.custody.auditQuery({ event: 'report.exported' }))[0]!;
    expect(entry.entry!.details).toMatchObject({ scope: 'case', records: 2, entries: events.length });
    // Purpose, recipient and case name stay in the report (bound by the manifest's hash), not in the log.
    expect(JSON.stringify(entry.entry)).not.toMatch(/Court filing|District court|Gull/);
    expect(entry.entry!.details.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('poppler pdfsig: valid and total document signed; pdftoppm renders every page', () => {
    const out = execFileSync('pdfsig', [join(report, 'report.pdf')], { encoding: 'utf8' });
    expect(out).toContain('Signature is Valid.');
    expect(out).toContain('Total document signed');
    const pngDir = join(process.cwd(), 'artifacts', 'report');
    mkdirSync(pngDir, { recursive: true });
    execFileSync('pdftoppm', ['-png', '-r', '60', join(report, 'report.pdf'), join(pngDir, 'page')]);
    const pages = readdirSync(pngDir).filter((f) => f.startsWith('page'));
    expect(pages.length).toBeGreaterThanOrEqual(4);
  });

  test("the manifest's Ed25519 signature verifies with openssl, and lists every file's SHA-256", () => {
    const note = readFileSync(join(report, 'manifest'), 'utf8');
    const [text, sigLine] = note.split('\n\n') as [string, string];
    const scratch = join(tv.dir, '..');
    writeFileSync(join(scratch, 'msg'), text + '\n');
    writeFileSync(join(scratch, 'sig'), Buffer.from(sigLine.trim().split(' ').at(-1)!, 'base64').subarray(4));
    const pub = Buffer.from(readFileSync(join(report, 'verifier.vkey'), 'utf8').trim().split('+').slice(2).join('+'), 'base64').subarray(1);
    writeFileSync(join(scratch, 'pub.der'), Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]));
    const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(scratch, 'pub.der'), '-keyform', 'DER', '-rawin', '-in', join(scratch, 'msg'), '-sigfile', join(scratch, 'sig')], { encoding: 'utf8' });
    expect(out).toContain('Signature Verified Successfully');
    const listed = text.split('\n').slice(1).map((l) => l.split(' ')[1]);
    expect(listed.sort()).toEqual(readdirSync(report).filter((f) => f !== 'manifest').sort());
  });

  test('custody verify accepts the report, as a folder and as a zip', async () => {
    expect(await verifyReport(report)).toMatchObject({ ok: true });
    const zip = join(tv.dir, '..', 'r.zip');
    await exportReport(tv.custody, { outDir: zip, zip: true, purpose: 'zip' });
    expect(failed(await verifyReport(zip))).toEqual([]);
  });

  test('one flipped byte of the PDF: pdfsig reports a mismatch, verify names the PDF', async () => {
    const dir = copy('flip');
    const pdf = readFileSync(join(dir, 'report.pdf'));
    pdf[2000]! ^= 0x01;
    writeFileSync(join(dir, 'report.pdf'), pdf);
    const out = execFileSync('pdfsig', [join(dir, 'report.pdf')], { encoding: 'utf8' });
    expect(out).not.toContain('Signature is Valid.');
    expect(out).toMatch(/Digest Mismatch|Signature is Invalid/);
    const f = failed(await verifyReport(dir));
    expect(f.some((x) => x.startsWith('report.pdf signature'))).toBe(true);
    expect(f.some((x) => x.includes('report.pdf was modified'))).toBe(true);
  });

  test('a changed line of events.jsonl is caught by the manifest and by its proof', async () => {
    const dir = copy('events');
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"success":true', '"success":false');
    writeFileSync(join(dir, 'events.jsonl'), lines.join('\n'));
    const f = failed(await verifyReport(dir));
    expect(f.join('\n')).toContain('events.jsonl was modified');
    expect(f.join('\n')).toMatch(/inclusion proofs: entry \d+ \(events.jsonl line 2\) is not in the signed log/);
  });

  test('a dropped proof, two swapped entries, an edited manifest: each named', async () => {
    let dir = copy('noproof');
    const proofs = readFileSync(join(dir, 'inclusion-proofs.jsonl'), 'utf8').split('\n');
    const dropped = JSON.parse(proofs[2]!).seq;
    writeFileSync(join(dir, 'inclusion-proofs.jsonl'), proofs.filter((_, i) => i !== 2).join('\n'));
    expect(failed(await verifyReport(dir)).join('\n')).toContain(`entry ${dropped} (events.jsonl line 3) has no inclusion proof`);

    dir = copy('swap');
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n');
    [lines[0], lines[1]] = [lines[1]!, lines[0]!];
    writeFileSync(join(dir, 'events.jsonl'), lines.join('\n'));
    expect(failed(await verifyReport(dir)).join('\n')).toContain('out of log order');

    dir = copy('manifest');
    const m = readFileSync(join(dir, 'manifest'), 'utf8');
    writeFileSync(join(dir, 'manifest'), m.replace(/^([0-9a-f])/m, (c) => (c === '0' ? '1' : '0')));
    expect(failed(await verifyReport(dir)).join('\n')).toMatch(/manifest signature and file hashes: .*(signature|verif)/i);

    dir = copy('extra');
    writeFileSync(join(dir, 'notes.txt'), 'slipped in');
    expect(failed(await verifyReport(dir)).join('\n')).toContain('notes.txt is not in the manifest');
  });

  test('a report pinned to another vault key is refused', async () => {
    const other = await tempVault();
    try {
      const r = await verifyReport(report, { vkey: other.custody.vault.checkpoints.vkey });
      expect(r.ok).toBe(false);
      expect(failed(r)[0]).toContain('not the one you expected with --vkey');
      expect(r.signer).toMatchObject({ vkey: tv.custody.vault.checkpoints.vkey, trust: 'report' });
      expect(r.expectedSigner?.vkey).toBe(other.custody.vault.checkpoints.vkey);
    } finally {
      await other.cleanup();
    }
  });

  test('a consistency proof from a checkpoint the recipient holds', async () => {
    const old = tv.custody.vault.checkpoints.all()[3]!.note;
    const dir = join(tv.dir, '..', 'since');
    await exportReport(tv.custody, { outDir: dir, purpose: 'follow-up', sinceCheckpoint: old });
    const r = await verifyReport(dir);
    expect(r.checks.find((c) => c.name.startsWith('consistency'))).toMatchObject({ ok: true });
    const forged = old.replace(/\n\d+\n/, '\n1\n');
    await expect(exportReport(tv.custody, { outDir: join(tv.dir, '..', 'since2'), purpose: 'x', sinceCheckpoint: forged })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

