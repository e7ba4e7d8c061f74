// "No silent deletion through pruning": a missing entry body verifies only where a signed
// retention run (itself in the log, under a signed checkpoint) says it removed it. Each test
// edits the real SQLite file the way someone with write access to the vault folder could.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import type { Custody } from '../custody.ts';
import { canonicalEntry } from './entry.ts';
import { pruneAuditBodies } from './retention.ts';
import { leafHash } from './tlog/hash.ts';

const DAY = 86_400_000;
let tv: TempVault;

beforeEach(async () => {
  tv = await tempVault();
  for (let i = 0; i < 5; i++) await tv.custody.createRecord({ kind: 'note', title: `r${i}` });
  await tv.custody.vault.checkpointNow('batch');
});
afterEach(async () => tv.cleanup());

/** Closes the vault, runs raw SQL on its database, and reopens it (locked, as an attacker leaves it). */
async function tamper(sql: (db: Database.Database) => void): Promise<Custody> {
  await tv.custody.close();
  const db = new Database(join(tv.dir, 'custody.db'));
  sql(db);
  db.close();
  return tv.reopen();
}

const kinds = (r: { problems: { kind: string; seq?: number }[] }) => r.problems.map((p) => `${p.kind}@${p.seq ?? '-'}`);
const size = () => tv.custody.vault.audit.size();

/** Legitimate retention: everything logged so far is due two days from now. */
async function legitimateRun() {
  const r = await pruneAuditBodies(tv.custody.vault, { olderThanDays: 1, now: new Date(Date.now() + 2 * DAY) });
  // Newer entries, not due: a body removed among them is not covered by that run.
  for (let i = 0; i < 3; i++) await tv.custody.createRecord({ kind: 'note', title: `later ${i}` });
  await tv.custody.vault.checkpointNow('batch');
  return r;
}

