// A large import on two cores (bulk import): a helper thread seals the records chunk by chunk
// (pure crypto: a data key per record, its two fields, the key wrapped under its day's epoch
// key) while this thread, inside the import's one write transaction, feeds it each chunk (clear
// columns, new days' epoch keys, plaintext) a few chunks ahead, computes each chunk's audit
// entries (canonical text, leaf hash, tree nodes: audit/bulkAppend.ts) while the helper seals
// it, and writes the rows of the chunks done. The helper is started before anything else, so
// its start-up overlaps this thread's first chunks; whenever this thread would wait for it, it
// prepares a chunk still to come instead. The
// transaction stays synchronous (nothing else on this connection can see a half-written
// import): this thread takes each chunk with receiveMessageOnPort, sleeping on a shared
// counter (Atomics.wait) until the helper posts it. The formats are those of codec.ts (format
// 2 fields, the DEK wrapped under the day's epoch key); sealBatch.test.ts reads what the helper
// sealed through the normal path, so the two cannot drift apart unnoticed.
import * as nodeCrypto from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { auditRows, type AuditRows, type BulkStart } from '../audit/bulkAppend.ts';
import { utcDay } from '../util/time.ts';

/** A chunk's clear columns (version 1 records), as parallel arrays: cheap to hand to a thread. */
export interface ChunkColumns {
  kinds: string[];
  capturedAt: Float64Array;
  days: string[];
}

/**
 * The plaintext of a range of records as sealFields writes it (each record's Summary and
 * Content as JSON, UTF-8), in one buffer that can be handed to the helper thread without a
 * copy: ends[2j] is where record j's summary ends, ends[2j + 1] where its content ends.
 */
interface PlainChunk {
  text: Buffer<ArrayBuffer>;
  ends: Int32Array;
}

/** The plaintext of records [from, to) (this thread writes it: the helper is the busier one). */
function plainChunk(records: readonly SealRecord[], from: number, to: number): PlainChunk {
  const json: string[] = [];
  let size = 0;
  for (let i = from; i < to; i++) {
    // splitInput's two objects (recordStore.ts), keys in the same order.
    const r = records[i]!;
    const s = JSON.stringify({ title: r.title, case: r.case, tags: r.tags, classification: r.classification });
    const c = JSON.stringify({ body: r.body, fields: r.fields });
    json.push(s, c);
    size += Buffer.byteLength(s, 'utf8') + Buffer.byteLength(c, 'utf8');
  }
  // Its own ArrayBuffer (not the shared pool's), so it can be transferred.
  const text = Buffer.allocUnsafeSlow(size);
  const ends = new Int32Array(json.length);
  let pos = 0;
  for (let k = 0; k < json.length; k++) ends[k] = pos += text.write(json[k]!, pos, 'utf8');
  if (pos !== size) throw new Error('internal error: plaintext sizes disagree');
  return { text, ends };
}

/** What of a validated record (shared/records.ts RecordData) goes into its row and sealed fields. */
export interface SealRecord {
  kind: string;
  capturedAt?: string;
  title: string;
  case: string;
  tags: string[];
  classification: string;
  body: string;
  fields: unknown[];
}

/** One chunk, sealed, with its audit entries, as next() hands it out (in order). */
export interface SealedChunk {
  ids: string[];
  columns: ChunkColumns;
  /** Per record: start of its wrapped DEK, summary, content; then the end of the last. */
  at: Int32Array;
  bytes: ArrayBuffer;
  audit: AuditRows;
}

/** What the helper posts: a sealed chunk (ciphertext only), or why it failed. */
interface ChunkMessage {
  chunk?: { first: number; at: Int32Array; bytes: ArrayBuffer };
  error?: string;
}

/**
 * Ids for records [from, to) of a batch: UUIDv7 (RFC 9562) at `ms` with a dedicated counter (its
 * section 6.2, method 1): the 30 bits after the timestamp (rand_a and rand_b's first 18) count
 * up from `idBase`, the last 44 stay random. A batch's ids then sort in insertion order, so the
 * primary key's and the audit target's indexes grow at their right edge instead of splitting
 * pages all over (random ids made the record inserts ~1.5x slower: docs/performance.md).
 * Unique within the batch by the counter.
 */
