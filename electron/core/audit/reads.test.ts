// The audit module's typed reads (what reports, sync and settings use instead of SQL of their
// own) return exactly the rows of the log, on a real vault.
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { tempVault, type TempVault } from '../testing/tempVault.ts';
import { target } from './entry.ts';
import { AuditReads } from './reads.ts';
import { CompactRange } from './tlog/tree.ts';

let tv: TempVault;
let ids: string[];
beforeEach(async () => {
  tv = await tempVault();
  ids = [];
  for (let i = 0; i < 3; i++) ids.push((await tv.custody.createRecord({ kind: 'note', title: `r${i}` })).id);
  await tv.custody.vault.checkpointNow('batch');
});
afterEach(async () => tv.cleanup());

/** The rows as stored, read here with SQL of the test's own. */
const raw = () =>
  tv.custody.vault.db.sql.prepare('SELECT seq, entry, leaf_hash AS leafHash, time, target FROM audit_entry ORDER BY seq').all() as { seq: number; entry: string | null; leafHash: Buffer; time: number; target: string | null }[];

describe('AuditReads', () => {
  test('entries below a size, from a seq, at a seq; size and last time', () => {
    const audit = tv.custody.vault.audit;
    const rows = raw();
    expect(audit.size()).toBe(rows.length);
    expect([...audit.entriesBelow(rows.length)]).toEqual(rows);
    expect([...audit.entriesBelow(2)]).toEqual(rows.slice(0, 2));
    expect(audit.entriesFrom(1, 2)).toEqual(rows.slice(1, 3));
    expect(audit.entriesFrom(rows.length, 10)).toEqual([]);
    expect(audit.entryAt(2)).toEqual(rows[2]);
    expect(audit.entryAt(rows.length)).toBeUndefined();
    expect(audit.lastEntryTime()).toBe(Math.max(...rows.map((r) => r.time)));
  });

  test('two streams at once each get every row (one statement per stream)', () => {
    const audit = tv.custody.vault.audit;
    const a = audit.entriesBelow(audit.size());
    const b = audit.entriesBelow(audit.size());
    const seqs: number[] = [];
    for (const x of a) seqs.push(x.seq, b.next().value!.seq);
    expect(seqs).toEqual(raw().flatMap((r) => [r.seq, r.seq]));
  });

  test('leaf hashes give the tree the log signed', () => {
    const audit = tv.custody.vault.audit;
    const size = audit.size();
    expect(audit.leafHashes(size)).toEqual(raw().map((r) => r.leafHash));
    expect(audit.leafHashes(size + 5)).toHaveLength(size);
    const range = new CompactRange();
    for (const leaf of audit.streamLeafHashes()) range.append(leaf);
    expect(range.size).toBe(size);
    expect(range.root().equals(audit.tree().root())).toBe(true);
  });

  test('entries about targets: many targets (more than one query holds), in log order, below the size', () => {
    const audit = tv.custody.vault.audit;
    const wanted = [...Array.from({ length: 700 }, (_, i) => `record:00000000-0000-7000-8000-${String(i).padStart(12, '0')}`), ...ids.map(target.record).reverse()];
    const about = audit.entriesAbout(wanted, audit.size());
    expect(about.map((e) => e.target)).toEqual(ids.map(target.record));
    expect(about.map((e) => e.seq)).toEqual([...about.map((e) => e.seq)].sort((x, y) => x - y));
    expect(audit.entriesAbout(wanted, about[1]!.seq)).toEqual(about.slice(0, 1));
  });

  test('hasEntry matches event, target and body text literally (LIKE wildcards escaped)', () => {
    const audit = tv.custody.vault.audit;
    expect(audit.hasEntry('record.created', { target: target.record(ids[0]!) })).toBe(true);
    expect(audit.hasEntry('record.purged', { target: target.record(ids[0]!) })).toBe(false);
    expect(audit.hasEntry('record.created', { bodyContains: '"kind":"note"' })).toBe(true);
    // Unescaped, _ and % would match any character: "record_created" would find "record.created".
    expect(audit.hasEntry('record.created', { bodyContains: '"event":"record_created"' })).toBe(false);
    expect(audit.hasEntry('record.created', { bodyContains: '"kind":"n%"' })).toBe(false);
    expect(audit.hasEntry('record.created', { target: target.record(ids[1]!), bodyContains: '"kind":"note"' })).toBe(true);
  });

  test('reads a copy of the database too (a backup reads its own copy)', async () => {
    await tv.custody.close();
    const db = new Database(join(tv.dir, 'custody.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT leaf_hash AS leafHash FROM audit_entry ORDER BY seq').all() as { leafHash: Buffer }[];
      const reads = new AuditReads(db);
      expect(reads.size()).toBe(rows.length);
      expect([...reads.streamLeafHashes()]).toEqual(rows.map((r) => r.leafHash));
    } finally {
      db.close();
    }
  });
});
