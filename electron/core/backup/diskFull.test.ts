// A real full disk (a small tmpfs, mounted where the machine allows it, as root in a container
// does): writes are refused with "the disk is full: free space to save changes" and lose
// nothing; unlock, listing, search and viewing keep working and their audit entries are
// written (the reserve in the vault folder gives way to them); once space is freed, writes
// work again and the reserve is back.
import { afterEach, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Custody } from '../custody.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { createBackup } from './createBackup.ts';
import { RESERVE_BYTES, RESERVE_FILE } from './diskReserve.ts';
import { DISK_FULL_MESSAGE } from './diskFull.ts';

function mountSmallDisk(size = '24m'): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = tempDir('custody-disk-full-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
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
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
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

/** The built CLI (rebuilt by the vitest global setup). */
const CLI = resolve('out/cli/custody.mjs');

const probe = mountSmallDisk();
if (probe) unmount(probe);

let mnt: string | undefined;
let c: Custody | undefined;
afterEach(async () => {
  await c?.close().catch(() => undefined);
  c = undefined;
  if (mnt) unmount(mnt);
  mnt = undefined;
});

const events = async (x: Custody, from: number) => (await x.vault.audit.query({ order: 'asc', limit: 10_000 })).filter((r) => r.seq >= from).map((r) => r.event);

describe.runIf(probe !== null)('on a full disk (tmpfs)', () => {
  test('a record write, an import and a backup are refused plainly and lose nothing; unlock, list, search and view keep working and are logged; freed space brings writes back', async () => {
    mnt = mountSmallDisk()!;
    const dir = join(mnt, 'vault');
    await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
    c = await Custody.open(dir);
    await c.unlock(PASSWORD, { buildIndex: false });
    const first = await c.createRecord({ kind: 'note', title: 'written before the disk filled', body: 'kept' });
    expect(statSync(join(dir, RESERVE_FILE)).size).toBe(RESERVE_BYTES);
    c.vault.db.sql.pragma('wal_checkpoint(TRUNCATE)');
    const filler = fillDisk(mnt);
    const size = c.vault.audit.size();

    await expect(c.createRecord({ kind: 'note', title: 'no room', body: 'x' })).rejects.toMatchObject({ code: 'DISK_FULL', message: DISK_FULL_MESSAGE });
    await expect(c.importText(JSON.stringify([{ kind: 'note', title: 'imported', body: 'y' }]), 'json')).rejects.toMatchObject({ code: 'DISK_FULL' });
    const out = join(mnt, 'b.backup');
    await expect(createBackup(c.vault, out)).rejects.toMatchObject({ code: 'DISK_FULL' });
    expect(readdirSync(mnt).filter((f) => f.startsWith('b.backup') || f.startsWith('.b.backup'))).toEqual([]);

    // Reading goes on, locked and unlocked again, and every entry it owes is in the log.
    await c.lock();
    await c.close();
    c = await Custody.open(dir);
    await c.unlock(PASSWORD, { buildIndex: false });
    expect((await c.list()).map((r) => r.id)).toEqual([first.id]);
    expect((await c.search({ text: '' })).total).toBe(1);
    expect((await c.getRecord(first.id)).body).toBe('kept');
    expect(await events(c, size)).toEqual(expect.arrayContaining(['vault.unlocked', 'search', 'record.viewed']));
    // Still no room for changes; the failed write took nothing.
    await expect(c.createRecord({ kind: 'note', title: 'still no room', body: 'x' })).rejects.toMatchObject({ code: 'DISK_FULL' });
    expect((await c.list()).length).toBe(1);

    rmSync(filler);
    const again = await c.createRecord({ kind: 'note', title: 'after space was freed', body: 'z' });
    expect((await c.list()).map((r) => r.id).sort()).toEqual([first.id, again.id].sort());
    expect(statSync(join(dir, RESERVE_FILE)).size).toBe(RESERVE_BYTES);
    expect((await c.verifyAudit()).ok).toBe(true);
  }, 300_000);

  test('the CLI on a full disk: "custody list" works, "custody add" says the disk is full (exit 8)', async () => {
    mnt = mountSmallDisk()!;
    const dir = join(mnt, 'vault');
    await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR });
    const env = { ...process.env, CUSTODY_PASSWORD: PASSWORD };
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, '--vault', dir, ...args], { env, encoding: 'utf8' });
    expect(run(['add', '--title', 'before', '--body', 'b']).status).toBe(0);
    expect(existsSync(join(dir, RESERVE_FILE))).toBe(true);
    const filler = fillDisk(mnt);
    const list = run(['list']);
    expect(list.stderr).toBe('');
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('before');
    const add = run(['add', '--title', 'after', '--body', 'b']);
    expect(add.stderr).toBe(`custody: ${DISK_FULL_MESSAGE}\n`);
    expect(add.status).toBe(8);
    const file = join(tempDir('custody-import-'), 'in.json');
    writeFileSync(file, JSON.stringify([{ kind: 'note', title: 'imported', body: 'y' }]));
    const imp = run(['import', file]);
    expect(imp.stderr).toContain(DISK_FULL_MESSAGE);
    rmSync(filler);
    expect(run(['add', '--title', 'after', '--body', 'b']).status).toBe(0);
    const verify = run(['audit', 'verify']);
    expect(verify.status).toBe(0);
  }, 600_000);
});
