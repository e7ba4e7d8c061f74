// Keeps the in-memory search index of an unlocked vault true to the database (docs/architecture.md,
// "Search index"):
// - at unlock it loads the persisted index (indexFile.ts) and applies the records changed since
//   the change counter it was written at (records/changes.ts); a missing, damaged, foreign,
//   other-format or rewound index is rebuilt from the records instead, never trusted;
// - after every change this process makes, and whenever another process commits (SQLite's
//   data_version, polled), it applies the changed records and appends them to the delta file;
//   a delta grown large is merged: the whole index is written again;
// - lock drops it all, the derived key included.
import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import type { RecordSummary } from '../../shared/records.ts';
import type { Progress } from '../attachments/attachments.ts';
import { wipe } from '../crypto/keys.ts';
import type { Content } from '../records/codec.ts';
import { changeCounter, changedAt, changesSince } from '../records/changes.ts';
import type { RecordStore, ScannedRow } from '../records/recordStore.ts';
import { iso } from '../util/time.ts';
import type { Vault } from '../vault/vault.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { stopUnionThread, warmUnionThread } from './unionThread.ts';
import { appendFrame, DELTA_FILE, deltaSize, INDEX_FILE, IndexFileError, indexKey, readBaseSliced, readFrames, writeBase, type DeltaFrame } from './indexFile.ts';
import { SearchIndex } from './searchIndex.ts';

/** The build yields to waiting requests this often (a 100k-record build takes seconds). */
const INDEX_SLICE_MS = 15;
/** Records read from the database at a time by the build (about one slice of work). */
const INDEX_BATCH = 100;
/** How often a long-lived process looks for other processes' commits (one PRAGMA). */
export const WATCH_INTERVAL_MS = 250;
/** The delta is merged into a new whole index once it is this big, or a quarter of the index. */
const MERGE_MIN_BYTES = 4 << 20;

type RowTuple = [string, string, number, string, number, number, number | null, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>];

/** How the index in memory came to be, for status, tests and the bench. */
export interface IndexOrigin {
  /** 'file': loaded from the persisted index; 'build': decrypted from every record. */
  source: 'file' | 'build' | null;
  /** Why the persisted index was not used, when it was not. */
  rejected: IndexFileError['reason'] | 'stale' | null;
  /** Frames of the delta applied at load, and records read from the database after them. */
  frames: number;
  caughtUp: number;
}

export class IndexKeeper {
  #index = new SearchIndex();
  /** The change counter the index reflects: every change numbered higher is still to apply. */
  #counter = 0;
  #key: Buffer | null = null;
  #build: Promise<void> | null = null;
  /** Settles once the persisted index was loaded or found unusable (a build may follow). */
  #attempted: Promise<void> = Promise.resolve();
  /** Loaded or built: changes are applied by catching up (during a build, only to memory). */
  #loaded = false;
  #generation = 0;
  #leftOut = new Set<string>();
  /** Own writes already in the index, with their text, for the next delta frame. */
  readonly #pending = new Map<string, { summary: RecordSummary; content: Content; inserted?: boolean }>();
  /** Records to decrypt again at the next catch-up even if they look unchanged (sync merges). */
  readonly #force = new Set<string>();
  #watch: NodeJS.Timeout | null = null;
  #dataVersion = -1;
  #baseBytes = 0;
  #merging = false;
  #row: Database.Statement<[string], RowTuple> | undefined;
  origin: IndexOrigin = { source: null, rejected: null, frames: 0, caughtUp: 0 };

  constructor(
    private readonly vault: Vault,
    private readonly records: RecordStore,
  ) {}

  get index(): SearchIndex {
    return this.#index;
  }

  /** Whether the index is loaded or being built (changes are then applied to it). */
  get started(): boolean {
    return this.#build !== null;
  }

  /**
   * Settles when the persisted index has been loaded, or found unusable (then a build runs in
   * the background): a search waits this long rather than answer from an empty index.
   */
  get loadAttempted(): Promise<void> {
    return this.#attempted;
  }

  get counter(): number {
    return this.#counter;
  }

