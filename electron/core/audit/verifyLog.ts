// Full verification of the audit log (docs/architecture.md, "The audit log"): recompute every leaf from the
// stored entry, rebuild the tree in one streaming pass, and check every stored checkpoint's
// signature and root, and the checkpoint kept outside the database. Every problem is reported
// with where it is; verification never stops at the first one. A problem is reported once per
// cause: the signed checkpoints a deleted or inserted row makes fail are counted on that row's
// problem (affectedCheckpoints), not listed one by one.
import type Database from 'better-sqlite3';
import { hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { AuditVerification } from '../../shared/contract.ts';
import type { Checkpoints } from './checkpoints.ts';
import { EMPTY_ROOT } from './tlog/hash.ts';
import type { Checkpoint } from './tlog/checkpoint.ts';
import { SeqRuns, uncoveredPrunedEntries } from './retention.ts';
import { registryProblems } from './registryState.ts';
import { sqliteDriverPath } from '../db/driverPath.ts';

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


/**
 * 1 when the query columns seq, event, actor, target and success say what the entry's JSON
 * says, else 0; an entry that is not JSON gives 0 rather than an error that would stop the
 * whole pass. The time column is compared in scanChunk (timeSays): formatting it in SQL was a
 * sixth of a verification's CPU.
 */
const COLUMNS_MATCH = `CASE WHEN json_valid(entry) THEN
    json_extract(entry, '$.seq') IS seq AND json_extract(entry, '$.event') IS event AND json_extract(entry, '$.actor') IS actor
    AND json_extract(entry, '$.target') IS target AND json_extract(entry, '$.success') IS success
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

export interface VerifyOptions {
  /** Rows per chunk (a power of two); tests make it small to cross many chunk edges. */
  chunkRows?: number;
  /** Helper threads besides this one (default: the other cores, for logs worth it). */
  threads?: number;
  /** False: this thread only waits and replays (tests, so that the helpers scan every chunk). */
  scanHere?: boolean;
  /**
   * How long the helpers may all make no progress before this thread scans what they still
   * owe (a helper that died, was killed or hangs). Tests shorten it; a result is never wrong
   * for it, since any chunk scanned twice gives the same result.
   */
  stallMs?: number;
  /** Makes a helper fail when it takes chunk `chunk` (tests only). */
  fault?: { chunk: number; how: 'exit' | 'throw' | 'hang' };
}

/** Default of VerifyOptions.stallMs. */
const STALL_MS = 2000;

// Chunks of 2^14 rows: small enough to share a log between threads, large enough that the
// per-chunk messages cost nothing beside the hashing.
const CHUNK_ROWS = 1 << 14;
// Starting a thread (and its own connection) costs ~50 ms: only a log of a few chunks pays.
const THREADED_FROM = 4 * CHUNK_ROWS;

/**
 * Recomputes every leaf, rebuilds the tree and checks every signed root. The log is cut into
 * chunks of rows that are complete subtrees of the tree (2^k rows each, in log order); this
 * thread and helper threads (worker_threads, each with its own read-only connection) scan
 * chunks as they come free, and this thread replays each chunk's findings in log order, so the
 * result and its problems are exactly those of one pass over the log.
 */
export function verifyLog(db: Database.Database, cps: Checkpoints, onProgress?: Progress, opts: VerifyOptions = {}): AuditVerification {
  const problems: Problem[] = [];
  const report = (p: Problem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };

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
  // The chunk plan and the row count, read in one statement (one snapshot).
  const chunkRows = opts.chunkRows ?? CHUNK_ROWS;
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1 || (chunkRows & (chunkRows - 1)) !== 0) throw new RangeError('chunkRows must be a power of two');
  const plan = chunkPlan(db, chunkRows);
  const total = plan[0]?.[1] ?? 0;

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
  const checkRoots = (size: number, root: Buffer) => {
    for (const { cp, what } of wanted.get(size) ?? []) {
      if (root.equals(cp.rootHash)) signedSize = size;
      // With no cause seen, the leaves themselves were rewritten: this is where it shows first.
      else if (!failed()) cause({ kind: 'checkpoint-root-mismatch', seq: cp.size, message: `the log's first ${cp.size} entries do not match the ${what}: an entry before ${cp.size} was changed, removed or inserted`, affectedCheckpoints: 1 });
    }
  };
  checkRoots(0, EMPTY_ROOT);

  const sizes = [...wanted.keys()].filter((s) => s > 0).sort((a, b) => a - b);
  const chunks: Chunk[] = plan.map(([from], j) => ({ from, to: j + 1 < plan.length ? plan[j + 1]![0] - 1 : plan[0]![2], base: j * chunkRows, rows: j + 1 < plan.length ? chunkRows : total - j * chunkRows }));
  const scanned = scanChunks(db, chunks, sizes, opts.threads ?? (total >= THREADED_FROM ? Math.min(3, availableParallelism() - 1) : 0), opts.scanHere ?? true, opts);
  // Another process changed the log under the plan (rows deleted or inserted meanwhile): one
  // chunk over the whole log, scanned here in one statement, as a single pass would.
  const whole = (): ChunkResult[] => [scanChunk(db, SCAN_SQL, { from: -Number.MAX_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER, base: 0, rows: -1 }, sizes, hash)];
  const results = scanned.every((r, j) => r.rows === chunks[j]!.rows) ? scanned : whole();

  const full = db.prepare<[number], Row>('SELECT seq, time, event, actor, target, success, entry, leaf_hash, pruned_at FROM audit_entry WHERE seq = ?');
  const pruned = new SeqRuns();
  const tree = new HexRange();
  let expected = 0;
  let size = 0;
  for (const r of results) {
    // The sequence number expected at a row: counted on from the last place it jumped.
    let anchorRow = 0;
    let anchorSeq = expected;
    const ev = r.events;
    for (let i = 0; i < ev.length; ) {
      const code = ev[i++] as number;
      if (code === EV_ROOT) {
        const m = ev[i++] as number;
        const inChunk = ev[i++] as string;
        checkRoots(r.base + m, Buffer.from(tree.foldOnto(inChunk), 'hex'));
        continue;
      }
      const row = ev[i++] as number;
      const seq = ev[i++] as number;
      if (code === EV_SEQ) {
        const exp = anchorSeq + (row - anchorRow);
        if (seq !== exp) {
          if (seq > exp) cause({ kind: 'missing', seq: exp, message: seq - exp === 1 ? `entry ${exp} was deleted` : `entries ${exp} to ${seq - 1} were deleted` });
          else cause({ kind: 'inserted', seq, message: `entry ${seq} is out of order` });
          // Keep hashing what is there: the checkpoint comparisons show the consequence.
          anchorRow = row;
          anchorSeq = seq;
        }
      } else if (code === EV_PRUNED) pruned.add(seq);
      // A body that no longer matches its stored leaf hash is reported here; the tree goes on
      // with the stored hash, so the checkpoint comparisons isolate any other change.
      else if (code === EV_MODIFIED) report({ kind: 'modified', seq, message: `entry ${seq} was modified after it was logged (its hash no longer matches)` });
      else checkColumns(full.get(seq)!, report, cause);
    }
    expected = anchorSeq + (r.rows - anchorRow);
    size += r.rows;
    if (r.root !== null) tree.append(r.root);
    onProgress?.(size, total);
  }
  if (results.length === 0) onProgress?.(0, 0);
  for (const p of uncoveredPrunedEntries(db, pruned, signedSize, MAX_PROBLEMS)) report(p);
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
  // The key registry against the state the log last committed (a deleted, replayed or edited row).
  for (const p of registryProblems(db)) report(p);
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

