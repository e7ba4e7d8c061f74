// One SQLite connection per vault, shared by Prisma (through its better-sqlite3 driver
// adapter) and by the prepared statements of the hot bulk paths (audit appends, imports).
// Sharing the connection is what lets a Prisma write and its audit entry commit in the
// same transaction; every write goes through one mutex so transactions never interleave.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/client.ts';
import { migrate } from './migrate.ts';
import { BackgroundWalCheckpoint, type WalCheckpointResult } from './walCheckpoint.ts';
import { liftStrayHold } from '../records/changes.ts';
import { Mutex } from '../util/mutex.ts';
import { faultPoint } from '../util/faults.ts';

export type Prisma = PrismaClient;
export type PrismaTx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export interface VaultDb {
  /** The raw connection, for prepared statements (integers as JS numbers). */
  readonly sql: Database.Database;
  readonly prisma: PrismaClient;
  /** Whether `prisma` was used yet (it is made on first use; tests and the bench look). */
  readonly prismaMade: boolean;
  /** A Prisma interactive transaction; raw statements run inside it join it. */
  write<T>(fn: (tx: PrismaTx) => Promise<T>): Promise<T>;
  /**
   * A synchronous raw transaction for bulk paths (BEGIN IMMEDIATE). `largeCommit`: the
   * transaction writes many pages (a bulk import), and its WAL checkpoint runs on a helper
   * thread after the commit instead of inside it (walCheckpoint.ts).
   */
  writeSync<T>(fn: () => T, opts?: { largeCommit?: boolean }): Promise<T>;
  /** Waits for the WAL checkpoints of large commits still running on their helper threads; what each did. */
  walCheckpointsSettled(): Promise<(WalCheckpointResult | Error)[]>;
  close(): Promise<void>;
  /** Runs after every committed write, still inside the write lock (used for checkpoints). */
  onCommit: (() => void) | null;
  /**
   * Runs `fn` once the write now open ends, with whether it committed (audit entries handed
   * over for it must be taken back if it rolled back: searchAudit.ts).
   */
  afterTransaction(fn: (committed: boolean) => void): void;
}

/**
 * Makes the database file (and its -wal and -shm, which SQLite creates with the database
 * file's mode) owner-only, whatever the umask; an existing vault made before this is fixed
 * at its next open.
 */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

/**
 * Prisma over our connection, made on first use: building the client and loading its query
 * compiler cost a few hundred ms of CPU, which a command that never runs a Prisma query (`custody
 * add`, list, show) and the app's unlock no longer pay.
 */
function prismaOver(conn: Database.Database): PrismaClient {
  const options = { timestampFormat: 'unixepoch-ms' } as const;
  const factory = new PrismaBetterSqlite3({ url: ':memory:' }, options);
  // The adapter would open a connection of its own: it gets ours, so that Prisma's queries and the
  // prepared statements share one connection and its transactions. Its class is not exported; an
  // in-memory adapter (the "shadow database", nothing else is opened) shows it.
  factory.connect = async () => {
    const probe = await factory.connectToShadowDb();
    const Adapter = probe.constructor as new (client: Database.Database, opts: typeof options) => typeof probe;
    await probe.dispose();
    return new Adapter(conn, options);
  };
  return new PrismaClient({ adapter: factory });
}

/** A helper for a large commit's checkpoint; none (SQLite checkpoints in the commit, as it would) if no thread can be started. */
function startWalCheckpoint(file: string): BackgroundWalCheckpoint | null {
  try {
    return new BackgroundWalCheckpoint(file);
  } catch {
    return null;
  }
}

/** SQLite's default: a commit that takes the log past this many pages checkpoints it. */
const AUTOCHECKPOINT_PAGES = 1000;

