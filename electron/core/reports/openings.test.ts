// Hash commitments in the log and their openings in a report (audit/commitment.ts, openings.ts):
// the log never holds an attachment's or an imported file's SHA-256 in the clear; a report
// reveals the openings, and the verifier catches a report that claims another hash than the one
// logged, even when the report is re-signed by the vault's own key.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resignReport } from '../testing/resignReport.ts';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { exportReport } from './export.ts';
import { OPENINGS_FILE } from './openings.ts';
import { verifyReport } from './verifyReport.ts';

let tv: TempVault;
let report: string;
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const scratch = (name: string) => join(tv.dir, '..', name);
const attachment = randomBytes(40_000);
const importFile = JSON.stringify([{ kind: 'note', title: 'imported' }]);
const gone = randomBytes(1000);
let kept: string;

beforeAll(async () => {
  tv = await tempVault();
  const c = tv.custody;
  const r = await c.createRecord({ kind: 'file', title: 'scans' });
  writeFileSync(scratch('scan.bin'), attachment);
  kept = (await c.addAttachment(r.id, scratch('scan.bin'))).id;
  await c.verifyAttachment(kept);
  await c.extractAttachment(kept, scratch('out.bin'));
  writeFileSync(scratch('in.json'), importFile);
  await c.importFile(scratch('in.json'));
  // An attachment purged with its record: its commitments stay in the log, unopenable.
  const p = await c.createRecord({ kind: 'file', title: 'to purge' });
  writeFileSync(scratch('gone.bin'), gone);
  await c.addAttachment(p.id, scratch('gone.bin'));
  await c.deleteRecord(p.id);
  await c.purgeRecord(p.id);
  report = scratch('report');
  await exportReport(c, { outDir: report, purpose: 'commitment test' });
}, 120_000);
afterAll(async () => tv.cleanup());

const lines = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean);
const failed = (r: Awaited<ReturnType<typeof verifyReport>>) => r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

/** What an analyst who wants to change a stated hash can do: edit the file and re-sign the manifest. */
function resigned(name: string, edit: (openings: string[]) => string[]): string {
  const dir = scratch(name);
  cpSync(report, dir, { recursive: true });
  writeFileSync(join(dir, OPENINGS_FILE), edit(lines(dir, OPENINGS_FILE)).join('\n') + '\n');
  resignReport(dir, tv.custody.vault.keys().signingSeed);
  return dir;
}

describe('hash commitments', () => {
  test('the log holds no plaintext SHA-256 of an attachment or an imported file, only commitments', async () => {
    const all = JSON.stringify(await tv.custody.auditQuery({ limit: 1000 }));
    for (const digest of [sha(attachment), sha(importFile), sha(gone)]) {
      expect(all).not.toContain(digest);
      expect(all).not.toContain(Buffer.from(digest, 'hex').toString('base64'));
    }
    const withCommitment = (await tv.custody.auditQuery({ limit: 1000 })).filter((r) => r.entry?.details.sha256Commitment);
    expect(withCommitment.map((r) => r.event).sort()).toEqual(['attachment.added', 'attachment.added', 'attachment.exported', 'attachment.verified', 'import']);
  });

  test('the report reveals the openings and the verifier checks each against its signed entry', async () => {
    const openings = lines(report, OPENINGS_FILE).map((l) => JSON.parse(l) as { seq: number; target: string; key: string; sha256: string });
    expect(openings.filter((o) => o.target === `attachment:${kept}`).map((o) => o.sha256)).toEqual([sha(attachment), sha(attachment), sha(attachment)]);
    expect(openings.filter((o) => o.target.startsWith('import:')).map((o) => o.sha256)).toEqual([sha(importFile)]);
    // The purged attachment's hash is not revealed: it cannot be opened any more.
    expect(openings.some((o) => o.sha256 === sha(gone))).toBe(false);
    const r = await verifyReport(report);
    expect(failed(r)).toEqual([]);
    expect(r.checks.find((c) => c.name === 'hash commitments')?.detail).toBe('4 hash commitments opened, each matching its signed entry; 1 not opened (the item is no longer in the vault)');
  });

  test('a report that states another hash than the one logged fails, even re-signed by the vault key', async () => {
    const other = sha('a different file');
    const lied = resigned('lied', (ls) => ls.map((l) => (l.includes(sha(attachment)) ? l.replace(sha(attachment), other) : l)));
    const r = await verifyReport(lied);
    expect(r.ok).toBe(false);
    expect(failed(r)).toEqual([expect.stringMatching(/^hash commitments: the SHA-256 [0-9a-f]{64} claimed for entry \d+ does not open the commitment in its signed entry/)]);

    // Another key that "opens" to the chosen hash cannot be found (HMAC-SHA-256): a random one fails.
    const forgedKey = resigned('forged-key', (ls) => ls.map((l) => l.replace(/"key":"[0-9a-f]{64}"/, `"key":"${randomBytes(32).toString('hex')}"`)));
    expect(failed(await verifyReport(forgedKey))).toEqual([expect.stringContaining('does not open the commitment')]);

    // An opening attached to an entry that has no commitment is refused too.
    const events = lines(report, 'events.jsonl').map((l) => JSON.parse(l) as { seq: number; details: Record<string, unknown> });
    const plain = events.find((e) => e.details.sha256Commitment === undefined)!;
    const stray = resigned('stray', (ls) => [...ls, JSON.stringify({ seq: plain.seq, target: 'x', key: '00'.repeat(32), sha256: other })]);
    expect(failed(await verifyReport(stray))).toEqual([expect.stringContaining(`opens entry ${plain.seq}, which has no hash commitment`)]);
  });
});