describe('missing entry bodies', () => {
  test('a body nulled directly in SQLite fails verification naming its sequence number', async () => {
    const c = await tamper((db) => db.prepare('UPDATE audit_entry SET entry = NULL WHERE seq = 3').run());
    const r = await c.verifyAudit();
    expect(r.ok).toBe(false);
    expect(kinds(r)).toEqual(['body-deleted@3']);
    expect(r.problems[0]!.message).toContain('the body of entry 3 was removed, but no signed retention run covers it');
  });

  test('setting pruned_at (and blanking the actor, as retention does) does not make it legitimate', async () => {
    const c = await tamper((db) => db.prepare("UPDATE audit_entry SET entry = NULL, actor = '', pruned_at = ? WHERE seq IN (2, 4)").run(Date.now()));
    expect(kinds(await c.verifyAudit())).toEqual(['body-deleted@2', 'body-deleted@4']);
  });

  test('legitimate retention: the run names its cutoff and the entries it covers; the log verifies', async () => {
    const before = size();
    const r = await legitimateRun();
    expect(r.prunedBelowSeq).toBeGreaterThanOrEqual(before);
    expect(r.pruned).toBe(r.prunedBelowSeq);
    const run = (await tv.custody.auditQuery({ event: 'retention.run' }))[0]!;
    expect(run.seq).toBe(r.retentionSeq);
    expect(run.entry!.details).toMatchObject({ cutoff: r.cutoff, prunedBelowSeq: r.prunedBelowSeq, pruned: r.pruned, policyDays: 1 });
    expect(Date.parse(r.cutoff)).toBe(Date.parse(run.entry!.time) - DAY);
    // Pruning and its entry are one transaction: the run is the first entry after the pruned ones.
    expect(r.retentionSeq).toBe(r.prunedBelowSeq);
    expect((await tv.custody.verifyAudit()).ok).toBe(true);
    // Still verifies from a locked vault reopened from disk.
    const c = await tv.reopen();
    expect(await c.verifyAudit()).toMatchObject({ ok: true, problems: [] });
  });

  test('a pruned entry newer than the cutoff fails, even beside a legitimate run', async () => {
    const r = await legitimateRun();
    const victim = r.retentionSeq + 2;
    const c = await tamper((db) => db.prepare("UPDATE audit_entry SET entry = NULL, actor = '', pruned_at = ?, time = 0 WHERE seq = ?").run(Date.now(), victim));
    const v = await c.verifyAudit();
    expect(kinds(v)).toEqual([`body-deleted@${victim}`]);
    expect(v.problems[0]!.message).toContain(`the newest, entry ${r.retentionSeq}, removed only bodies before entry ${r.prunedBelowSeq}`);
  });

  test('a forged retention.run appended after the last signed checkpoint covers nothing', async () => {
    const c = await tamper((db) => {
      db.prepare("UPDATE audit_entry SET entry = NULL, actor = '', pruned_at = 1 WHERE seq < 4").run();
      const seq = (db.prepare('SELECT max(seq) + 1 AS n FROM audit_entry').get() as { n: number }).n;
      const time = new Date(Date.now() + 10 * DAY);
      const entry = canonicalEntry({ v: 1, seq, time: time.toISOString(), device: 'd', actor: 'tester', event: 'retention.run', target: null, success: true, details: { pruned: 4, cutoff: time.toISOString(), prunedBelowSeq: 4, policyDays: 1 } });
      // Its leaf hash is right, so the row itself is not "modified": only a signature is missing.
      db.prepare("INSERT INTO audit_entry (seq, time, event, actor, target, success, entry, leaf_hash) VALUES (?, ?, 'retention.run', 'tester', NULL, 1, ?, ?)").run(seq, time.getTime(), entry, leafHash(Buffer.from(entry)));
    });
    const v = await c.verifyAudit();
    expect(kinds(v)).toEqual(['body-deleted@0', 'body-deleted@1', 'body-deleted@2', 'body-deleted@3']);
    expect(v.problems[0]!.message).toMatch(/the retention run that claims it \(entry \d+\) is not under a signed checkpoint/);
    expect(v.unsignedTail).toBe(1);
  });

  test('an existing entry rewritten into a retention.run (hash recomputed) breaks the checkpoints and covers nothing', async () => {
    const c = await tamper((db) => {
      const row = db.prepare('SELECT entry FROM audit_entry WHERE seq = 6').get() as { entry: string };
      const e = JSON.parse(row.entry);
      const forged = canonicalEntry({ ...e, event: 'retention.run', target: null, details: { pruned: 5, cutoff: e.time, prunedBelowSeq: 5, policyDays: 1 } });
      db.prepare("UPDATE audit_entry SET entry = ?, leaf_hash = ?, event = 'retention.run', target = NULL WHERE seq = 6").run(forged, leafHash(Buffer.from(forged)));
      db.prepare("UPDATE audit_entry SET entry = NULL, actor = '', pruned_at = 1 WHERE seq < 5").run();
    });
    const v = await c.verifyAudit();
    expect(v.ok).toBe(false);
    expect(kinds(v)).toEqual(expect.arrayContaining(['body-deleted@0', 'body-deleted@4']));
    expect(v.problems.some((p) => p.kind === 'checkpoint-root-mismatch')).toBe(true);
  });

  test('a run logged by an earlier version (cutoff as "before", no sequence bound) still covers what it pruned, by time', async () => {
    const v = tv.custody.vault;
    const now = new Date(Date.now() + 2 * DAY);
    const cutoff = now.getTime() - DAY;
    // What retention did before it recorded prunedBelowSeq.
    await v.db.writeSync(() => {
      const pruned = v.db.sql.prepare("UPDATE audit_entry SET entry = NULL, actor = '', target = NULL, pruned_at = ? WHERE time < ? AND entry IS NOT NULL").run(now.getTime(), cutoff).changes;
      v.audit.appendSync(v.meta, [{ event: 'retention.run', details: { pruned, before: new Date(cutoff).toISOString(), policyDays: 1 } }], now);
    });
    await v.checkpointNow('batch');
    expect((await tv.custody.verifyAudit()).ok).toBe(true);
    const c = await tamper((db) => db.prepare("UPDATE audit_entry SET entry = NULL, actor = '', pruned_at = 1 WHERE seq = (SELECT max(seq) FROM audit_entry)").run());
    const last = c.vault.audit.size() - 1;
    expect(kinds(await c.verifyAudit())).toContain(`body-deleted@${last}`);
  });

  test('retention refuses a log that does not verify (a time column made to look old), and removes nothing', async () => {
    const c = await tamper((db) => db.prepare('UPDATE audit_entry SET time = 0 WHERE seq = 4').run());
    await c.unlock(PASSWORD, { buildIndex: false });
    await expect(pruneAuditBodies(c.vault, { olderThanDays: 1 })).rejects.toMatchObject({ code: 'TAMPERED' });
    expect(c.vault.db.sql.prepare('SELECT count(*) AS n FROM audit_entry WHERE entry IS NULL').get()).toEqual({ n: 0 });
    expect(await c.auditQuery({ event: 'retention.run' })).toEqual([]);
  });
});