export async function openDatabase(file: string): Promise<VaultDb> {
  ownerOnly(file);
  const conn = new Database(file, { timeout: 10_000 });
  // Prisma's adapter opens its transactions with a plain (deferred) BEGIN. With another process
  // on the vault (the CLI beside the app), a deferred transaction that reads before it writes
  // fails at once with SQLITE_BUSY when the other wrote meanwhile, instead of waiting its turn:
  // IMMEDIATE takes the write lock at BEGIN (waiting up to busy_timeout), so everything a write
  // reads inside its transaction (the audit tree's size and nodes) is the latest commit.
  const prepare = conn.prepare.bind(conn);
  conn.prepare = ((source: string) => prepare(source === 'BEGIN' ? 'BEGIN IMMEDIATE' : source)) as typeof conn.prepare;
  try {
    conn.defaultSafeIntegers(false);
    // WAL for concurrent readers and crash safety; FULL so a commit survives power loss too.
    conn.pragma('journal_mode = WAL');
    conn.pragma('synchronous = FULL');
    conn.pragma('foreign_keys = ON');
    conn.pragma('busy_timeout = 10000');
    // Deleted and overwritten content (pruned audit bodies, purged records) is zeroed in the
    // file instead of lingering in free pages until reused.
    conn.pragma('secure_delete = ON');
    // Statement journals and sorts stay in memory, never in temp files under /var/tmp: those
    // held copies of the vault's pages (secure_delete does not reach them), and every record
    // insert (the table has triggers, so each statement keeps a journal) wrote its pages there
    // through a syscall each: a bulk import ran 1.3x slower (docs/performance.md).
    conn.pragma('temp_store = MEMORY');
    migrate(conn);
    liftStrayHold(conn);
    ownerOnly(file);
  } catch (e) {
    // A database that cannot be set up (a full disk, a newer schema) is not left open.
    if (conn.open) conn.close();
    throw e;
  }
  let prisma: PrismaClient | null = null;

  const mutex = new Mutex();
  // While a large commit's checkpoint is on its helper thread, this connection's commits do not
  // checkpoint (SQLite's automatic one, past 1,000 pages): the next write (the signed audit
  // checkpoint after an import) would otherwise copy the log here first.
  const checkpointing = new Set<Promise<WalCheckpointResult | Error>>();
  let holds = 0;
  const holdAutocheckpoint = (delta: 1 | -1) => {
    const before = holds;
    holds += delta;
    // Only the first hold and the last release change the setting.
    if (conn.open && (before === 0 || holds === 0)) conn.pragma(`wal_autocheckpoint = ${holds === 0 ? AUTOCHECKPOINT_PAGES : 0}`);
  };
  let ending: ((committed: boolean) => void)[] = [];
  const ended = (committed: boolean) => {
    const fns = ending;
    ending = [];
    for (const fn of fns) fn(committed);
  };
  const db: VaultDb = {
    sql: conn,
    get prisma() {
      return (prisma ??= prismaOver(conn));
    },
    get prismaMade() {
      return prisma !== null;
    },
    onCommit: null,
    afterTransaction: (fn) => void ending.push(fn),
    write: (fn) =>
      mutex.run(async () => {
        let result;
        try {
          result = await db.prisma.$transaction(fn, { timeout: 120_000, maxWait: 120_000 });
        } catch (e) {
          ended(false);
          throw e;
        }
        ended(true);
        db.onCommit?.();
        return result;
      }),
    writeSync: (fn, opts) =>
      mutex.run(() => {
        // Started first: the thread starts while the transaction runs.
        const helper = opts?.largeCommit ? startWalCheckpoint(file) : null;
        if (helper) holdAutocheckpoint(+1);
        let result;
        try {
          result = conn.transaction(fn).immediate();
        } catch (e) {
          ended(false);
          if (helper) {
            void helper.cancel();
            holdAutocheckpoint(-1);
          }
          throw e;
        }
        ended(true);
        if (helper) {
          helper.run();
          faultPoint('wal-checkpoint:requested');
          const settled = helper.settled().then((r) => {
            checkpointing.delete(settled);
            holdAutocheckpoint(-1);
            return r;
          });
          checkpointing.add(settled);
        }
        db.onCommit?.();
        return result;
      }),
    walCheckpointsSettled: () => Promise.all(checkpointing),
    close: async () => {
      await mutex.run(async () => {
        // The helpers' connections close first: this one, the last, then removes the log.
        await db.walCheckpointsSettled();
        await prisma?.$disconnect();
        if (conn.open) conn.close();
      });
    },
  };
  return db;
}
