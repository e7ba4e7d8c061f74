// Full verification of the audit log (docs/architecture.md, "The audit log"): recompute every leaf from the
// stored entry, rebuild the tree in one streaming pass, and check every stored checkpoint's
// signature and root, and the checkpoint kept outside the database. Every problem is reported
// with where it is; verification never stops at the first one. A problem is reported once per
// cause: the signed checkpoints a deleted or inserted row makes fail are counted on that row's
// problem (affectedCheckpoints), not listed one by one.
import type Database from 'better-sqlite3';
import type { AuditVerification } from '../../shared/contract.ts';
import type { Checkpoints } from './checkpoints.ts';
import { leafHashOfText } from './tlog/hash.ts';
import { CompactRange } from './tlog/tree.ts';
import type { Checkpoint } from './tlog/checkpoint.ts';
import { SeqRuns, uncoveredPrunedEntries } from './retention.ts';

export type Problem = AuditVerification['problems'][number];
export type Progress = (done: number, total: number) => void;

interface Row {
  seq: number;
  time: number;
  event: string;
  actor: string;
  target: string | null;
  success: number;
  entry: string | null;
  leaf_hash: Buffer;
  pruned_at: number | null;
}

type RawRow = [seq: number, entry: string | null, leafHash: Buffer, prunedAt: number | null, columnsOk: number];

/**
 * 1 when the query columns say what the entry's JSON says (seq, time as ISO 8601 with
 * milliseconds, event, actor, target, success), else 0; an entry that is not JSON gives 0
 * rather than an error that would stop the whole pass.
 */
const COLUMNS_MATCH = `CASE WHEN json_valid(entry) THEN
    json_extract(entry, '$.seq') IS seq AND json_extract(entry, '$.event') IS event AND json_extract(entry, '$.actor') IS actor
    AND json_extract(entry, '$.target') IS target AND json_extract(entry, '$.success') IS success
    AND json_extract(entry, '$.time') IS strftime('%Y-%m-%dT%H:%M:%S', time / 1000, 'unixepoch') || printf('.%03dZ', time % 1000)
  ELSE 0 END`;

const MAX_PROBLEMS = 1000;

/** Checks the external checkpoint against the log; undefined when consistent (or absent). */
export function checkExternalCheckpoint(cps: Checkpoints, rootAt: (size: number) => Buffer | undefined, logSize: number): Problem | undefined {
  const note = cps.readExternal();
  if (note === undefined) return logSize > 0 ? { kind: 'external-checkpoint-missing', message: 'the checkpoint kept outside the database (checkpoint.txt) is missing' } : undefined;
  let cp: Checkpoint;
  try {
    cp = cps.open(note);
  } catch (e) {
    return { kind: 'external-checkpoint-forged', message: `checkpoint.txt does not verify: ${(e as Error).message}` };
  }
  if (cp.size > logSize)
    return { kind: 'rolled-back', seq: logSize, message: `the database holds ${logSize} audit entries but checkpoint.txt was signed at ${cp.size}: the database was replaced by an older copy or entries were removed from its end` };
  const root = rootAt(cp.size);
  if (root && !root.equals(cp.rootHash)) return { kind: 'rolled-back', message: `the log does not match checkpoint.txt (size ${cp.size}): the database was replaced or rewritten` };
  return undefined;
}

