// Space kept in reserve so that a full disk never locks the owner out of reading.
// Reading owes audit entries (unlock, record views, searches, attachment opens); on a full disk
// SQLite cannot append them, and an unlock that cannot log is refused. So each vault folder
// holds reserve.bin (RESERVE_BYTES of random bytes: compressing or deduplicating file systems
// cannot make them free):
//   - a write that only appends audit entries (Vault.record, the unlock) that hits a full disk
//     deletes the reserve and is tried once more, in the room that made;
//   - every other write (records, imports, attachments, settings, sync) first makes sure the
//     reserve is there, re-creating it if it is gone; if the disk has no room for it, the write
//     is refused with DISK_FULL ("the disk is full: free space to save changes") before it
//     starts. Changes therefore stop while reads go on, and resume once space is freed.
// A write that committed and then failed (the checkpoint after it, on a full disk) is
// reported as done: what it wrote is in the log, and the next commit signs it.
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import type { VaultDb } from '../db/database.ts';
import { DISK_FULL_MESSAGE, isDiskFull, isIoError, lowOnSpace } from './diskFull.ts';

export const RESERVE_FILE = 'reserve.bin';
export const RESERVE_BYTES = 4 << 20;

export class DiskReserve {
  /**
   * Before the database opens: SQLite creates its -wal and -shm files then, and on a disk with
   * no room at all even reading fails ("disk I/O error"). The reserve makes that room.
   */
  static beforeOpen(dir: string): void {
    if (lowOnSpace(dir)) rmSync(join(dir, RESERVE_FILE), { force: true });
  }

  readonly file: string;
  readonly #dir: string;
  readonly #writeSync: VaultDb['writeSync'];

  constructor(dir: string, private readonly db: VaultDb) {
    this.file = join(dir, RESERVE_FILE);
    this.#dir = dir;
    const write = db.write;
    const writeSync = db.writeSync;
    this.#writeSync = writeSync;
    db.write = ((fn: unknown) => this.#guarded(write as never, fn)) as VaultDb['write'];
    db.writeSync = ((fn: unknown, opts?: unknown) => this.#guarded(writeSync as never, fn, opts)) as VaultDb['writeSync'];
    // Best effort: a vault opened on a full disk has whatever reserve it had.
    this.ensure();
  }

  get present(): boolean {
    return existsSync(this.file) && statSync(this.file).size >= RESERVE_BYTES;
  }

  /** Makes the reserve if it is missing; false only when the disk has no room for it. */
  ensure(): boolean {
    try {
      if (this.present) return true;
    } catch {
      // Made again below.
    }
    const tmp = `${this.file}.tmp`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'w', 0o600);
      const chunk = Buffer.alloc(1 << 20);
      for (let n = 0; n < RESERVE_BYTES; n += chunk.length) writeSync(fd, randomFillSync(chunk));
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      // A rename needs no new blocks: the reserve appears whole or not at all.
      renameSync(tmp, this.file);
      return true;
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      // Only a full disk refuses writes; a folder where no reserve can be made for another
      // reason (read-only media, permissions) fails, if at all, on the write's own error.
      return !isDiskFull(e);
    }
  }

  /** Frees the reserve; whether there was one to free. */
  release(): boolean {
    if (!existsSync(this.file)) return false;
    rmSync(this.file, { force: true });
    return true;
  }

  /** A write that changes something: only while the reserve is whole. */
  #full(e: unknown): boolean {
    return isDiskFull(e) || (isIoError(e) && lowOnSpace(this.#dir));
  }

  async #guarded<T>(write: (fn: never, opts?: never) => Promise<T>, fn: unknown, opts?: unknown): Promise<T> {
    if (!this.ensure()) throw new CustodyError('DISK_FULL', DISK_FULL_MESSAGE);
    let committed = false;
    let result: T | undefined;
    try {
      return await (write as (fn: unknown, opts?: unknown) => Promise<T>)(this.#watch(fn, (c) => (committed = c), (r) => (result = r as T)), opts);
    } catch (e) {
      if (committed && this.#full(e)) return result as T;
      if (this.#full(e)) throw new CustodyError('DISK_FULL', DISK_FULL_MESSAGE);
      throw e;
    }
  }

  /** Wraps a transaction body so we learn whether it committed and what it returned. */
  #watch(fn: unknown, onEnd: (committed: boolean) => void, onResult: (r: unknown) => void): unknown {
    const f = fn as (...a: unknown[]) => unknown;
    return (...args: unknown[]) => {
      this.db.afterTransaction(onEnd);
      const r = f(...args);
      if (r instanceof Promise) return r.then((v) => (onResult(v), v));
      onResult(r);
      return r;
    };
  }

  /**
   * A write that only appends audit entries (what reading owes). On a full disk the reserve is
   * released and the write tried once more.
   */
  async auditWrite<T>(fn: () => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let committed = false;
      let result: T | undefined;
      try {
        return await this.#writeSync(this.#watch(fn, (c) => (committed = c), (r) => (result = r as T)) as () => T);
      } catch (e) {
        if (committed && this.#full(e)) return result as T;
        if (!this.#full(e)) throw e;
        if (attempt > 0 || !this.release()) throw new CustodyError('DISK_FULL', DISK_FULL_MESSAGE);
      }
    }
  }
}