// What a chunk's scan found, in log order, as a flat list (cheap to pass between threads):
// [EV_SEQ, row, seq] where the sequence numbers jump (and at row 0), [EV_PRUNED | EV_MODIFIED |
// EV_COLUMNS, row, seq] per row concerned, [EV_ROOT, m, hex] the fold of the chunk's first m
// leaves where the log's size there is a checkpoint's.
const EV_SEQ = 1;
const EV_PRUNED = 2;
const EV_MODIFIED = 3;
const EV_ROOT = 5;

/**
 * [first seq of each chunk, row count, last seq]. Sequence numbers without a gap (an intact
 * log) give the chunks by arithmetic; otherwise each chunk's first row is found by its rank
 * (a window function over every row: ~20 times the cost of the count).
 */
function chunkPlan(db: Database.Database, chunkRows: number): [number, number, number][] {
  const [total, first, last] = db.prepare('SELECT count(*), min(seq), max(seq) FROM audit_entry').raw().get() as [number, number | null, number | null];
  if (total === 0 || first === null || last === null) return [];
  if (last - first + 1 === total) return Array.from({ length: Math.ceil(total / chunkRows) }, (_, j) => [first + j * chunkRows, total, last]);
  return db
    .prepare('SELECT seq, total, last FROM (SELECT seq, row_number() OVER (ORDER BY seq) - 1 AS rn, count(*) OVER () AS total, max(seq) OVER () AS last FROM audit_entry) WHERE rn % ? = 0 ORDER BY seq')
    .raw()
    .all(chunkRows) as [number, number, number][];
}