function batchIds(ms: number, idBase: number, from: number, to: number): string[] {
  const stamp = Buffer.alloc(6);
  stamp.writeUIntBE(ms, 0, 6);
  const hexStamp = stamp.toString('hex');
  const idHead = `${hexStamp.slice(0, 8)}-${hexStamp.slice(8, 12)}-`;
  const random = nodeCrypto.randomBytes(6 * (to - from));
  const ids: string[] = [];
  for (let i = from; i < to; i++) {
    const n = idBase + i;
    const r = random.subarray(6 * (i - from), 6 * (i - from) + 6);
    r[0] = ((n & 0xf) << 4) | (r[0]! & 0x0f);
    const head = (0x7000 | (n >>> 18)).toString(16);
    const mid = (0x8000 | ((n >>> 4) & 0x3fff)).toString(16);
    ids.push(`${idHead}${head}-${mid}-${r.toString('hex')}`);
  }
  return ids;
}

/**
 * Seals the records of a chunk whose columns are `jobs`, ids `ids` and plaintext `plain` (zeroed
 * here once sealed): DEKs and nonces from `rand`, the DEK wrapped under the day's epoch key,
 * both fields sealed as codec.ts's sealFields does. Runs on the helper thread, as source text:
 * it uses nothing but its arguments.
 */
function sealChunk(jobs: ChunkColumns, ids: readonly string[], plain: PlainChunk, vaultId: string, epochKeys: Record<string, Uint8Array>, rand: RandomPool, crypto: typeof nodeCrypto): { at: Int32Array; bytes: Buffer } {
  const NONCE = 12;
  const TAG = 16;
  const n = ids.length;
  // The output is one buffer of known size, written in place.
  const size = n * (NONCE + 32 + TAG + 2 * (1 + NONCE + TAG)) + plain.text.length;
  const out = Buffer.alloc(size);
  let pos = 0;
  // Nonces straight into the output, associated data through one scratch buffer, one DEK
  // buffer reused (zeroed after each record): three fewer allocations per seal.
  const ad = Buffer.allocUnsafe(1024);
  const dek = Buffer.alloc(32);
  const seal = (key: Uint8Array, text: Uint8Array, data: string, v2: boolean): void => {
    if (v2) out[pos++] = 2;
    rand.into(out, pos, NONCE);
    const c = crypto.createCipheriv('aes-256-gcm', key, out.subarray(pos, pos + NONCE));
    pos += NONCE;
    const adLength = ad.write(data, 0, 'utf8');
    c.setAAD(adLength < ad.length ? ad.subarray(0, adLength) : Buffer.from(data, 'utf8'));
    pos += c.update(text).copy(out, pos);
    c.final();
    pos += c.getAuthTag().copy(out, pos);
  };
  const at = new Int32Array(n * 3 + 1);
  // Associated data as codec.ts's ad() joins it: 'custody/v1' and the parts, 0x1f between.
  const S = '\x1f';
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const day = jobs.days[i]!;
    const key = epochKeys[day];
    if (!key) throw new Error(`no epoch key for ${day}`);
    const field = `custody/v1${S}record/v2${S}${vaultId}${S}${id}${S}1${S}`;
    const meta = `${S}${jobs.kinds[i]!}${S}${jobs.capturedAt[i]!}${S}${day}`;
    rand.into(dek, 0, 32);
    const k = i * 3;
    at[k] = pos;
    seal(key, dek, `custody/v1${S}dek${S}${vaultId}${S}${id}${S}${day}`, false);
    const j = 2 * i;
    at[k + 1] = pos;
    seal(dek, plain.text.subarray(j === 0 ? 0 : plain.ends[j - 1], plain.ends[j]), `${field}summary${meta}`, true);
    at[k + 2] = pos;
    seal(dek, plain.text.subarray(plain.ends[j], plain.ends[j + 1]), `${field}content${meta}`, true);
    dek.fill(0);
  }
  plain.text.fill(0);
  at[n * 3] = pos;
  if (pos !== size) throw new Error('internal error: sealed sizes disagree');
  return { at, bytes: out };
}

