// Lock fails closed (issue 10, item 1): every key is wiped even when the lock's audit entry or
// checkpoint cannot be written, the lock is reported as done, and the missing entry is appended
// at the next unlock. Key material is also wiped on the error paths of unlock, recovery,
// keyring opening and vault creation. Faults are real: another connection holding SQLite's
// write lock, a damaged audit tree, a full file system (tmpfs, where it can be mounted).
import { afterEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { watchKeyMaterial } from '../crypto/keys.ts';
import { randomPoolIsWiped } from '../crypto/random.ts';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { utcDay } from '../util/time.ts';
import type { Keyring } from './keyring.ts';
import type { VaultHeader } from './header.ts';
import { joinVault, type WrappedKeyRow } from './vault.ts';
import { PENDING_FILE } from './pendingEntries.ts';
import { RESERVE_FILE } from '../backup/diskReserve.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  watchKeyMaterial(null);
  await tv?.cleanup();
  tv = undefined;
});

const isZero = (b: Buffer) => b.every((x) => x === 0);

/** Every key buffer made from now on, as the crypto module hands them out. */
function watchKeys(): Buffer[] {
  const seen: Buffer[] = [];
  watchKeyMaterial((b) => seen.push(b));
  return seen;
}

/** Unlocks, writes a record (so an epoch key is cached), and returns the keys then in memory. */
async function unlockAndHoldKeys(c: Custody): Promise<{ seen: Buffer[]; held: Buffer[]; keyring: Keyring }> {
  const seen = watchKeys();
  await c.unlock(PASSWORD, { buildIndex: false });
  const r = await c.createRecord({ kind: 'note', title: 'in memory while unlocked', body: 'x' });
  const keyring = c.vault.keys();
  const held = [keyring.vaultKey, keyring.epochRoot, keyring.signingSeed, keyring.epochKey(utcDay(new Date(r.capturedAt)))];
  expect(held.some(isZero)).toBe(false);
  return { seen, held, keyring };
}

function expectEverythingWiped(seen: Buffer[], held: Buffer[], keyring?: Keyring): void {
  expect(held.filter((b) => !isZero(b))).toHaveLength(0);
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.filter((b) => !isZero(b)).length).toBe(0);
  expect(randomPoolIsWiped()).toBe(true);
  if (keyring) expect(() => keyring.vaultKey).toThrow(/wiped/);
}

/** Holds SQLite's write lock from another connection (another process would do the same). */
function holdWriteLock(dir: string): () => void {
  const other = new Database(join(dir, 'custody.db'));
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('ROLLBACK');
    other.close();
  };
}

const events = async (c: Custody, from = 0) => (await c.auditQuery({ order: 'asc', limit: 10_000 })).filter((r) => r.seq >= from).map((r) => ({ event: r.event, success: r.success, details: r.entry?.details }));

