// Tamper tests: edit the SQLite file directly and check that verification pinpoints each change.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { consistencyProof, exportCanonical, inclusionProof } from './proofs.ts';
import { pruneAuditBodies, setRetentionPolicy } from './retention.ts';
import { verifyTlogProof, verifyConsistencyProof } from './tlog/proof.ts';
import { parseVerifierKey } from './tlog/note.ts';
import { leafHash } from './tlog/hash.ts';
import { parseCheckpoint } from './tlog/checkpoint.ts';

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
  for (let i = 0; i < 6; i++) {
    await tv.custody.createRecord({ kind: 'note', title: `r${i}` });
    // Bursts share one checkpoint; these tests want several to compare with.
    await tv.custody.vault.checkpointNow('batch');
  }
});
afterEach(async () => tv.cleanup());

/** Closes the vault, runs raw SQL on its database, and reopens it unlocked. */
async function tamper(sql: (db: Database.Database) => void) {
  await tv.custody.close();
  const db = new Database(join(tv.dir, 'custody.db'));
  sql(db);
  db.close();
  const c = await tv.reopen();
  return c;
}

const kinds = (r: { problems: { kind: string; seq?: number }[] }) => r.problems.map((p) => `${p.kind}@${p.seq ?? '-'}`);

describe('audit verification', () => {
  test('a clean log verifies, with signed checkpoints inside and outside the database', async () => {
    const r = await tv.custody.verifyAudit();
    expect(r).toMatchObject({ ok: true, problems: [] });
    expect(r.entries).toBeGreaterThanOrEqual(10);
    expect(r.checkpoints).toBeGreaterThanOrEqual(6);
    const external = readFileSync(join(tv.dir, 'checkpoint.txt'), 'utf8');
    expect(external).toMatch(/^custody\.vault\/[0-9a-f-]{36}\n\d+\n[A-Za-z0-9+/]{43}=\n\n— custody\.vault\//);
  });

  test('a modified entry is reported with its sequence number', async () => {
    const c = await tamper((db) => db.prepare("UPDATE audit_entry SET entry = replace(entry, 'record.created', 'record.deleted'), event = 'record.deleted' WHERE seq = 5").run());
    const r = await c.verifyAudit();
    expect(r.ok).toBe(false);
    expect(kinds(r)).toContain('modified@5');
    expect(r.problems.some((p) => p.kind === 'checkpoint-root-mismatch')).toBe(false);
  });

  test('an entry edited together with its leaf hash breaks the signed checkpoints', async () => {
    const c = await tamper((db) => {
      const row = db.prepare('SELECT entry FROM audit_entry WHERE seq = 4').get() as { entry: string };
      const forged = row.entry.replace('"success":true', '"success":false');
      db.prepare('UPDATE audit_entry SET entry = ?, success = 0, leaf_hash = ? WHERE seq = 4').run(forged, leafHash(Buffer.from(forged)));
    });
    const r = await c.verifyAudit();
    expect(r.ok).toBe(false);
    // One cause, shown where it first breaks a checkpoint (the first one covering entry 4),
    // with every checkpoint it breaks counted on it.
    const after = tv.custody.vault.checkpoints.all().filter((cp) => cp.size > 4);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'checkpoint-root-mismatch', seq: Math.min(...after.map((cp) => cp.size)), affectedCheckpoints: after.length + 1 })]);
  });

  test('changed query columns are reported', async () => {
    const c = await tamper((db) => db.prepare("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 3").run());
    expect(kinds(await c.verifyAudit())).toEqual(['columns-modified@3']);
  });

  test('every column is compared, even when details and ranges hold look-alike text', async () => {
    // Details that mimic the top-level keys, a time range, a null target, a failure, non-ASCII.
    await tv.custody.vault.record(
      { event: 'search', actor: 'Zoë "quoted"', details: { a: 1, event: 'record.viewed', note: ',"event":"x"', seq: 1, success: true }, range: { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' } },
      { event: 'vault.unlock_failed', success: false, target: 'vault:v', details: { event: 'search' } },
    );
    expect((await tv.custody.verifyAudit()).ok).toBe(true);
    const a = tv.custody.vault.audit.size() - 3;
    const b = a + 1;
    const select = tv.custody.vault.db.sql.prepare('SELECT event, actor, target, success, time FROM audit_entry WHERE seq = ?');
    const original = new Map([a, b].map((seq) => [seq, select.get(seq) as Record<string, string | number | null>]));
    // The time is compared as text from the entry's end: a millisecond off, or a fraction of one, shows.
    const bTime = original.get(b)!.time as number;
    const cases = [['event', 'record.viewed', a], ['actor', 'Zoe "quoted"', a], ['target', 'vault:v', a], ['time', 0, a], ['event', 'search', b], ['target', 'vault:w', b], ['success', 1, b], ['time', bTime + 1, b], ['time', bTime + 0.5, b], ['time', new Date(bTime).toISOString(), b]] as const;
    for (const [column, value, seq] of cases) {
      const set = (v: string | number | null) => tamper((db) => db.prepare(`UPDATE audit_entry SET ${column} = ? WHERE seq = ?`).run(v, seq));
      const c = await set(value);
      expect(kinds(await c.verifyAudit()), `${column} of entry ${seq}`).toContain(`columns-modified@${seq}`);
      await set(original.get(seq)![column]!);
    }
    expect((await tv.custody.verifyAudit()).ok).toBe(true);
  });

  test('a deleted row is reported where it was', async () => {
    const c = await tamper((db) => db.prepare('DELETE FROM audit_entry WHERE seq = 7').run());
    const r = await c.verifyAudit();
    expect(kinds(r)).toContain('missing@7');
  });

  test('one deleted row in a log with many checkpoints is one problem, naming it and the checkpoints it breaks', async () => {
    for (let i = 0; i < 50; i++) {
      await tv.custody.vault.record({ event: 'record.viewed', target: `record:r${i}` });
      await tv.custody.vault.checkpointNow('batch');
    }
    const c = await tamper((db) => db.prepare('DELETE FROM audit_entry WHERE seq = 7').run());
    const cps = c.vault.checkpoints.all();
    expect(cps.length).toBeGreaterThan(50);
    const r = await c.verifyAudit();
    // Every signed checkpoint covering entry 7 fails, and so does checkpoint.txt: one cause.
    const broken = cps.filter((cp) => cp.size > 7).length + 1;
    expect(broken).toBeGreaterThan(50);
    expect(r.problems).toEqual([{ kind: 'missing', seq: 7, message: 'entry 7 was deleted', affectedCheckpoints: broken }]);
  });

  test('rows removed from the end are one problem, however many checkpoints covered them', async () => {
    for (let i = 0; i < 5; i++) {
      await tv.custody.vault.record({ event: 'record.viewed', target: `record:r${i}` });
      await tv.custody.vault.checkpointNow('batch');
    }
    let size = 0;
    const c = await tamper((db) => {
      size = (db.prepare('SELECT count(*) AS n FROM audit_entry').get() as { n: number }).n;
      db.prepare('DELETE FROM audit_entry WHERE seq >= ?').run(size - 3);
    });
    const r = await c.verifyAudit();
    // The last three entries were covered by three checkpoints in the database (one per batch
    // above and the lock's) and by checkpoint.txt.
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'truncated', seq: size - 3, affectedCheckpoints: 4 })]);
    expect(r.problems[0]!.message).toBe(`the 3 signed checkpoints and checkpoint.txt cover up to ${size} entries but the log has only ${size - 3}: entries were removed from its end or the database was rolled back`);
  });

  test('two swapped rows are reported as reordered at both positions', async () => {
    const c = await tamper((db) => {
      const a = db.prepare('SELECT entry, leaf_hash, event, actor, target, success, time FROM audit_entry WHERE seq = 4').get() as Record<string, unknown>;
      const b = db.prepare('SELECT entry, leaf_hash, event, actor, target, success, time FROM audit_entry WHERE seq = 6').get() as Record<string, unknown>;
      const put = db.prepare('UPDATE audit_entry SET entry = @entry, leaf_hash = @leaf_hash, event = @event, actor = @actor, target = @target, success = @success, time = @time WHERE seq = @seq');
      put.run({ ...b, seq: 4 });
      put.run({ ...a, seq: 6 });
    });
    const r = await c.verifyAudit();
    expect(kinds(r)).toEqual(expect.arrayContaining(['reordered@4', 'reordered@6']));
  });

  test('an inserted row (later rows renumbered) is reported where the log shifts', async () => {
    const c = await tamper((db) => {
      const rows = db.prepare('SELECT seq FROM audit_entry WHERE seq >= 5 ORDER BY seq DESC').all() as { seq: number }[];
      for (const { seq } of rows) db.prepare('UPDATE audit_entry SET seq = ? WHERE seq = ?').run(seq + 1, seq);
      const forged = JSON.stringify({ actor: 'x', details: {}, device: 'd', event: 'record.viewed', seq: 5, success: true, target: null, time: '2026-01-01T00:00:00.000Z', v: 1 });
      db.prepare("INSERT INTO audit_entry (seq, time, event, actor, target, success, entry, leaf_hash) VALUES (5, 1767225600000, 'record.viewed', 'x', NULL, 1, ?, ?)").run(forged, leafHash(Buffer.from(forged)));
    });
    const r = await c.verifyAudit();
    expect(r.ok).toBe(false);
    expect(kinds(r)).toContain('reordered@6');
    expect(r.problems.some((p) => p.kind === 'checkpoint-root-mismatch')).toBe(true);
  });

  test('a forged checkpoint is reported', async () => {
    const c = await tamper((db) => {
      const cp = db.prepare('SELECT size, note FROM audit_checkpoint ORDER BY size LIMIT 1 OFFSET 2').get() as { size: number; note: string };
      const lines = cp.note.split('\n');
      lines[1] = String(cp.size + 1);
      db.prepare('UPDATE audit_checkpoint SET note = ? WHERE size = ?').run(lines.join('\n'), cp.size);
    });
    expect(kinds(await c.verifyAudit()).some((k) => k.startsWith('checkpoint-forged@'))).toBe(true);
  });

  test('a database replaced by an older copy is detected at open and by verify', async () => {
    await tv.custody.close();
    const old = join(tv.dir, '..', 'old.db');
    copyFileSync(join(tv.dir, 'custody.db'), old);
    let c = await tv.reopen();
    await c.unlock(PASSWORD);
    await c.createRecord({ kind: 'note', title: 'after the copy' });
    await c.close();
    for (const suffix of ['-wal', '-shm']) rmSync(join(tv.dir, `custody.db${suffix}`), { force: true });
    copyFileSync(old, join(tv.dir, 'custody.db'));
    c = await tv.reopen();
    expect(c.status().integrityProblem).toMatch(/older copy/);
    await c.unlock(PASSWORD);
    const r = await c.verifyAudit();
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.kind)).toContain('rolled-back');
    // The evidence is not overwritten by new checkpoints.
    expect(parseCheckpoint(readFileSync(join(tv.dir, 'checkpoint.txt'), 'utf8').split('\n\n')[0] + '\n').size).toBeGreaterThan(r.entries - 3);
  });

  test('retention prunes bodies but keeps hashes: the log still verifies; a body deleted by hand does not', async () => {
    const c = tv.custody;
    const r = await pruneAuditBodies(c.vault, { olderThanDays: 1, now: new Date(Date.now() + 2 * 86_400_000) });
    expect(r.pruned).toBeGreaterThanOrEqual(10);
    const v = await c.verifyAudit();
    expect(v).toMatchObject({ ok: true });
    const pruned = await c.auditQuery({ order: 'asc', limit: 3 });
    expect(pruned[0]).toMatchObject({ pruned: true, entry: null, actor: '' });
    expect((await c.auditQuery({ event: 'retention.run' }))[0]!.entry!.details).toMatchObject({ pruned: r.pruned, policyDays: 1 });
    const c2 = await tamper((db) => db.prepare('UPDATE audit_entry SET entry = NULL WHERE seq = (SELECT max(seq) - 1 FROM audit_entry)').run());
    expect((await c2.verifyAudit()).problems.map((p) => p.kind)).toContain('body-deleted');
  });
});

