// Scheduled backups with an injected clock: a backup when due and only then, the newest K kept
// (nothing else in the folder touched), the schedule sealed in the vault (its folder never in
// the clear) and its change an audit entry, a missing folder reported and retried later.
import { afterEach, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { BackupScheduler, readSchedule, saveSchedule, SCHEDULE_META_KEY } from './schedule.ts';
import { verifyBackup } from './verifyBackup.ts';

let tv: TempVault | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const HOUR = 3_600_000;

test('backups are made when due, the newest K kept, other files untouched; the schedule is sealed and its change logged', async () => {
  tv = await tempVault();
  const v = tv.custody.vault;
  await tv.custody.createRecord({ kind: 'note', title: 'to back up', body: 'x' });
  const folder = tempDir('custody-scheduled-');
  dirs.push(folder);
  writeFileSync(join(folder, 'my-notes.txt'), 'not a backup');
  const s = new BackupScheduler();
  expect(await s.tick(v, Date.now())).toBeNull(); // no schedule yet

  await saveSchedule(v, { enabled: true, folder, everyHours: 24, keep: 2 });
  expect(readSchedule(v)).toEqual({ enabled: true, folder, everyHours: 24, keep: 2 });
  // Sealed: the folder's path is nowhere in the database file.
  const raw = new Database(join(tv.dir, 'custody.db'), { readonly: true });
  const stored = raw.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(SCHEDULE_META_KEY) as string;
  raw.close();
  expect(stored).not.toContain(folder);
  const logged = (await tv.custody.auditQuery({ order: 'desc', limit: 1 }))[0]!;
  expect(logged.event).toBe('settings.changed');
  expect(JSON.stringify(logged.entry)).not.toContain(folder);

  let now = Date.now();
  const first = await s.tick(v, now);
  expect(first).not.toBeNull();
  expect((await verifyBackup(first!.file)).ok).toBe(true);
  expect(await s.tick(v, now + HOUR)).toBeNull(); // not due for 24 h
  expect(s.status(v, now + HOUR)).toMatchObject({ lastBackupAt: expect.any(String), lastError: null, running: false });
  for (let i = 1; i <= 3; i++) {
    now += 25 * HOUR;
    // The audit entry's time is the real clock: make the last backup look 25 h old.
    expect(await s.tick(v, Date.now() + i * 25 * HOUR)).not.toBeNull();
  }
  const files = readdirSync(folder).sort();
  expect(files.filter((f) => f.startsWith('custody-backup-'))).toHaveLength(2);
  expect(files).toContain('my-notes.txt');

  // Off: nothing more is made, even when due.
  await saveSchedule(v, { enabled: false, folder, everyHours: 24, keep: 2 });
  expect(await s.tick(v, Date.now() + 1000 * HOUR)).toBeNull();
});

test('a missing folder is reported in the status and tried again an hour later, not every tick', async () => {
  tv = await tempVault();
  const v = tv.custody.vault;
  const folder = join(tempDir('custody-scheduled-'), 'unplugged-drive');
  dirs.push(folder);
  await saveSchedule(v, { enabled: true, folder, everyHours: 1, keep: 3 });
  const s = new BackupScheduler();
  const now = Date.now();
  expect(await s.tick(v, now)).toBeNull();
  expect(s.status(v, now).lastError).toMatch(/the backup folder .* does not exist/);
  expect(existsSync(folder)).toBe(false);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder);
  expect(await s.tick(v, now + 10 * 60_000)).toBeNull(); // waits its hour
  expect(await s.tick(v, now + HOUR + 1)).not.toBeNull();
  expect(s.status(v).lastError).toBeNull();
});

test('a vault key rotation re-seals the schedule: it reads back the same afterwards', async () => {
  tv = await tempVault();
  const folder = tempDir('custody-scheduled-');
  dirs.push(folder);
  await saveSchedule(tv.custody.vault, { enabled: true, folder, everyHours: 6, keep: 4 });
  const { rotateVaultKey } = await import('../keys/vaultKeyRotation.ts');
  await rotateVaultKey(tv.custody.vault, { password: PASSWORD, recovery: 'new' });
  const c = await tv.reopen();
  await c.unlock(PASSWORD, { buildIndex: false });
  expect(readSchedule(c.vault)).toEqual({ enabled: true, folder, everyHours: 6, keep: 4 });
});