describe('lock fails closed', () => {
  test('the database is locked by another process (SQLITE_BUSY): keys wiped, lock done, the entry is appended at the next unlock', async () => {
    tv = await tempVault({ unlock: false });
    const c = tv.custody;
    const { seen, held, keyring } = await unlockAndHoldKeys(c);
    const size = c.vault.audit.size();
    // Wait 50 ms for the lock instead of the usual 10 s.
    c.vault.db.sql.pragma('busy_timeout = 50');
    const release = holdWriteLock(tv.dir);
    try {
      await expect(c.lock()).resolves.toBeUndefined();
    } finally {
      release();
    }
    expect(c.status().unlocked).toBe(false);
    expectEverythingWiped(seen, held, keyring);
    await expect(c.list()).rejects.toMatchObject({ code: 'LOCKED' });
    expect(c.vault.audit.size()).toBe(size);
    const owed = JSON.parse(readFileSync(join(tv.dir, PENDING_FILE), 'utf8')) as { at: string }[];
    expect(owed).toEqual([{ event: 'vault.locked', at: expect.any(String), cause: 'SQLITE_BUSY' }]);
    expect(statSync(join(tv.dir, PENDING_FILE)).mode & 0o777).toBe(0o600);

    await c.unlock(PASSWORD, { buildIndex: false });
    const after = await events(c, size);
    expect(after[0]).toEqual({ event: 'vault.locked', success: true, details: { recordedLate: true, at: owed[0]!.at, cause: 'SQLITE_BUSY' } });
    expect(after[1]).toMatchObject({ event: 'vault.unlocked' });
    expect(existsSync(join(tv.dir, PENDING_FILE))).toBe(false);
    expect((await c.verifyAudit()).ok).toBe(true);
  });

  test('the audit tree is damaged: keys wiped, lock done, the entry is appended once the tree is repaired', async () => {
    tv = await tempVault({ unlock: false });
    const c = tv.custody;
    const { seen, held, keyring } = await unlockAndHoldKeys(c);
    const size = c.vault.audit.size();
    const other = new Database(join(tv.dir, 'custody.db'));
    const nodes = other.prepare('SELECT level, idx, hash FROM audit_node').all() as { level: number; idx: number; hash: Buffer }[];
    expect(nodes.length).toBeGreaterThan(0);
    other.exec('DELETE FROM audit_node');
    await c.lock();
    expect(c.status().unlocked).toBe(false);
    expectEverythingWiped(seen, held, keyring);
    expect(JSON.parse(readFileSync(join(tv.dir, PENDING_FILE), 'utf8'))).toEqual([{ event: 'vault.locked', at: expect.any(String), cause: 'TAMPERED' }]);
    // Nothing can be logged (so nothing unlocks) while the tree is damaged; repaired, it can.
    await expect(c.unlock(PASSWORD, { buildIndex: false })).rejects.toMatchObject({ code: 'TAMPERED' });
    expect(c.status().unlocked).toBe(false);
    const insert = other.prepare('INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)');
    for (const n of nodes) insert.run(n.level, n.idx, n.hash);
    other.close();
    await c.unlock(PASSWORD, { buildIndex: false });
    const late = (await events(c, size)).filter((e) => e.event === 'vault.locked');
    expect(late).toEqual([{ event: 'vault.locked', success: true, details: expect.objectContaining({ recordedLate: true, cause: 'TAMPERED' }) }]);
    expect((await c.verifyAudit()).ok).toBe(true);
  });

  test('an unlock whose entry cannot be written fails and leaves the vault locked with every unwrapped key zeroed', async () => {
    tv = await tempVault({ unlock: false });
    const c = tv.custody;
    const seen = watchKeys();
    c.vault.db.sql.pragma('busy_timeout = 50');
    const release = holdWriteLock(tv.dir);
    try {
      await expect(c.unlock(PASSWORD, { buildIndex: false })).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    } finally {
      release();
    }
    expect(c.status().unlocked).toBe(false);
    await expect(c.list()).rejects.toMatchObject({ code: 'LOCKED' });
    // The KEK, the vault key, the epoch root and the signing seed were all unwrapped, then wiped.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expectEverythingWiped(seen, []);
    await c.unlock(PASSWORD, { buildIndex: false });
    expect(c.status().unlocked).toBe(true);
  });

  test('a wrong password whose failure entry cannot be written is still WRONG_PASSWORD; the entry is appended at the next unlock', async () => {
    tv = await tempVault({ unlock: false });
    const c = tv.custody;
    const size = c.vault.audit.size();
    const seen = watchKeys();
    c.vault.db.sql.pragma('busy_timeout = 50');
    const release = holdWriteLock(tv.dir);
    try {
      await expect(c.unlock('not the password', { buildIndex: false })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    } finally {
      release();
    }
    expectEverythingWiped(seen, []);
    expect(c.vault.audit.size()).toBe(size);
    await c.unlock(PASSWORD, { buildIndex: false });
    const after = await events(c, size);
    expect(after[0]).toEqual({ event: 'vault.unlock_failed', success: false, details: { method: 'password', recordedLate: true, at: expect.any(String), cause: 'SQLITE_BUSY' } });
    expect(after[1]).toMatchObject({ event: 'vault.unlocked' });
  });

  test('a recovery that cannot be recorded wipes its keys and leaves the password unchanged', async () => {
    tv = await tempVault({ unlock: false });
    const c = tv.custody;
    const header = readFileSync(join(tv.dir, 'vault.json'));
    const seen = watchKeys();
    c.vault.db.sql.pragma('busy_timeout = 50');
    const release = holdWriteLock(tv.dir);
    try {
      await expect(c.recover(tv.recoveryKey, 'a new password here')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    } finally {
      release();
    }
    expect(c.status().unlocked).toBe(false);
    expectEverythingWiped(seen, []);
    expect(readFileSync(join(tv.dir, 'vault.json'))).toEqual(header);
    await c.unlock(PASSWORD, { buildIndex: false });
    expect(c.status().unlocked).toBe(true);
  });

  test('two unlocks at once open one keyring: no second set of keys is left in memory', async () => {
    tv = await tempVault({ unlock: false });
    const c = tv.custody;
    const seen = watchKeys();
    await Promise.all([c.unlock(PASSWORD, { buildIndex: false }), c.unlock(PASSWORD, { buildIndex: false })]);
    const k = c.vault.keys();
    const live = [k.vaultKey, k.epochRoot, k.signingSeed];
    expect(seen.filter((b) => !isZero(b) && !live.includes(b))).toHaveLength(0);
    expect(await c.auditQuery({ event: 'vault.unlocked' })).toHaveLength(1);
  });

  test('a keyring that fails to open (a tampered key registry) wipes what it unwrapped', async () => {
    tv = await tempVault({ unlock: false });
    const c = tv.custody;
    const other = new Database(join(tv.dir, 'custody.db'));
    other.prepare("UPDATE key_registry SET attestation = zeroblob(32) WHERE kind = 'device_signing'").run();
    other.close();
    const seen = watchKeys();
    await expect(c.unlock(PASSWORD, { buildIndex: false })).rejects.toMatchObject({ code: 'TAMPERED' });
    expect(c.status().unlocked).toBe(false);
    expectEverythingWiped(seen, []);
  });

  test('attachment encryption that fails midway wipes the attachment key, the record key and the derived chunk keys', async () => {
    tv = await tempVault();
    const c = tv.custody;
    const r = await c.createRecord({ kind: 'note', title: 'gets no attachment' });
    const seen = watchKeys();
    // The record's data key, as the attachment code receives it.
    const dataKey = c.records.dataKey.bind(c.records);
    c.records.dataKey = async (id: string) => {
      const got = await dataKey(id);
      seen.push(got.dek);
      return got;
    };
    // A directory opens and has a size, so encryption starts; its first read fails (EISDIR).
    const src = join(tv.dir, '..', 'not-a-file');
    mkdirSync(src);
    await expect(c.addAttachment(r.id, src)).rejects.toThrow();
    // The attachment key, the record's data key, and the chunk keys derived from the first.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((b) => !isZero(b))).toHaveLength(0);
    expect(readdirSync(join(tv.dir, 'attachments'))).toEqual([]);
  });

  test('a join that fails after the vault key was unwrapped (an epoch root that does not open) wipes it and leaves nothing behind', async () => {
    tv = await tempVault({ unlock: false });
    const header = JSON.parse(readFileSync(join(tv.dir, 'vault.json'), 'utf8')) as VaultHeader;
    const root = (await tv.custody.vault.db.prisma.keyEntry.findFirstOrThrow({ where: { kind: 'epoch_root' } }))!;
    const forged = { ...root, status: 'active', rotatedAt: undefined, wrapped: new Uint8Array(root.wrapped!.length) } as unknown as WrappedKeyRow;
    const dir = join(tempDir(), 'joined');
    const seen = watchKeys();
    await expect(joinVault(dir, header, [forged], { password: PASSWORD })).rejects.toMatchObject({ code: 'TAMPERED' });
    // The KEK and the vault key.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expectEverythingWiped(seen, []);
    expect(existsSync(dir)).toBe(false);
  });
});

// ---- a real full disk -------------------------------------------------------------------------

/** A small tmpfs, where this machine lets tests mount one (root in a container does). */
function mountSmallDisk(): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = tempDir('custody-full-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

function unmount(dir: string): void {
  execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a filler file until the file system refuses (ENOSPC); returns its path. */
function fillDisk(dir: string, name = 'filler'): string {
  const filler = join(dir, name);
  const fd = openSync(filler, 'w');
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

const disk = mountSmallDisk();
if (disk) unmount(disk);

describe.runIf(disk !== null)('on a full disk (tmpfs)', () => {
  test('lock wipes every key, and after a restart the next unlock appends the lock entry the full disk refused', async () => {
    const mnt = mountSmallDisk()!;
    let c: Custody | undefined;
    try {
      const dir = join(mnt, 'vault');
      await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
      c = await Custody.open(dir);
      const { seen, held, keyring } = await unlockAndHoldKeys(c);
      const size = c.vault.audit.size();
      // The next write must grow the WAL, and the disk has no room left for it.
      c.vault.db.sql.pragma('wal_checkpoint(TRUNCATE)');
      const filler = fillDisk(mnt);
      // The space kept for reading's entries (backup/diskReserve.ts) would take this one: used up too.
      rmSync(join(dir, RESERVE_FILE), { force: true });
      const more = fillDisk(mnt, 'filler2');
      await expect(c.lock()).resolves.toBeUndefined();
      expect(c.status().unlocked).toBe(false);
      expectEverythingWiped(seen, held, keyring);
      // No room for the marker's content: it exists, empty, and says an entry is owed.
      expect(statSync(join(dir, PENDING_FILE)).size).toBe(0);
      rmSync(filler);
      rmSync(more);
      await c.close();
      c = await Custody.open(dir);
      expect(c.vault.audit.size()).toBe(size);
      await c.unlock(PASSWORD, { buildIndex: false });
      const after = await events(c, size);
      expect(after[0]).toEqual({ event: 'vault.locked', success: true, details: { recordedLate: true, at: 'unknown', cause: 'UNKNOWN' } });
      expect(after[1]).toMatchObject({ event: 'vault.unlocked' });
      expect((await c.verifyAudit()).ok).toBe(true);
    } finally {
      await c?.close();
      unmount(mnt);
    }
  });

  test('vault creation that runs out of space wipes every key it made and leaves the folder reusable', async () => {
    const mnt = mountSmallDisk()!;
    try {
      const dir = join(mnt, 'vault');
      const filler = fillDisk(mnt);
      const seen = watchKeys();
      await expect(Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR })).rejects.toThrow();
      // The vault key, the recovery key, the KEKs, the epoch root and the signing seed.
      expect(seen.length).toBeGreaterThanOrEqual(5);
      expectEverythingWiped(seen, []);
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
      rmSync(filler);
      await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
      expect(readdirSync(dir).sort()).toEqual(['attachments', 'checkpoint.txt', 'custody.db', 'vault.json']);
    } finally {
      unmount(mnt);
    }
  });
});