/** Random bytes for sealChunk, written where they are needed. */
interface RandomPool {
  into(target: Buffer, at: number, n: number): void;
  wipe(): void;
}

/**
 * DEKs and nonces from one getrandom call per 4 KiB (as crypto/random.ts does); consumed bytes
 * are zeroed in the pool. Source text on the helper thread, like sealChunk.
 */
function randomPool(crypto: typeof nodeCrypto): RandomPool {
  const pool = Buffer.alloc(4096);
  let offset = pool.length;
  return {
    into: (target: Buffer, at: number, n: number): void => {
      if (offset + n > pool.length) {
        crypto.randomFillSync(pool);
        offset = 0;
      }
      pool.copy(target, at, offset, offset + n);
      pool.fill(0, offset, offset + n);
      offset += n;
    },
    wipe: () => void pool.fill(0),
  };
}

// The helper: seals each chunk it is handed (columns, ids, plaintext, the epoch keys of days
// not seen before), and posts it. Any failure is posted (and counted) like a chunk, and so is
// the thread's exit, so this thread never waits on a helper that is gone.
const WORKER_SOURCE = `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const sealChunk = ${sealChunk.toString()};
const { total, vaultId, chunkSize, control, port, feed, fault } = workerData;
const epochKeys = {};
// The chunks come a message each, a few chunks ahead of what this thread has sealed
// (SealPipeline.#feed); each message is counted in control[2] after it is posted, so reading
// the count before looking for a message never misses one.
const nextPlain = () => {
  for (;;) {
    const fed = Atomics.load(control, 2);
    const m = receiveMessageOnPort(feed);
    if (m) return m.message;
    Atomics.wait(control, 2, fed);
  }
};
const done = () => { Atomics.add(control, 0, 1); Atomics.notify(control, 0); };
// Bulk work yields to interactive work: on a busy machine a search (in this process or another)
// gets the core before this thread does (the nice value is per thread on Linux).
try { require('node:os').setPriority(10); } catch {}
process.on('exit', () => { Atomics.store(control, 1, 1); done(); });
const rand = (${randomPool.toString()})(crypto);
try {
  for (let first = 0, n = 0; first < total; first += chunkSize, n++) {
    if (fault && fault.chunk === n) {
      if (fault.how === 'exit') process.exit(3);
      if (fault.how === 'throw') throw new Error('a fault forced by a test');
    }
    const { columns, keys, ids, text, ends } = nextPlain();
    for (const day of Object.keys(keys)) epochKeys[day] = new Uint8Array(keys[day]);
    const { at, bytes } = sealChunk(columns, ids, { text: Buffer.from(text), ends }, vaultId, epochKeys, rand, crypto);
    // Ciphertext only: the chunk's own buffer is handed over when it has one.
    const buffer = bytes.byteOffset === 0 && bytes.length === bytes.buffer.byteLength ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    port.postMessage({ chunk: { first, at, bytes: buffer } }, [buffer]);
    done();
  }
} catch (e) {
  port.postMessage({ error: String(e && e.message) });
  done();
} finally {
  for (const k of Object.values(epochKeys)) k.fill(0);
  rand.wipe();
}
`;

/**
 * Where a batch's id counter starts: random, its top bit clear (RFC 9562 6.2, method 1), so
 * counting up through a batch (at most MAX_IMPORT_RECORDS) never wraps.
 */
function batchIdBase(): number {
  return nodeCrypto.randomInt(0, 2 ** 29);
}

