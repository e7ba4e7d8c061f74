// Appending many entries of one batch (bulk import, records/sealBatch.ts). The log's start state
// (size, the frontier of its tree) is read inside the caller's transaction; auditRows then
// computes each chunk's entries (canonical bytes, leaf hashes, the tree nodes they complete)
// while a helper thread seals that chunk's records, and the rows are written exactly as
// AuditLog.appendSync writes them. `custody audit verify` recomputes every leaf and node from
// the entry text, so a row computed wrongly here could not pass unnoticed.
import type Database from 'better-sqlite3';
import type { AuditEntry } from '../../shared/audit.ts';
import type { AuditContext, AuditLog } from './log.ts';
import { SqliteSubtreeStore } from './subtreeStore.ts';

/** What a helper needs to continue the log: entry fields shared by the batch, and the tree. */
export interface BulkStart {
  seq: number;
  /** ISO time of every entry of the batch, and the same in ms for the time column. */
  time: string;
  ms: number;
  device: string;
  actor: string;
  /** frontier[L]: the complete subtree at level L of the size's decomposition, or null. */
  frontier: (Uint8Array | null)[];
}

/**
 * Appends what is owed first (AuditLog.appendSync with no input of its own), then reads the
 * start state. Inside the caller's write transaction: the write lock makes the state final.
 */
export function bulkStart(log: AuditLog, sql: Database.Database, ctx: AuditContext, now: Date): BulkStart {
  log.appendSync(ctx, [], now);
  const size = log.size();
  const store = new SqliteSubtreeStore(sql);
  const frontier: (Uint8Array | null)[] = [];
  // The decomposition MerkleTree's constructor makes: largest power-of-two pieces, left to right.
  let start = 0;
  for (let rest = size; rest > 0; ) {
    let piece = 1;
    let level = 0;
    while (piece * 2 <= rest) {
      piece *= 2;
      level++;
    }
    const h = store.get(level, start / piece);
    if (!h || h.length !== 32) throw new Error(`the audit tree has no hash for level ${level}, index ${start / piece}`);
    while (frontier.length < level) frontier.push(null);
    frontier[level] = Uint8Array.from(h);
    start += piece;
    rest -= piece;
  }
  return { seq: size, time: now.toISOString(), ms: now.getTime(), device: ctx.deviceId, actor: ctx.actor, frontier };
}

/** Prepared statements writing precomputed rows (one set per connection). */
export class BulkAuditWriter {
  readonly #entry: Database.Statement;
  readonly #node: Database.Statement;

  constructor(sql: Database.Database) {
    this.#entry = sql.prepare("INSERT INTO audit_entry (seq, time, event, actor, target, success, entry, leaf_hash) VALUES (?, ?, ?, ?, ?, 1, ?, ?)");
    this.#node = sql.prepare('INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)');
  }

  entry(seq: number, ms: number, event: string, actor: string, target: string, json: string, leaf: Uint8Array): void {
    this.#entry.run(seq, ms, event, actor, target, json, leaf);
  }

  node(level: number, idx: number, hash: Uint8Array): void {
    this.#node.run(level, idx, hash);
  }
}

/** One successful entry of a batch: its event, target and details (the rest is BulkStart's). */
export interface BulkItem {
  event: AuditEntry['event'];
  target: string;
  details: Record<string, string | number | boolean>;
}

export interface AuditRows {
  /** Canonical text of each entry, in order. */
  json: string[];
  /** Leaf hash of each entry (32 bytes each, in order). */
  leaves: Buffer;
  /** Nodes completed: [level, index] pairs, and their hashes (32 bytes each, in order). */
  nodes: number[];
  nodeHashes: Buffer;
}

/**
 * Entries for `items` from state `s` (advanced in place: seq and frontier), as AuditLog.appendSync
 * and MerkleTree.append make them. `hash` is node:crypto's one-shot hash.
 */
export function auditRows(s: BulkStart, items: readonly BulkItem[], hash: (alg: string, data: Uint8Array, enc: 'binary') => string): AuditRows {
  // RFC 8785 for the values an entry holds (strings, integers, booleans, null, plain objects):
  // object keys in UTF-16 code unit order, everything else as JSON.stringify writes it.
  const canonical = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  };
  // Every entry of the batch has the same keys, so its text is a fixed frame around the values
  // that change (details, seq, target), in the order canonical() sorts the keys: actor,
  // details, device, event, seq, success, target, time, v. bulkAppend.test.ts compares it with
  // AuditLog's canonicalEntry.
  const head = `{"actor":${JSON.stringify(s.actor)},"details":`;
  const detailsText = new Map<string, string>();
  const frame = (event: string) => `,"device":${JSON.stringify(s.device)},"event":${JSON.stringify(event)},"seq":`;
  const frames = new Map<string, string>();
  const tail = `,"time":${JSON.stringify(s.time)},"v":1}`;
  const json: string[] = [];
  const leaves = Buffer.alloc(items.length * 32);
  const nodes: number[] = [];
  // A batch completes at most one node per entry, plus the levels above its start.
  const nodeHashes = Buffer.alloc((items.length + 64) * 32);
  let nodeBytes = 0;
  // Hashes as latin1 strings: a string digest costs far less than a Buffer one (tlog/hash.ts).
  const frontier = s.frontier.map((b) => (b ? Buffer.from(b).toString('latin1') : null));
  const pair = Buffer.alloc(65);
  pair[0] = 1;
  let scratch = Buffer.alloc(4096);
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    // A batch has few distinct details ({ kind } and the like): each is made canonical once.
    const plain = JSON.stringify(it.details);
    let d = detailsText.get(plain);
    if (d === undefined) detailsText.set(plain, (d = canonical(it.details)));
    let f = frames.get(it.event);
    if (f === undefined) frames.set(it.event, (f = frame(it.event)));
    const text = `${head}${d}${f}${s.seq},"success":true,"target":${JSON.stringify(it.target)}${tail}`;
    json.push(text);
    // Leaf = SHA-256(0x00 || the entry's UTF-8 bytes) (RFC 6962).
    if (text.length * 3 + 1 > scratch.length) scratch = Buffer.alloc(text.length * 6 + 2);
    scratch[0] = 0;
    const n = scratch.write(text, 1, 'utf8') + 1;
    let h = hash('sha256', new Uint8Array(scratch.buffer, scratch.byteOffset, n), 'binary');
    leaves.write(h, i * 32, 'latin1');
    let level = 0;
    for (let index = s.seq; index % 2 === 1; index = Math.floor(index / 2), level++) {
      pair.write(frontier[level]!, 1, 'latin1');
      pair.write(h, 33, 'latin1');
      h = hash('sha256', pair, 'binary');
      nodes.push(level + 1, Math.floor(index / 2));
      nodeBytes += nodeHashes.write(h, nodeBytes, 'latin1');
    }
    for (let l = 0; l < level; l++) frontier[l] = null;
    frontier[level] = h;
    s.seq++;
  }
  s.frontier = frontier.map((h) => (h === null ? null : Buffer.from(h, 'latin1')));
  return { json, leaves, nodes, nodeHashes: nodeHashes.subarray(0, nodeBytes) };
}