  /** Records left out because they failed as TAMPERED (opening them says so). */
  leftOut(): readonly string[] {
    return [...this.#leftOut];
  }

  get #sql(): Database.Database {
    return this.vault.db.sql;
  }

  /**
   * Loads the persisted index, or builds it from every record when there is none to trust
   * (then writes it). Idempotent while unlocked. `watch`: follow other processes' commits.
   */
  start(opts: { onProgress?: Progress; watch?: boolean } = {}): Promise<void> {
    if (this.#build) return this.#build;
    const generation = ++this.#generation;
    this.#key = indexKey(this.vault.keys().vaultKey, this.vault.vaultId);
    let attempted!: () => void;
    this.#attempted = new Promise((r) => (attempted = r));
    this.#build = (async () => {
      try {
        // Let unlock answer first: the load takes a few hundred ms at 100k records.
        await new Promise((r) => setImmediate(r));
        if (generation !== this.#generation) return;
        if (opts.watch) this.#startWatch();
        const loaded = await this.#load(generation);
        if (generation !== this.#generation) return;
        if (loaded) {
          opts.onProgress?.(this.#index.size, this.#index.size);
          return;
        }
      } finally {
        attempted();
      }
      const from = changeCounter(this.#sql);
      await this.#fullBuild(generation, opts.onProgress);
      if (generation !== this.#generation) return;
      // What changed while the build read the vault (here or elsewhere) is read again.
      this.#counter = from;
      this.#loaded = true;
      this.catchUp({ frame: false });
      this.#index.markReady();
      this.#saveBase();
    })();
    return this.#build;
  }

  /** Forgets the index and its key (lock), and stops following other processes. */
  drop(): void {
    this.#generation++;
    this.#build = null;
    this.#loaded = false;
    this.#index = new SearchIndex();
    this.#counter = 0;
    this.#leftOut = new Set();
    this.#pending.clear();
    this.#force.clear();
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = null;
    if (this.#key) wipe(this.#key);
    this.#key = null;
    this.origin = { source: null, rejected: null, frames: 0, caughtUp: 0 };
    // The helper thread of big unions holds nothing between them; it goes with the index anyway.
    stopUnionThread();
  }

  // ---- changes made by this process ----------------------------------------------------------

  /** A record this process created or edited: indexed now, framed at the next catch-up. */
  upserted(summary: RecordSummary, content: Content): void {
    if (!this.#build) return;
    this.#index.upsert(summary, content);
    this.#leftOut.delete(summary.id);
    this.#pending.set(summary.id, { summary, content });
    this.catchUp();
  }

  /**
   * Records this process inserted in bulk (an import): their summaries carry no stored
   * updated-at, which the catch-up takes from the rows instead of decrypting them again.
   */
  inserted(records: readonly { summary: RecordSummary; content: Content }[]): void {
    if (!this.#build) return;
    for (const r of records) {
      this.#index.upsert(r.summary, r.content);
      this.#pending.set(r.summary.id, { ...r, inserted: true });
    }
    this.catchUp();
  }

  /** A record this process moved to or from the trash. */
  summaryChanged(summary: RecordSummary): void {
    if (!this.#build) return;
    this.#index.setSummary(summary);
    this.catchUp();
  }

  /**
   * A record this process purged. When the index is not loaded here (the CLI), the files on
   * disk still hold its text: they are loaded now, which catches up and writes them again.
   */
  async removed(id: string): Promise<void> {
    if (!this.#build) {
      if (existsSync(join(this.vault.dir, INDEX_FILE)) || existsSync(join(this.vault.dir, DELTA_FILE))) await this.start();
      return;
    }
    this.#index.remove(id);
    this.#leftOut.delete(id);
    this.catchUp();
  }

  /** Records changed behind this process's back that must be read again (sync merges). */
  reread(ids: readonly string[]): void {
    if (!this.#build) return;
    for (const id of ids) this.#force.add(id);
    this.catchUp();
  }

  // ---- catching up ---------------------------------------------------------------------------

  /**
   * Applies every record changed since the index's counter (by this process or another) and
   * appends them to the delta as one frame. Synchronous: no request sees a half-applied state.
   * Returns how many records it read.
   */
  catchUp(opts: { frame?: boolean } = {}): number {
    // Inside a transaction of this connection the rows may still roll back: later.
    if (!this.#loaded || !this.#key || this.#sql.inTransaction) return 0;
    const changes = changesSince(this.#sql, this.#counter);
    if (changes.rewound) {
      // The database was replaced by an older copy: nothing the index holds can be trusted.
      this.#restart('stale');
      return 0;
    }
    if (changes.ids.length === 0) {
      this.#counter = changes.counter;
      return 0;
    }
    // The ids come in change order: the last one's change has number changes.counter.
    const frame: DeltaFrame = { from: this.#counter, to: changes.counter, anchor: changes.ids.at(-1)!, upserts: [], removed: [], tampered: [] };
    for (const id of changes.ids) {
      const row = this.#readRow(id);
      if (!row) {
        this.#index.remove(id);
        this.#leftOut.delete(id);
        frame.removed.push(id);
        continue;
      }
      const mine = this.#pending.get(id);
      if (mine?.inserted && row.version === 1) mine.summary = { ...mine.summary, updatedAt: iso(row.updatedAt), capturedAt: iso(row.capturedAt) };
      if (mine && !this.#force.has(id) && sameState(mine.summary, row)) {
        if (mine.inserted) this.#index.setSummary(mine.summary);
        frame.upserts.push({ summary: mine.summary, content: mine.content });
        continue;
      }
      try {
        const d = this.records.decrypt(row);
        this.#index.upsert(d.summary, d.content);
        this.#leftOut.delete(id);
        frame.upserts.push({ summary: d.summary, content: d.content });
      } catch (e) {
        if (!(e instanceof CustodyError && e.code === 'TAMPERED')) throw e;
        this.#index.remove(id);
        this.#leftOut.add(id);
        frame.tampered.push(id);
      }
    }
    this.#pending.clear();
    this.#force.clear();
    this.#counter = changes.counter;
    if (opts.frame !== false && this.#index.ready) {
      // A purge is for good: the sealed base and the delta's older frames still hold the purged
      // record's text, so they are written again without it rather than appended to.
      if (frame.removed.length > 0) this.#saveBase();
      else this.#appendFrame(frame);
    }
    return changes.ids.length;
  }

  #readRow(id: string): ScannedRow | undefined {
    this.#row ??= this.#sql.prepare<[string], RowTuple>('SELECT id, kind, captured_at, epoch_day, updated_at, version, deleted_at, wrapped_dek, summary, content FROM record WHERE id = ?').raw();
    const t = this.#row.get(id);
    if (!t) return undefined;
    const [rid, kind, capturedAt, epochDay, updatedAt, version, deletedAt, wrappedDek, summary, content] = t;
    return { id: rid, kind, capturedAt: new Date(capturedAt), epochDay, updatedAt: new Date(updatedAt), version, deletedAt: deletedAt === null ? null : new Date(deletedAt), wrappedDek, summary, content };
  }

  #startWatch(): void {
    this.#dataVersion = this.#sql.pragma('data_version', { simple: true }) as number;
    this.#watch = setInterval(() => this.poll(), WATCH_INTERVAL_MS);
    this.#watch.unref();
  }

  /**
   * Catches up if another connection committed since the last look (data_version changes only
   * for other connections' commits). Called by the watch timer; tests call it to wait without sleeping.
   */
  poll(): number {
    if (!this.#loaded || this.#sql.inTransaction) return 0;
    const v = this.#sql.pragma('data_version', { simple: true }) as number;
    if (v === this.#dataVersion) return 0;
    this.#dataVersion = v;
    try {
      return this.catchUp();
    } catch {
      // A vault locked or closed meanwhile: the next unlock starts over.
      return 0;
    }
  }

  #restart(reason: IndexOrigin['rejected']): void {
    const watch = this.#watch !== null;
    this.drop();
    this.origin.rejected = reason;
    void this.start({ watch }).catch(() => undefined);
  }

  // ---- the files -----------------------------------------------------------------------------

  /** Loads the persisted index and what changed since; false when it cannot be trusted. */
  async #load(generation: number): Promise<boolean> {
    const dir = this.vault.dir;
    const key = this.#key!;
    const vaultId = this.vault.vaultId;
    let index: SearchIndex;
    let counter: number;
    let leftOut: string[];
    try {
      // In slices, and a pause before the index is made from the bytes: a request that comes
      // meanwhile (the first list page after unlock) is answered from the database at once.
      const base = await readBaseSliced(dir, key, vaultId);
      await new Promise((r) => setImmediate(r));
      // Locked meanwhile: the key is gone, and so must the bytes.
      if (generation !== this.#generation) {
        base.bytes.fill(0);
        return false;
      }
      if (!this.#sameLineage(base.counter, base.anchor)) {
        this.origin.rejected = 'stale';
        return false;
      }
      const r = new ByteReader(base.bytes);
      leftOut = JSON.parse(r.string()) as string[];
      index = SearchIndex.deserialize(r.bytes());
      // A big index was decrypted into shared memory (indexFile.ts): its biggest unions will use
      // the helper thread, which takes tens of ms to start. It is stopped in drop().
      if (base.bytes.buffer instanceof SharedArrayBuffer) warmUnionThread();
      counter = base.counter;
      this.#baseBytes = base.bytes.length;
    } catch (e) {
      if (e instanceof IndexFileError) this.origin.rejected = e.reason;
      else if (e instanceof RangeError || e instanceof SyntaxError) this.origin.rejected = 'damaged';
      else throw e;
      return false;
    }
    this.#index = index;
    // Changes made here while it loaded went to the index it replaces: read them again.
    this.#pending.clear();
    this.#leftOut = new Set(leftOut);
    let frames = 0;
    let foreign = false;
    const delta = readFrames(dir, key, vaultId);
    for (const f of delta.frames) {
      if (f.to <= counter) continue;
      // A gap (a frame lost to a merge elsewhere): the rest comes from the database.
      if (f.from > counter) break;
      // A frame this database does not have (it was put back by an older copy since): the rest comes from the database.
      if (f.anchor === undefined || !this.#sameLineage(f.to, f.anchor)) {
        foreign = true;
        break;
      }
      for (const u of f.upserts) {
        index.upsert(u.summary, u.content);
        this.#leftOut.delete(u.summary.id);
      }
      for (const id of f.removed) {
        index.remove(id);
        this.#leftOut.delete(id);
      }
      for (const id of f.tampered) {
        index.remove(id);
        this.#leftOut.add(id);
      }
      counter = f.to;
      frames++;
    }
    this.#counter = counter;
    this.#loaded = true;
    // A damaged delta, or one holding frames of another database, cannot be appended to (readers
    // stop there): write it all again.
    const rewrite = delta.damaged || foreign;
    const caughtUp = this.catchUp({ frame: !rewrite });
    this.origin = { source: 'file', rejected: this.origin.rejected, frames, caughtUp };
    if (rewrite) this.#saveBase();
    return true;
  }

  /** The database is the one the index was written against: not replaced by an older copy since. */
  #sameLineage(counter: number, anchor: string): boolean {
    const now = changeCounter(this.#sql);
    if (now < counter) return false;
    if (counter === 0) return true;
    const at = changedAt(this.#sql, counter);
    if (at !== undefined) return at === anchor;
    // That record changed again since: its last change must then be later.
    const seq = this.#sql.prepare<[string], number>('SELECT seq FROM record_change WHERE record_id = ?').pluck().get(anchor);
    return seq !== undefined && seq > counter;
  }

  #appendFrame(frame: DeltaFrame): void {
    // Frames are sealed under one key: after a vault key change the whole index is written anew.
    if (this.#keyChanged()) return this.#saveBase();
    try {
      appendFrame(this.vault.dir, this.#key!, this.vault.vaultId, frame);
    } catch {
      // A cache: a frame that cannot be written is read from the database next time.
      return;
    }
    if (deltaSize(this.vault.dir) > Math.max(MERGE_MIN_BYTES, this.#baseBytes / 4)) this.#merge();
  }

  /**
   * Whether the vault key changed since the index key was derived (a rotation made or followed in
   * this process): then the index key is derived again, so nothing more is sealed under the old one.
   */
  #keyChanged(): boolean {
    const now = indexKey(this.vault.keys().vaultKey, this.vault.vaultId);
    if (this.#key?.equals(now)) {
      wipe(now);
      return false;
    }
    if (this.#key) wipe(this.#key);
    this.#key = now;
    return true;
  }

  /** Writes the whole index again soon (the current request answers first). */
  #merge(): void {
    if (this.#merging) return;
    this.#merging = true;
    const generation = this.#generation;
    setImmediate(() => {
      this.#merging = false;
      if (generation !== this.#generation) return;
      try {
        this.catchUp({ frame: false });
        this.#saveBase();
      } catch {
        // Locked meanwhile, or the disk refused: the files stay as they were.
      }
    });
  }

  /** Writes the whole index as of the counter, sealed, and an empty delta. */
  #saveBase(): void {
    if (!this.#key || !this.#index.ready) return;
    this.#keyChanged();
    const w = new ByteWriter();
    w.string(JSON.stringify([...this.#leftOut]));
    w.bytes(this.#index.serialize());
    const bytes = w.finish();
    try {
      writeBase(this.vault.dir, this.#key, this.vault.vaultId, { counter: this.#counter, anchor: changedAt(this.#sql, this.#counter) ?? '', bytes });
      this.#baseBytes = bytes.length;
    } catch {
      // A full disk or a read-only folder: search works from memory, and the next unlock rebuilds.
    }
  }

  /** Saves now (tests and the bench; the app saves after a build and when the delta is merged). */
  save(): void {
    this.catchUp({ frame: false });
    this.#saveBase();
  }

  /** Decrypts every record into the index, in batches that yield to the event loop. */
  async #fullBuild(generation: number, onProgress?: Progress): Promise<void> {
    this.origin.source = 'build';
    // A prepared statement: a first Prisma query would hold this thread while Prisma loads.
    const total = this.#sql.prepare('SELECT count(*) FROM record').pluck().get() as number;
    let done = 0;
    let after = '';
    let sliceStart = performance.now();
    for (;;) {
      if (generation !== this.#generation) return;
      const rows = this.records.scan(after, INDEX_BATCH);
      let paused = false;
      for (const row of rows) {
        // Requests wait while this thread works: let them in every few milliseconds. They may
        // change records, so the rest of the batch is read again afterwards.
        if (performance.now() - sliceStart > INDEX_SLICE_MS) {
          onProgress?.(done, total);
          await new Promise((r) => setImmediate(r));
          sliceStart = performance.now();
          paused = true;
          break;
        }
        done++;
        after = row.id;
        // An edit made while we build is already in the index, newer than this row.
        if ((this.#index.summaryOf(row.id)?.version ?? 0) >= row.version) continue;
        // One tampered record must not hide every other record from search: it stays out of
        // the index (opening it still says TAMPERED) and is reported by leftOut().
        try {
          const d = this.records.decrypt(row);
          this.#index.upsert(d.summary, d.content);
        } catch (e) {
          if (!(e instanceof CustodyError && e.code === 'TAMPERED')) throw e;
          this.#leftOut.add(row.id);
        }
      }
      if (!paused && rows.length < INDEX_BATCH) break;
    }
    if (generation !== this.#generation) return;
    onProgress?.(done, total);
  }
}

/** The row is in the state this summary describes (what is stored in the clear agrees). */
function sameState(s: RecordSummary, row: ScannedRow): boolean {
  return s.version === row.version && s.kind === row.kind && s.updatedAt === iso(row.updatedAt) && s.capturedAt === iso(row.capturedAt) && s.deletedAt === (row.deletedAt ? iso(row.deletedAt) : null);
}
