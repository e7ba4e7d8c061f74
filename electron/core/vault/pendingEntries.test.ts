// Entries owed to the log (pendingEntries.ts): kept as durably as the disk allows, and read back
// without trusting what a folder writer may have put in the file.
import { afterEach, expect, test } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/tempVault.ts';
import { PENDING_FILE, PendingEntries, type PendingEntry } from './pendingEntries.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const locked = (cause: string): PendingEntry => ({ event: 'vault.locked', at: '2026-06-01T12:00:00.000Z', cause });
const UNKNOWN = { event: 'vault.locked', at: null, cause: 'UNKNOWN' };

test('kept in the file, merged, survives a restart, cleared once appended', () => {
  dir = tempDir();
  const p = new PendingEntries(dir);
  expect(p.add(locked('SQLITE_BUSY'))).toBe('file');
  expect(p.add({ event: 'vault.unlock_failed', at: '2026-06-01T12:01:00.000Z', cause: 'SQLITE_FULL' })).toBe('file');
  expect(new PendingEntries(dir).list()).toEqual([locked('SQLITE_BUSY'), { event: 'vault.unlock_failed', at: '2026-06-01T12:01:00.000Z', cause: 'SQLITE_FULL' }]);
  p.clear();
  expect(new PendingEntries(dir).list()).toEqual([]);
});

test('where the content cannot be written, an empty marker; where not even that, memory', () => {
  dir = tempDir();
  // Something in the way of the temp file: the atomic write fails, creating the marker does not.
  mkdirSync(join(dir, `${PENDING_FILE}.tmp-${process.pid}`, 'x'), { recursive: true });
  const p = new PendingEntries(dir);
  expect(p.add(locked('SQLITE_FULL'))).toBe('marker');
  expect(readFileSync(join(dir, PENDING_FILE), 'utf8')).toBe('');
  // This process still knows the details; after a restart only "something is owed" remains.
  expect(p.list()).toEqual([locked('SQLITE_FULL')]);
  expect(new PendingEntries(dir).list()).toEqual([UNKNOWN]);

  const gone = new PendingEntries(join(dir, 'no such folder'));
  expect(gone.add(locked('SQLITE_IOERR'))).toBe('memory');
  expect(gone.list()).toEqual([locked('SQLITE_IOERR')]);
});

test('a planted file is read within bounds and only as error codes: anything else stands for one unknown entry', () => {
  dir = tempDir();
  const file = join(dir, PENDING_FILE);
  for (const planted of ['{not json', JSON.stringify([{ event: 'vault.locked', at: null, cause: 'the case name Operation Nightfall' }]), JSON.stringify([{ event: 'record.purged', at: null, cause: 'X' }]), 'x'.repeat(100_000)]) {
    writeFileSync(file, planted);
    expect(new PendingEntries(dir).list()).toEqual([UNKNOWN]);
  }
});