/** Rows of the log with seq in [from, to]: `rows` of them, the leaves base.. of the tree. */
interface Chunk {
  from: number;
  to: number;
  base: number;
  rows: number;
}

interface ChunkResult {
  base: number;
  rows: number;
  events: (number | string)[];
  /** The chunk's complete subtree (hex), or null when it is not full. */
  root: string | null;
}

/**
 * Leaf hash recomputed from the entry's bytes and compared as hex (no Buffer per row), the
 * query columns compared with the entry's JSON by SQLite (in C, see COLUMNS_MATCH).
 */
const SCAN_SQL = `SELECT seq, entry, lower(hex(leaf_hash)), ${COLUMNS_MATCH}, time FROM audit_entry WHERE seq >= ? AND seq <= ? ORDER BY seq`;

/**
 * Scans one chunk. Runs in this thread and, as source text, in the helper threads: it must use
 * nothing but its arguments (hashing is node:crypto's one-shot `hash`).
 */
function scanChunk(db: Database.Database, sql: string, chunk: Chunk, sizes: readonly number[], sha256: typeof hash, beat?: Int32Array): ChunkResult {
  const EV_SEQ = 1, EV_PRUNED = 2, EV_MODIFIED = 3, EV_COLUMNS = 4, EV_ROOT = 5;
  const scratch = Buffer.alloc(65);
  scratch[0] = 1;
  const node = (left: string, right: string): string => {
    scratch.write(left, 1, 'hex');
    scratch.write(right, 33, 'hex');
    return sha256('sha256', scratch, 'hex');
  };
  // Does the time column say what the entry says? An entry the app wrote is canonical JSON
  // (RFC 8785, keys sorted), so it ends ,"time":"<ISO 8601>","v":1} and the ISO text holds no
  // quote: matching that end is matching the member, with no parse. The text is made once per
  // distinct time (a batch of entries shares one). No match sends the row to checkColumns,
  // which parses the entry and decides.
  let lastTime = Number.NaN;
  let timeEnd = '';
  const timeSays = (entry: string, time: unknown): boolean => {
    if (time !== lastTime) {
      if (!Number.isSafeInteger(time) || Math.abs(time as number) > 8.64e15) return false;
      lastTime = time as number;
      timeEnd = ',"time":"' + new Date(lastTime).toISOString() + '","v":1}';
    }
    return entry.endsWith(timeEnd);
  };
  // The chunk's own compact range: frontier[L] is set where bit L of count is.
  const frontier: string[] = [];
  let count = 0;
  const fold = (): string => {
    let h: string | undefined;
    for (let level = 0, rest = count; rest > 0; level++, rest = Math.floor(rest / 2)) if (rest % 2 === 1) h = h === undefined ? frontier[level]! : node(frontier[level]!, h);
    return h!;
  };
  const events: (number | string)[] = [];
  let next = 0;
  while (next < sizes.length && sizes[next]! <= chunk.base) next++;
  let prev = Number.NaN;
  for (const [seq, entry, leaf, columnsOk, time] of db.prepare(sql).raw().iterate(chunk.from, chunk.to) as IterableIterator<[number, string | null, string, number, unknown]>) {
    const row = count;
    // A helper's heartbeat, so the waiting thread can tell a slow helper from a gone one.
    if (beat && (row & 1023) === 0) Atomics.add(beat, 2, 1);
    if (seq !== prev + 1) events.push(EV_SEQ, row, seq);
    prev = seq;
    if (leaf.length !== 64) throw new RangeError(`a leaf hash must be 32 bytes, got ${leaf.length / 2}`);
    // A missing body is judged after the pass, against the signed retention runs.
    if (entry === null) events.push(EV_PRUNED, row, seq);
    // Leaf = SHA-256(0x00 || entry's UTF-8 bytes) (RFC 6962); '\0' encodes as that one byte.
    else if (sha256('sha256', '\0' + entry, 'hex') !== leaf) events.push(EV_MODIFIED, row, seq);
    else if (columnsOk !== 1 || !timeSays(entry, time)) events.push(EV_COLUMNS, row, seq);
    let h = leaf;
    let level = 0;
    for (let index = count; index % 2 === 1; index = Math.floor(index / 2), level++) h = node(frontier[level]!, h);
    frontier[level] = h;
    count++;
    while (next < sizes.length && sizes[next] === chunk.base + count) {
      events.push(EV_ROOT, count, fold());
      next++;
    }
  }
  // A full chunk is one complete subtree: its root is the frontier's top.
  const full = count > 0 && (count & (count - 1)) === 0 && (chunk.rows === count || chunk.rows < 0);
  return { base: chunk.base, rows: count, events, root: full ? fold() : null };
}