export function verifyLog(db: Database.Database, cps: Checkpoints, onProgress?: Progress): AuditVerification {
  const problems: Problem[] = [];
  const report = (p: Problem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const total = (db.prepare('SELECT count(*) AS n FROM audit_entry').get() as { n: number }).n;

  // Checkpoints to compare roots with, by size; signatures are checked first.
  const stored = cps.all();
  const wanted = new Map<number, { cp: Checkpoint; what: string }[]>();
  const expect = (cp: Checkpoint, what: string) => {
    const list = wanted.get(cp.size) ?? [];
    list.push({ cp, what });
    wanted.set(cp.size, list);
  };
  for (const row of stored) {
    try {
      const cp = cps.open(row.note);
      if (cp.size !== row.size || !cp.rootHash.equals(row.rootHash)) report({ kind: 'checkpoint-mismatch', seq: row.size, message: `the stored checkpoint at size ${row.size} does not match its own signed text` });
      expect(cp, `signed checkpoint at size ${cp.size}`);
    } catch (e) {
      report({ kind: 'checkpoint-forged', seq: row.size, message: `the checkpoint stored at size ${row.size} is not validly signed by this vault's device key: ${(e as Error).message}` });
    }
  }
  const external = cps.readExternal();
  let externalCp: Checkpoint | undefined;
  if (external !== undefined) {
    try {
      externalCp = cps.open(external);
      expect(externalCp, `checkpoint.txt (size ${externalCp.size})`);
    } catch (e) {
      report({ kind: 'external-checkpoint-forged', message: `checkpoint.txt does not verify: ${(e as Error).message}` });
    }
  } else if (total > 0) report({ kind: 'external-checkpoint-missing', message: 'the checkpoint kept outside the database (checkpoint.txt) is missing' });

  const range = new CompactRange();
  // The largest signed checkpoint the log matches: a retention run before it is authentic.
  let signedSize = 0;
  // Found so far: what changes the tree (rows missing, inserted or out of place, leaves
  // rewritten). A checkpoint that fails after one is a consequence of each, counted on it.
  const causes: Problem[] = [];
  const cause = (p: Problem) => {
    report(p);
    causes.push(p);
  };
  const failed = (): boolean => {
    for (const c of causes) c.affectedCheckpoints = (c.affectedCheckpoints ?? 0) + 1;
    return causes.length > 0;
  };
  const checkRoots = () => {
    for (const { cp, what } of wanted.get(range.size) ?? []) {
      if (range.root().equals(cp.rootHash)) signedSize = range.size;
      // With no cause seen, the leaves themselves were rewritten: this is where it shows first.
      else if (!failed()) cause({ kind: 'checkpoint-root-mismatch', seq: cp.size, message: `the log's first ${cp.size} entries do not match the ${what}: an entry before ${cp.size} was changed, removed or inserted`, affectedCheckpoints: 1 });
    }
  };
  checkRoots();

  // Rows as arrays (no per-row object with named keys): this loop runs a million times. SQLite
  // compares the query columns with the entry's JSON itself (in C, without handing the columns
  // over); a row it flags is read again in full and checked in detail.
  const stmt = db.prepare(`SELECT seq, entry, leaf_hash, pruned_at, ${COLUMNS_MATCH} FROM audit_entry ORDER BY seq`).raw();
  const full = db.prepare<[number], Row>('SELECT seq, time, event, actor, target, success, entry, leaf_hash, pruned_at FROM audit_entry WHERE seq = ?');
  let expected = 0;
  const step = Math.max(1, Math.floor(total / 100));
  const pruned = new SeqRuns();
  for (const [seq, entry, leaf, , columnsOk] of stmt.iterate() as IterableIterator<RawRow>) {
    if (seq !== expected) {
      if (seq > expected) cause({ kind: 'missing', seq: expected, message: seq - expected === 1 ? `entry ${expected} was deleted` : `entries ${expected} to ${seq - 1} were deleted` });
      else cause({ kind: 'inserted', seq, message: `entry ${seq} is out of order` });
      // Keep hashing what is there: the checkpoint comparisons show the consequence.
      expected = seq;
    }
    // A missing body is judged after the pass, against the signed retention runs (whatever pruned_at says).
    if (entry === null) pruned.add(seq);
    else {
      // A body that no longer matches its stored leaf hash is reported here; the tree goes on
      // with the stored hash, so the checkpoint comparisons isolate any other change.
      if (!leafHashOfText(entry).equals(leaf)) report({ kind: 'modified', seq, message: `entry ${seq} was modified after it was logged (its hash no longer matches)` });
      else if (columnsOk !== 1) checkColumns(full.get(seq)!, report, cause);
    }
    range.append(leaf);
    expected++;
    if (wanted.has(range.size)) checkRoots();
    if (onProgress && expected % step === 0) onProgress(expected, total);
  }
  onProgress?.(total, total);
  for (const p of uncoveredPrunedEntries(db, pruned, signedSize, MAX_PROBLEMS)) report(p);
  const size = range.size;
  // Checkpoints beyond the log's end: a consequence of a cause above, or else one cause of
  // their own (entries removed from the end, or an older copy of the database).
  const beyond = [...wanted].filter(([s]) => s > size).flatMap(([s, list]) => list.map(({ what }) => ({ s, what })));
  if (causes.length) beyond.forEach(failed);
  else if (beyond.length) {
    const external = beyond.find((b) => b.what.startsWith('checkpoint.txt'));
    const inDb = beyond.filter((b) => b !== external);
    const most = Math.max(...beyond.map((b) => b.s));
    const what = inDb.length === 0 ? external!.what : `${inDb.length === 1 ? inDb[0]!.what : `${inDb.length} signed checkpoints`}${external ? ' and checkpoint.txt' : ''}`;
    report({
      kind: inDb.length === 0 ? 'rolled-back' : 'truncated',
      seq: size,
      message: `the ${what} ${beyond.length === 1 ? 'covers' : 'cover'} ${beyond.length === 1 ? most : `up to ${most}`} entries but the log has only ${size}: entries were removed from its end or the database was rolled back`,
      affectedCheckpoints: beyond.length,
    });
  }
  const latest = Math.max(0, ...stored.map((c) => c.size), externalCp?.size ?? 0);
  const unsigned = size - latest;
  return {
    ok: problems.length === 0,
    entries: size,
    checkpoints: stored.length,
    problems,
    checkedAt: new Date().toISOString(),
    ...(unsigned > 0 ? { unsignedTail: unsigned } : {}),
  };
}

/** The query columns must say what the hashed entry says (they are what filters read). */
function checkColumns(row: Row, report: (p: Problem) => void, cause: (p: Problem) => void): void {
  let e: { seq?: unknown; time?: unknown; event?: unknown; actor?: unknown; target?: unknown; success?: unknown };
  try {
    e = JSON.parse(row.entry!) as typeof e;
  } catch {
    report({ kind: 'modified', seq: row.seq, message: `entry ${row.seq} is not valid JSON` });
    return;
  }
  if (e.seq !== row.seq) {
    cause({ kind: 'reordered', seq: row.seq, message: `the entry stored at position ${row.seq} says it is entry ${String(e.seq)}: rows were swapped or renumbered` });
    return;
  }
  if (e.event !== row.event || e.actor !== row.actor || e.target !== row.target || e.success !== (row.success === 1) || Date.parse(e.time as string) !== row.time)
    report({ kind: 'columns-modified', seq: row.seq, message: `the columns of entry ${row.seq} (time, event, actor, target or success) were changed; its signed content differs` });
}
