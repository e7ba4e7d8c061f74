// A WAL checkpoint off this thread, for a large commit. SQLite copies the write-ahead log back
// into the database file (a checkpoint) in the commit that takes the log past 1,000 pages: a
// bulk import's commit wrote its ~40 MB into the log, fsynced it, then copied it all again and
// fsynced the database, about a sixth of the import's time (docs/performance.md). The commit
// alone makes the rows durable; the copy can run on a helper thread with its own connection
// while this thread goes on. Nothing is lost if the helper fails or never runs: the log stays
// valid, and the next commit past the limit, or the last connection to close, checkpoints it.
import { Worker } from 'node:worker_threads';
import { sqliteDriverPath } from './driverPath.ts';

/** What the helper's PASSIVE checkpoint reported: pages in the log, and pages copied back. */
export interface WalCheckpointResult {
  logPages: number;
  checkpointedPages: number;
}

// The helper opens the database with the same driver (driverPath.ts), waits for the commit, and
// checkpoints without blocking readers or writers.
const WORKER_SOURCE = `'use strict';
const { workerData, parentPort } = require('node:worker_threads');
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('synchronous = FULL');
} catch (e) {
  parentPort.postMessage({ error: String(e && e.message) });
}
if (db) parentPort.once('message', () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ result: { logPages: r.log, checkpointedPages: r.checkpointed } });
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message) });
  } finally {
    db.close();
  }
});
`;

/**
 * A helper thread, started now (its start overlaps the transaction it follows) with its own
 * connection to `file`; run() after the commit. Errors are reported by settled(), never thrown.
 */
export class BackgroundWalCheckpoint {
  readonly #worker: Worker;
  readonly #reported: Promise<WalCheckpointResult | Error>;
  readonly #exited: Promise<void>;

  constructor(file: string, opts: { driver?: string } = {}) {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'custody-wal-checkpoint',
      // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
      execArgv: [],
      env: {},
      workerData: { file, driver: opts.driver ?? sqliteDriverPath() },
    });
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#reported = new Promise((resolve) => {
      this.#worker.once('message', (m: { result?: WalCheckpointResult; error?: string }) => resolve(m.result ?? new Error(`the WAL checkpoint on the helper thread failed: ${m.error}`)));
      this.#worker.once('error', (e) => resolve(e));
      void this.#exited.then(() => resolve(new Error('the WAL checkpoint helper stopped before it reported')));
    });
  }

  /** Checkpoints what is committed now. */
  run(): void {
    this.#worker.postMessage('checkpoint');
  }

  /** The checkpoint's result, or why there was none, once the helper (and its connection) is gone. */
  async settled(): Promise<WalCheckpointResult | Error> {
    const r = await this.#reported;
    // It exits by itself once it has reported (its connection closed first).
    await this.#exited;
    return r;
  }

  /** Stops a helper that will not be asked to run (the transaction failed). */
  async cancel(): Promise<void> {
    await this.#worker.terminate();
  }
}
