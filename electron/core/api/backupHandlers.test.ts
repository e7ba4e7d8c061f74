// The Settings → Backups calls over the IPC contract: status (locked and unlocked), the
// schedule's interval and count (the folder only from the CLI: a window names no files),
// "back up now", and a renderer path refused by validation.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Envelope, Method, RequestOf, Responses } from '../../shared/contract.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { Custody } from '../custody.ts';
import { saveSchedule } from '../backup/schedule.ts';
import { createCore, type CoreApi } from './handlers.ts';
import { settingsFileFor } from './settings.ts';

let core: CoreApi | undefined;
let root: string | undefined;
afterEach(async () => {
  await core?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

it('reports the last backup and the schedule, changes interval and count, backs up now; refuses a folder from the window', async () => {
  root = tempDir();
  const vaultDir = join(root, 'vault');
  const folder = join(root, 'backups');
  core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 't' });
  const call = <M extends Method>(m: M, r: RequestOf<M>) => core!.invoke(m, r) as Promise<Envelope<Responses[M]>>;
  const ok = async <M extends Method>(m: M, r: RequestOf<M>): Promise<Responses[M]> => {
    const env = await call(m, r);
    if (!env.ok) throw new Error(`${m}: ${env.error.code} ${env.error.message}`);
    return env.value;
  };
  await ok('vault.create', { password: PASSWORD });
  expect(await ok('backup.status', {})).toMatchObject({ unlocked: false, schedule: null, lastBackupAt: null });
  expect(await call('backup.runNow', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  await ok('vault.unlock', { password: PASSWORD });
  expect(await call('backup.setSchedule', { enabled: true, everyHours: 12, keep: 3 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('custody backup schedule --folder') } });
  // A folder path from the window is refused by validation.
  expect(await call('backup.setSchedule', { enabled: true, everyHours: 12, keep: 3, folder: '/tmp' } as never)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });

  // The folder, set as the CLI does (another process, same vault).
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder);
  const cli = await Custody.open(vaultDir);
  await cli.unlock(PASSWORD, { buildIndex: false });
  await saveSchedule(cli.vault, { enabled: true, folder, everyHours: 24, keep: 7 });
  await cli.close();

  const set = await ok('backup.setSchedule', { enabled: true, everyHours: 12, keep: 3 });
  expect(set.schedule).toEqual({ enabled: true, folderName: 'backups', everyHours: 12, keep: 3 });
  const done = await ok('backup.runNow', {});
  expect(done.lastBackupAt).not.toBeNull();
  expect(done.nextDueAt).not.toBeNull();
  expect(readdirSync(folder).filter((f) => f.endsWith('.tar'))).toHaveLength(1);
  expect(existsSync(join(folder, readdirSync(folder)[0]!))).toBe(true);
});