/** Below this many records a helper thread (~50 ms to start) does not pay. */
export const SEAL_THREAD_FROM = 4096;
/** Records per chunk: small enough that the first arrives soon, large enough to cost nothing per message. */
const CHUNK = 512;
/** Chunks of plaintext the helper is given ahead of the one this thread waits for. */
const LEAD = 4;
/** A helper that posts nothing for this long (it is gone without a word: out of memory) fails the import. */
const STALL_MS = 120_000;

/** Forces a helper failure at a known chunk (tests only). */
export interface SealFault {
  chunk: number;
  how: 'exit' | 'throw';
}

/** A chunk handed to the helper and not yet handed out by next(), with its audit rows once computed. */
interface FedChunk {
  ids: string[];
  columns: ChunkColumns;
  audit: AuditRows | null;
}

/** The sealing of one import: a helper thread started before anything else. */
export class SealPipeline {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #feedPort: MessagePort;
  // [0] messages posted by the helper, [1] helper gone, [2] chunks fed.
  readonly #control = new Int32Array(new SharedArrayBuffer(12));
  readonly #records: readonly SealRecord[];
  readonly #ms: number;
  readonly #epochKey: (day: string) => Uint8Array;
  /** UTC day names by day number (ms since the epoch / 86,400,000, rounded down): the days whose key the helper has. */
  readonly #dayNames = new Map<number, string>();
  readonly #idBase = batchIdBase();
  readonly #chunkSize: number;
  readonly #details: Record<string, string>;
  /** The chunks fed and not yet handed out, in order. */
  readonly #fed: FedChunk[] = [];
  #fedCount = 0;
  #received = 0;
  /** How many of #fed have their audit rows (they are computed in order). */
  #audited = 0;
  /** The log's state, advanced chunk by chunk; set when the transaction begins. */
  #state: BulkStart | null = null;

  /**
   * Starts sealing `records` (created at `ms`) at once. `epochKey` gives a day's key (the
   * keyring's); the helper gets a copy of each day's, transferred, and zeroes it at the end.
   */
  constructor(records: readonly SealRecord[], vaultId: string, ms: number, epochKey: (day: string) => Uint8Array, opts: { details?: Record<string, string>; chunkSize?: number; fault?: SealFault } = {}) {
    const data = new MessageChannel();
    const feed = new MessageChannel();
    this.#port = data.port1;
    this.#feedPort = feed.port1;
    this.#records = records;
    this.#ms = ms;
    this.#epochKey = epochKey;
    this.#chunkSize = opts.chunkSize ?? CHUNK;
    this.#details = opts.details ?? {};
    // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'custody-seal',
      execArgv: [],
      // Three ciphers and their buffers per record, all short-lived: a young generation larger
      // than the default scavenges less often (the helper's GC time per 20,000 records went
      // from 68-85 to 34-56 ms). Only while the import runs.
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
      env: {},
      workerData: { total: records.length, vaultId, chunkSize: this.#chunkSize, control: this.#control, port: data.port2, feed: feed.port2, fault: opts.fault ?? null },
      transferList: [data.port2, feed.port2],
    });
    this.#worker.unref();
    // The helper reports its own failures through the port; this only keeps an early error
    // (before it runs) from being an unhandled event.
    this.#worker.on('error', () => undefined);
    // The first chunks now, while the helper starts; the rest as the transaction goes (next()).
    while (this.#fedCount < LEAD && this.#feed());
  }

  /** The log's start state (inside the transaction): the chunks' audit entries continue it. */
  start(s: BulkStart): void {
    // A copy: auditRows advances it chunk by chunk, and the caller keeps its own.
    this.#state = structuredClone(s);
  }