const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const scanChunk = ${scanChunk.toString()};
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
const { control, chunks, sizes, sql, port, fault } = workerData;
// Chunks are taken from a shared counter, so every thread stays busy to the end.
for (let j = Atomics.add(control, 0, 1); j < chunks.length; j = Atomics.add(control, 0, 1)) {
  if (fault && fault.chunk === j) {
    if (fault.how === 'exit') process.exit(1);
    if (fault.how === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    throw new Error('a fault forced by a test');
  }
  try {
    port.postMessage({ j, result: scanChunk(db, sql, chunks[j], sizes, hash, control) });
  } catch (e) {
    port.postMessage({ j, error: String(e && e.message) });
  }
  Atomics.add(control, 1, 1);
  Atomics.notify(control, 1);
}
db.close();
port.close();
`;

/**
 * Scans every chunk, with `threads` helper threads beside this one; returns the results in
 * chunk order. Blocks this thread (as the single pass did): it scans chunks itself meanwhile.
 * A helper that dies, is killed or hangs while it holds a chunk never makes this thread wait
 * forever: once no helper has made progress for `stallMs`, this thread scans every chunk
 * still missing (scanning a chunk twice gives the same result, whichever arrives first).
 */
function scanChunks(db: Database.Database, chunks: Chunk[], sizes: number[], threads: number, scanHere: boolean, opts: Pick<VerifyOptions, 'stallMs' | 'fault'> = {}): ChunkResult[] {
  const results: (ChunkResult | undefined)[] = new Array(chunks.length);
  if (threads < 1 || chunks.length < 2 || db.memory) {
    chunks.forEach((c, j) => (results[j] = scanChunk(db, SCAN_SQL, c, sizes, hash)));
    return results as ChunkResult[];
  }
  // control[0]: the next chunk to take; control[1]: results posted by the helpers;
  // control[2]: the helpers' heartbeat (every 1024 rows scanned).
  const control = new Int32Array(new SharedArrayBuffer(12));
  const helpers: { worker: Worker; port: MessagePort }[] = [];
  const sqlite = sqliteDriverPath();
  for (let i = 0; i < Math.min(threads, chunks.length); i++) {
    const { port1, port2 } = new MessageChannel();
    // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'custody-verify', execArgv: [], env: {}, workerData: { sqlite, file: db.name, control, chunks, sizes, sql: SCAN_SQL, port: port2, fault: opts.fault ?? null }, transferList: [port2] });
    worker.unref();
    // A helper's failure shows as chunks it never posts (handled below), not as an event.
    worker.on('error', () => undefined);
    helpers.push({ worker, port: port1 });
  }
  let missing = chunks.length;
  let received = 0;
  const failedChunks: number[] = [];
  const put = (j: number, r: ChunkResult) => {
    if (results[j] === undefined) missing--;
    results[j] = r;
  };
  const drain = () => {
    for (const { port } of helpers)
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const { j, result } = m.message as { j: number; result?: ChunkResult };
        received++;
        // A helper that failed leaves its chunk to this thread (which then reports the error).
        if (result) put(j, result);
        else failedChunks.push(j);
      }
  };
  try {
    for (let j = scanHere ? Atomics.add(control, 0, 1) : chunks.length; j < chunks.length; j = Atomics.add(control, 0, 1)) {
      put(j, scanChunk(db, SCAN_SQL, chunks[j]!, sizes, hash));
      drain();
    }
    // Wait for the chunks the helpers took; each posts its message before it counts it.
    let beat = Atomics.load(control, 2);
    let quiet = 0;
    const stallMs = opts.stallMs ?? STALL_MS;
    for (;;) {
      drain();
      for (const j of failedChunks.splice(0)) put(j, scanChunk(db, SCAN_SQL, chunks[j]!, sizes, hash));
      if (missing === 0) break;
      const posted = Atomics.load(control, 1);
      if (posted > received) continue;
      const t0 = performance.now();
      Atomics.wait(control, 1, posted, Math.min(250, stallMs));
      const now = Atomics.load(control, 2);
      if (now !== beat || Atomics.load(control, 1) !== posted) {
        beat = now;
        quiet = 0;
        continue;
      }
      quiet += performance.now() - t0;
      if (quiet < stallMs) continue;
      // No helper moved for stallMs: what they still owe is scanned here.
      for (let j = 0; j < chunks.length; j++) if (results[j] === undefined) put(j, scanChunk(db, SCAN_SQL, chunks[j]!, sizes, hash));
    }
  } finally {
    for (const { worker, port } of helpers) {
      port.close();
      void worker.terminate();
    }
  }
  return results as ChunkResult[];
}

/** The compact range of complete chunks (their roots as leaves of a coarser tree), in hex. */
class HexRange {
  #count = 0;
  readonly #frontier: string[] = [];
  readonly #scratch = Buffer.alloc(65, 1);

  append(root: string): void {
    let h = root;
    let level = 0;
    for (let index = this.#count; index % 2 === 1; index = Math.floor(index / 2), level++) h = this.#node(this.#frontier[level]!, h);
    this.#frontier[level] = h;
    this.#count++;
  }

  /** The root of the log up to the end of the appended chunks and then `inChunk`'s subtrees. */
  foldOnto(inChunk: string): string {
    let h = inChunk;
    for (let level = 0, rest = this.#count; rest > 0; level++, rest = Math.floor(rest / 2)) if (rest % 2 === 1) h = this.#node(this.#frontier[level]!, h);
    return h;
  }

  #node(left: string, right: string): string {
    this.#scratch.write(left, 1, 'hex');
    this.#scratch.write(right, 33, 'hex');
    return hash('sha256', this.#scratch, 'hex');
  }
}
