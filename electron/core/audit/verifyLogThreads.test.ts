// Verification split into chunks scanned by helper threads must find exactly what one pass over
// the whole log finds: each tamper below is performed on a copy of a real vault, then verified
// as one chunk, as many small chunks in this thread, and as many small chunks scanned by helper
// threads only (worker_threads with their own read-only connections).
import { afterAll, beforeAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { tempDir, tempVault } from '../testing/tempVault.ts';
import { leafHash } from './tlog/hash.ts';
import { verifyLog, type VerifyOptions } from './verifyLog.ts';

let source: string;
let root: string;
beforeAll(async () => {
  const tv = await tempVault();
  for (let i = 0; i < 40; i++) {
    await tv.custody.vault.record({ event: 'record.viewed', target: `record:r${i}`, details: { event: 'search', n: i } });
    // Checkpoints at many sizes, so roots are compared inside chunks and at their edges.
    if (i % 3 !== 1) await tv.custody.vault.checkpointNow('batch');
  }
  await tv.custody.close();
  source = tv.dir;
  root = tempDir();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const modes: [string, VerifyOptions][] = [
  ['one chunk', {}],
  ['chunks of 4 here', { chunkRows: 4, threads: 0 }],
  ['chunks of 4 in 2 helper threads', { chunkRows: 4, threads: 2, scanHere: false }],
  ['chunks of 8 here and in a helper', { chunkRows: 8, threads: 1 }],
];

async function verifyEveryWay(name: string, tamper: (db: Database.Database) => void) {
  const dir = join(root, name);
  cpSync(source, dir, { recursive: true });
  const db = new Database(join(dir, 'custody.db'));
  tamper(db);
  db.close();
  const c = await Custody.open(dir);
  try {
    const results = modes.map(([mode, opts]) => {
      const { checkedAt: _, ...r } = verifyLog(c.vault.db.sql, c.vault.checkpoints, undefined, opts);
      return { mode, r };
    });
    for (const { mode, r } of results.slice(1)) expect(r, mode).toEqual(results[0]!.r);
    return results[0]!.r;
  } finally {
    await c.close();
  }
}

const kinds = (r: { problems: { kind: string; seq?: number }[] }) => r.problems.map((p) => `${p.kind}@${p.seq ?? '-'}`);

test('a clean log verifies the same in chunks and threads', async () => {
  const r = await verifyEveryWay('clean', () => undefined);
  expect(r.ok).toBe(true);
  expect(r.entries).toBeGreaterThan(40);
});

test('a modified entry, in a chunk scanned by a helper thread', async () => {
  const r = await verifyEveryWay('modified', (db) => db.prepare("UPDATE audit_entry SET entry = replace(entry, 'r17', 'r71') WHERE seq = 21").run());
  expect(kinds(r)).toEqual(['modified@21']);
});

test('an entry rewritten with its leaf hash: the first checkpoint after it fails, every later one counted', async () => {
  const r = await verifyEveryWay('forged-leaf', (db) => {
    const { entry } = db.prepare('SELECT entry FROM audit_entry WHERE seq = 13').get() as { entry: string };
    const forged = entry.replace('"success":true', '"success":false');
    db.prepare('UPDATE audit_entry SET entry = ?, success = 0, leaf_hash = ? WHERE seq = 13').run(forged, leafHash(Buffer.from(forged)));
  });
  expect(r.problems).toHaveLength(1);
  expect(r.problems[0]).toMatchObject({ kind: 'checkpoint-root-mismatch' });
  expect(r.problems[0]!.affectedCheckpoints).toBeGreaterThan(10);
});

test('changed columns, including an event copied from look-alike details', async () => {
  const r = await verifyEveryWay('columns', (db) => {
    db.prepare("UPDATE audit_entry SET event = 'search' WHERE seq = 9").run();
    db.prepare("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 30").run();
    db.prepare('UPDATE audit_entry SET success = 2 WHERE seq = 31').run();
  });
  expect(kinds(r)).toEqual(['columns-modified@9', 'columns-modified@30', 'columns-modified@31']);
});

test('deleted rows (one inside a chunk, two across a chunk edge) and rows removed from the end', async () => {
  const r = await verifyEveryWay('deleted', (db) => {
    db.prepare('DELETE FROM audit_entry WHERE seq IN (6, 15, 16)').run();
    db.prepare('DELETE FROM audit_entry WHERE seq >= (SELECT max(seq) - 1 FROM audit_entry)').run();
  });
  expect(kinds(r)).toEqual(['missing@6', 'missing@15']);
  expect(r.problems[1]!.message).toBe('entries 15 to 16 were deleted');
});

test('swapped rows and an inserted row', async () => {
  const swapped = await verifyEveryWay('swapped', (db) => {
    const get = db.prepare('SELECT entry, leaf_hash, event, actor, target, success, time FROM audit_entry WHERE seq = ?');
    const [a, b] = [get.get(11) as Record<string, unknown>, get.get(26) as Record<string, unknown>];
    const put = db.prepare('UPDATE audit_entry SET entry = @entry, leaf_hash = @leaf_hash, event = @event, actor = @actor, target = @target, success = @success, time = @time WHERE seq = @seq');
    put.run({ ...b, seq: 11 });
    put.run({ ...a, seq: 26 });
  });
  expect(kinds(swapped)).toEqual(expect.arrayContaining(['reordered@11', 'reordered@26']));
  const inserted = await verifyEveryWay('inserted', (db) => {
    db.prepare('UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 18').run();
    db.prepare('UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1018').run();
    const forged = JSON.stringify({ actor: 'x', details: {}, device: 'd', event: 'record.viewed', seq: 18, success: true, target: null, time: '2026-01-01T00:00:00.000Z', v: 1 });
    db.prepare("INSERT INTO audit_entry (seq, time, event, actor, target, success, entry, leaf_hash) VALUES (18, 1767225600000, 'record.viewed', 'x', NULL, 1, ?, ?)").run(forged, leafHash(Buffer.from(forged)));
  });
  expect(kinds(inserted)).toContain('reordered@19');
  expect(inserted.problems.some((p) => p.kind === 'checkpoint-root-mismatch')).toBe(true);
});

test('a body removed by hand, outside any signed retention run', async () => {
  const r = await verifyEveryWay('body-deleted', (db) => db.prepare('UPDATE audit_entry SET entry = NULL WHERE seq = 23').run());
  expect(r.problems.map((p) => p.kind)).toContain('body-deleted');
});

// A helper that dies, is killed or hangs while it holds a chunk: the caller still gets the
// whole answer (this thread scans what the helper owed once no helper moved for stallMs),
// never a wait without end. The fault is forced when the helper takes chunk 5.
for (const how of ['exit', 'throw', 'hang'] as const) {
  test(`a helper that ${how === 'exit' ? 'exits' : how === 'throw' ? 'throws' : 'hangs'} holding a chunk: verification still finds what one pass finds`, async () => {
    const dir = join(root, `fault-${how}`);
    cpSync(source, dir, { recursive: true });
    const db = new Database(join(dir, 'custody.db'));
    db.prepare("UPDATE audit_entry SET entry = replace(entry, 'r17', 'r71') WHERE seq = 21").run();
    db.close();
    const c = await Custody.open(dir);
    try {
      const { checkedAt: _a, ...one } = verifyLog(c.vault.db.sql, c.vault.checkpoints);
      // Chunk 5 holds seq 20..23: the modified entry is in the chunk the helper never returns.
      const { checkedAt: _b, ...faulty } = verifyLog(c.vault.db.sql, c.vault.checkpoints, undefined, { chunkRows: 4, threads: 1, scanHere: false, stallMs: 200, fault: { chunk: 5, how } });
      expect(kinds(one)).toEqual(['modified@21']);
      expect(faulty).toEqual(one);
    } finally {
      await c.close();
    }
  });
}
