// A large commit's WAL checkpoint runs on a helper thread (walCheckpoint.ts): the commit itself
// leaves the database file alone, the helper copies the log in, and SQLite's own checkpoint is
// held only meanwhile. A helper that fails or is never asked to run loses nothing.
import Database from 'better-sqlite3';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import type { RecordData } from '../../shared/records.ts';
import { insertRecords } from '../records/importer.ts';
import { tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { BackgroundWalCheckpoint } from './walCheckpoint.ts';

// A machine where no thread can be started (a resource limit): the constructor throws on demand.
const threads = vi.hoisted(() => ({ fail: false }));
vi.mock('./walCheckpoint.ts', async (original) => {
  const m = await original<typeof import('./walCheckpoint.ts')>();
  class Failing extends m.BackgroundWalCheckpoint {
    constructor(...args: ConstructorParameters<typeof m.BackgroundWalCheckpoint>) {
      if (threads.fail) throw new Error('ERR_WORKER_INIT_FAILED');
      super(...args);
    }
  }
  return { ...m, BackgroundWalCheckpoint: Failing };
});

const records = (n: number): RecordData[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'note', title: `record ${i}`, body: 'x'.repeat(900), fields: [], case: 'c', tags: [], classification: 'internal' }));

let tv: TempVault;
beforeEach(async () => {
  tv = await tempVault();
});
afterEach(() => {
  threads.fail = false;
  return tv.cleanup();
});

const autocheckpoint = (db: Database.Database) => db.pragma('wal_autocheckpoint', { simple: true });

test("a bulk import's commit leaves the copy into the database file to the helper", async () => {
  const { db } = tv.custody.vault;
  const file = join(tv.dir, 'custody.db');
  const before = statSync(file).size;
  let atCommit: { file: number; wal: number; autocheckpoint: unknown } | undefined;
  db.afterTransaction(() => (atCommit ??= { file: statSync(file).size, wal: statSync(`${file}-wal`).size, autocheckpoint: autocheckpoint(db.sql) }));
  await insertRecords(tv.custody.vault, records(5000));
  // Committed: ~10 MB in the log, none of it in the database file yet, SQLite's checkpoint held.
  expect(atCommit!.wal).toBeGreaterThan(8 << 20);
  expect(atCommit!.file).toBe(before);
  expect(atCommit!.autocheckpoint).toBe(0);
  const [result] = await db.walCheckpointsSettled();
  expect(result).toEqual({ logPages: expect.any(Number), checkpointedPages: expect.any(Number) });
  const { logPages, checkpointedPages } = result as { logPages: number; checkpointedPages: number };
  expect(logPages).toBeGreaterThan(2000);
  expect(checkpointedPages).toBe(logPages);
  expect(statSync(file).size).toBeGreaterThan(8 << 20);
  expect(autocheckpoint(db.sql)).toBe(1000);
  const c = await tv.reopen();
  expect(c.vault.db.sql.prepare('SELECT count(*) FROM record').pluck().get()).toBe(5000);
});

test('with no thread to be had, the import still commits, and checkpoints in its commit as SQLite does', async () => {
  threads.fail = true;
  const { db } = tv.custody.vault;
  const file = join(tv.dir, 'custody.db');
  let atCommit: number | undefined;
  db.afterTransaction(() => (atCommit ??= statSync(file).size));
  await insertRecords(tv.custody.vault, records(5000));
  expect(atCommit).toBeGreaterThan(8 << 20);
  expect(await db.walCheckpointsSettled()).toEqual([]);
  expect(autocheckpoint(db.sql)).toBe(1000);
});

test('a small write checkpoints as SQLite does, with no helper', async () => {
  const { db } = tv.custody.vault;
  await insertRecords(tv.custody.vault, records(10));
  expect(await db.walCheckpointsSettled()).toEqual([]);
  expect(autocheckpoint(db.sql)).toBe(1000);
});

test('an import that fails stops its helper and gives the checkpoint back to SQLite', async () => {
  const { db } = tv.custody.vault;
  await expect(insertRecords(tv.custody.vault, records(5000), { fault: { chunk: 2, how: 'throw' } })).rejects.toThrow(/a fault forced by a test/);
  expect(await db.walCheckpointsSettled()).toEqual([]);
  expect(autocheckpoint(db.sql)).toBe(1000);
  expect(db.sql.prepare('SELECT count(*) FROM record').pluck().get()).toBe(0);
});

test('closing waits for the helper; the log is then gone and everything reads back', async () => {
  await insertRecords(tv.custody.vault, records(5000));
  await tv.custody.close();
  const file = join(tv.dir, 'custody.db');
  // The last connection to close removes the log: the helper's had closed before it.
  expect(existsSync(`${file}-wal`)).toBe(false);
  const c = await tv.reopen();
  expect(c.vault.db.sql.prepare('SELECT count(*) FROM record').pluck().get()).toBe(5000);
  expect((await c.verifyAudit()).problems).toEqual([]);
});

test('a helper that cannot open the database reports why, and the log stays for the next checkpoint', async () => {
  const dir = tempDir();
  const file = join(dir, 'db.sqlite');
  const conn = new Database(file);
  conn.pragma('journal_mode = WAL');
  conn.pragma('wal_autocheckpoint = 0');
  conn.exec('CREATE TABLE t (x BLOB)');
  const insert = conn.prepare('INSERT INTO t VALUES (?)');
  conn.transaction(() => {
    for (let i = 0; i < 2000; i++) insert.run(Buffer.alloc(1000));
  })();
  const missing = new BackgroundWalCheckpoint(join(dir, 'no-such.sqlite'));
  missing.run();
  expect(String(await missing.settled())).toMatch(/the WAL checkpoint on the helper thread failed: .*(unable to open|does not exist)/);
  const noDriver = new BackgroundWalCheckpoint(file, { driver: join(dir, 'no-driver.js') });
  noDriver.run();
  expect(String(await noDriver.settled())).toMatch(/the WAL checkpoint on the helper thread failed: Cannot find module/);
  // Nothing was copied; a checkpoint here still finds the whole log.
  expect(statSync(file).size).toBeLessThan(64 * 1024);
  const [r] = conn.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  expect(r!.log).toBeGreaterThan(400);
  expect(r!.checkpointed).toBe(r!.log);
  conn.close();
  rmSync(dir, { recursive: true, force: true });
});