  /**
   * The next chunk, in order, with its audit entries (computed here while the helper seals it);
   * blocks this thread until the helper posts it.
   */
  next(): SealedChunk {
    if (!this.#state) throw new Error('internal error: the seal pipeline was not started');
    while (this.#fedCount < this.#received + 1 + LEAD && this.#feed());
    const first = this.#received * this.#chunkSize;
    if (this.#fed.length === 0) throw new Error('internal error: no chunk left to seal');
    if (this.#audited === 0) this.#auditNext();
    const sealed = this.#receive();
    if (sealed.first !== first) throw new Error('internal error: sealed chunks out of order');
    const { ids, columns, audit } = this.#fed.shift()!;
    this.#audited--;
    return { ids, columns, at: sealed.at, bytes: sealed.bytes, audit: audit! };
  }

  /**
   * Computes the audit rows of the next fed chunk without them (in order: each continues the
   * state the one before left); false when every fed chunk has them.
   */
  #auditNext(): boolean {
    const state = this.#state;
    const chunk = this.#fed[this.#audited];
    if (!state || !chunk) return false;
    chunk.audit = auditRows(state, chunk.ids.map((id, j) => ({ event: 'record.created', target: `record:${id}`, details: { kind: chunk.columns.kinds[j]!, ...this.#details } })), nodeCrypto.hash);
    this.#audited++;
    return true;
  }

  /** The helper's next chunk; prepares chunks still to come while it waits. */
  #receive(): NonNullable<ChunkMessage['chunk']> {
    let waited = 0;
    for (;;) {
      const posted = Atomics.load(this.#control, 0);
      const m = receiveMessageOnPort(this.#port);
      if (m) {
        this.#received++;
        const msg = m.message as ChunkMessage;
        if (msg.error !== undefined) throw new Error(`sealing on the helper thread failed: ${msg.error}`);
        return msg.chunk!;
      }
      if (Atomics.load(this.#control, 1) === 1) throw new Error('the sealing thread stopped before it sealed every record');
      if (posted > this.#received) continue;
      // Rather than wait, prepare a chunk still to come: its plaintext, or its audit rows.
      if (this.#feed() || this.#auditNext()) continue;
      const t0 = performance.now();
      Atomics.wait(this.#control, 0, posted, 1000);
      waited += performance.now() - t0;
      if (waited > STALL_MS) throw new Error('the sealing thread stopped answering');
    }
  }

  /**
   * Makes the next chunk (clear columns, ids, plaintext: plainChunk) and hands it to the
   * helper with the epoch keys of days it has not had, plaintext and keys without a copy left
   * here; false when every chunk was handed over.
   */
  #feed(): boolean {
    const from = this.#fedCount * this.#chunkSize;
    const records = this.#records;
    if (from >= records.length) return false;
    const to = Math.min(records.length, from + this.#chunkSize);
    const columns: ChunkColumns = { kinds: new Array<string>(to - from), capturedAt: new Float64Array(to - from), days: new Array<string>(to - from) };
    const keys: Record<string, ArrayBuffer> = {};
    for (let i = from; i < to; i++) {
      const r = records[i]!;
      const at = r.capturedAt ? Date.parse(r.capturedAt) : this.#ms;
      // A batch's records share few days: each day's name is made once (toISOString per
      // record was 3% of this thread's time), and its key goes to the helper with the first
      // chunk that needs it.
      const dayNumber = Math.floor(at / 86_400_000);
      let day = this.#dayNames.get(dayNumber);
      if (day === undefined) {
        day = utcDay(new Date(at));
        this.#dayNames.set(dayNumber, day);
        keys[day] = Uint8Array.from(this.#epochKey(day)).buffer;
      }
      columns.kinds[i - from] = r.kind;
      columns.capturedAt[i - from] = at;
      columns.days[i - from] = day;
    }
    const ids = batchIds(this.#ms, this.#idBase, from, to);
    const { text, ends } = plainChunk(records, from, to);
    this.#feedPort.postMessage({ columns, keys, ids, text: text.buffer, ends }, [text.buffer, ...Object.values(keys)]);
    this.#fed.push({ ids, columns, audit: null });
    this.#fedCount++;
    // Counted after it is posted (the helper's nextPlain relies on that order).
    Atomics.add(this.#control, 2, 1);
    Atomics.notify(this.#control, 2);
    return true;
  }

  /** Stops the helper (after the last chunk, or when the transaction failed). */
  close(): void {
    this.#port.close();
    this.#feedPort.close();
    void this.#worker.terminate();
  }
}