test('the retention policy is a setting: audited, kept across opens, and used by prune', async () => {
  await setRetentionPolicy(tv.custody.vault, 30);
  await expect(setRetentionPolicy(tv.custody.vault, 0)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  const c = await tv.reopen();
  expect(c.vault.meta.retentionDays).toBe(30);
  await c.unlock(PASSWORD);
  expect((await c.auditQuery({ event: 'settings.changed' }))[0]!.entry!.details).toMatchObject({ retentionDays: 30, previous: 2555 });
  expect((await pruneAuditBodies(c.vault, { now: new Date(Date.now() + 29 * 86_400_000) })).pruned).toBe(0);
  expect((await pruneAuditBodies(c.vault, { now: new Date(Date.now() + 31 * 86_400_000) })).pruned).toBeGreaterThan(10);
});

describe('proofs and export', () => {
  test('a tlog-proof for any entry verifies with the vkey alone; consistency proofs verify between checkpoints', async () => {
    const v = tv.custody.vault;
    const verifier = parseVerifierKey(v.checkpoints.vkey);
    const lines = [...exportCanonical(v)];
    expect(lines).toHaveLength(v.audit.size());
    for (const seq of [0, 3, lines.length - 2]) {
      const text = inclusionProof(v, seq);
      expect(verifyTlogProof(text, { leafData: Buffer.from(lines[seq]!) }, [verifier], v.checkpoints.origin).index).toBe(seq);
      expect(() => verifyTlogProof(text, { leafData: Buffer.from(lines[seq + 1]!) }, [verifier], v.checkpoints.origin)).toThrow();
    }
    const cps = v.checkpoints.all();
    const old = v.checkpoints.open(cps[2]!.note);
    const { proof, checkpoint } = consistencyProof(v, old.size);
    expect(() => verifyConsistencyProof(proof, old, v.checkpoints.open(checkpoint))).not.toThrow();
    const other = v.checkpoints.open(cps[1]!.note);
    expect(() => verifyConsistencyProof(proof, other, v.checkpoints.open(checkpoint))).toThrow();
  });

  test('export writes the leaves input: hashing each line rebuilds the signed root', async () => {
    const v = tv.custody.vault;
    await v.checkpointNow('report');
    const lines = [...exportCanonical(v)];
    writeFileSync(join(tv.dir, '..', 'export.jsonl'), lines.join('\n'));
    expect(lines.every((l) => JSON.parse(l).v === 1)).toBe(true);
    const latest = v.checkpoints.open(v.checkpoints.latest()!.note);
    expect(latest.size).toBe(lines.length);
    const tree = v.audit.tree();
    expect(tree.root(lines.length).equals(latest.rootHash)).toBe(true);
  });
});
