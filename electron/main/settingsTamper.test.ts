// Issue 10, item 11: a folder writer cannot turn auto-lock off. The settings that matter are
// sealed in the vault; the file beside it is only a cache, and at unlock the sealed copy wins,
// the file is rewritten and the tampering is recorded. Real vault, real core handlers, and
// the shell's real Session (whose idle timer is what auto-lock is).
import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRow } from '../shared/audit.ts';
import type { Envelope, Method, RequestOf, Responses, Settings } from '../shared/contract.ts';
import { createCore, type CoreApi } from '../core/api/handlers.ts';
import { SEALED_SETTINGS_KEY, settingsFileFor } from '../core/api/settings.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { Custody } from '../core/custody.ts';
import { PASSWORD, tempDir } from '../core/testing/tempVault.ts';
import { Session, type LockReason } from './session.ts';

let root: string;
let vaultDir: string;
let file: string;
let core: CoreApi;

const open = () =>
  (core = createCore({ vaultDir, settingsFile: file, emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 'test' }));
async function ok<M extends Method>(method: M, request: RequestOf<M>): Promise<Responses[M]> {
  const env = (await core.invoke(method, request)) as Envelope<Responses[M]>;
  if (!env.ok) throw new Error(`${method}: ${env.error.code} ${env.error.message}`);
  return env.value;
}
const fileSettings = () => JSON.parse(readFileSync(file, 'utf8')) as Settings;
/** What the folder writer does while the owner is away (the app closed, the vault locked). */
const editFile = (patch: Record<string, unknown>) => writeFileSync(file, JSON.stringify({ ...fileSettings(), ...patch }));
const tamperEntries = async (): Promise<AuditRow[]> => ok('audit.query', { event: 'settings.tamper_detected', order: 'asc' });
/** Runs SQL on the vault's database as someone with write access to the folder would. */
function sql(statement: string, ...params: unknown[]): void {
  const db = new Database(join(vaultDir, 'custody.db'));
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

beforeEach(async () => {
  root = tempDir();
  vaultDir = join(root, 'vault');
  file = settingsFileFor(vaultDir);
  await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
  open();
  // The owner chooses a 5-minute auto-lock; the vault seals it.
  await ok('vault.unlock', { password: PASSWORD });
  await ok('settings.set', { autoLockMinutes: 5, theme: 'dark' });
  await ok('vault.lock', {});
  await core.close();
});
afterEach(async () => {
  await core?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('settings a folder writer edits while the vault is locked', () => {
  it('auto-lock turned off in the file: after unlock the sealed settings are in force, the file is repaired and the tampering recorded', async () => {
    editFile({ autoLockMinutes: 0, lockOnSuspend: false, theme: 'light' });
    open();
    // Locked, the cache is all there is (and auto-lock has nothing to lock).
    expect(await ok('settings.get', {})).toMatchObject({ autoLockMinutes: 0, lockOnSuspend: false });
    await ok('vault.unlock', { password: PASSWORD });
    // The theme is only the lock screen's look: the file's stays.
    expect(await ok('settings.get', {})).toEqual({ autoLockMinutes: 5, lockOnSuspend: true, theme: 'light', syncIntervalMinutes: 0 });
    expect(fileSettings()).toEqual({ autoLockMinutes: 5, lockOnSuspend: true, theme: 'light', syncIntervalMinutes: 0 });
    const [tamper, ...more] = await tamperEntries();
    expect(more).toEqual([]);
    expect(tamper!.success).toBe(false);
    expect(tamper!.entry!.details).toEqual({ where: 'settings file', changed: ['autoLockMinutes', 'lockOnSuspend'], 'file.autoLockMinutes': 0, 'file.lockOnSuspend': false });
    // Repaired: the next unlock finds nothing to report.
    await ok('vault.lock', {});
    await ok('vault.unlock', { password: PASSWORD });
    expect(await tamperEntries()).toHaveLength(1);
  });

  it('a huge auto-lock (not even a valid value) is reported as unreadable and replaced', async () => {
    editFile({ autoLockMinutes: 1e9 });
    open();
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('settings.get', {})).toMatchObject({ autoLockMinutes: 5, lockOnSuspend: true });
    expect(fileSettings()).toMatchObject({ autoLockMinutes: 5 });
    expect((await tamperEntries()).map((e) => e.entry!.details)).toEqual([{ where: 'settings file', changed: ['autoLockMinutes'], unreadable: true }]);
  });

  it("the shell's idle timer follows the sealed value, not the file's", async () => {
    editFile({ autoLockMinutes: 0 });
    open();
    const locked: LockReason[] = [];
    const clock = { idle: 0 };
    const backend = { call: (m: Method, r: unknown) => core.invoke(m, r) };
    const session = new Session({ backend, idleSeconds: () => clock.idle, onLocked: (r) => locked.push(r), checkEveryMs: 5 });
    await session.start();
    try {
      expect(session.settings.autoLockMinutes).toBe(0);
      expect(await session.call('vault.unlock', { password: PASSWORD })).toMatchObject({ ok: true });
      expect(session.settings.autoLockMinutes).toBe(5);
      // Six idle minutes: with the file's 0 ("never") nothing would happen.
      clock.idle = 6 * 60;
      await vi.waitFor(() => expect(locked).toEqual(['idle']), { timeout: 30_000 });
      expect(await ok('vault.status', {})).toMatchObject({ unlocked: false });
    } finally {
      session.stop();
    }
  });

  it('the sealed copy removed from the database: the file is believed no further than the defaults, and the removal is recorded', async () => {
    sql('DELETE FROM meta WHERE key = ?', SEALED_SETTINGS_KEY);
    editFile({ autoLockMinutes: 0, lockOnSuspend: false });
    open();
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('settings.get', {})).toMatchObject({ autoLockMinutes: 10, lockOnSuspend: true });
    expect(fileSettings()).toMatchObject({ autoLockMinutes: 10, lockOnSuspend: true });
    expect((await tamperEntries()).map((e) => e.entry!.details)).toEqual([
      { where: 'vault', problem: 'the sealed settings were removed', autoLockMinutes: 10, lockOnSuspend: true, syncIntervalMinutes: 0 },
    ]);
  });

  it("a sealed copy that does not open (another vault's, or altered) is replaced the same way", async () => {
    // A copy of the 5-minute seal from another vault would not open here either: forge one byte.
    const db = new Database(join(vaultDir, 'custody.db'));
    const { value } = db.prepare('SELECT value FROM meta WHERE key = ?').get(SEALED_SETTINGS_KEY) as { value: string };
    const bytes = Buffer.from(value, 'base64');
    bytes[20]! ^= 1;
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(bytes.toString('base64'), SEALED_SETTINGS_KEY);
    db.close();
    editFile({ autoLockMinutes: 600 });
    open();
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('settings.get', {})).toMatchObject({ autoLockMinutes: 10 });
    expect((await tamperEntries()).map((e) => e.entry!.details)).toEqual([
      { where: 'vault', problem: 'the sealed settings do not open', autoLockMinutes: 10, lockOnSuspend: true, syncIntervalMinutes: 0 },
    ]);
  });

  it('while locked, only the theme can be changed through the app', async () => {
    open();
    expect(await core.invoke('settings.set', { autoLockMinutes: 0 })).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
    expect(await core.invoke('settings.set', { lockOnSuspend: false, theme: 'light' })).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
    expect(fileSettings()).toMatchObject({ autoLockMinutes: 5, lockOnSuspend: true, theme: 'dark' });
    expect(await ok('settings.set', { theme: 'light' })).toMatchObject({ theme: 'light', autoLockMinutes: 5 });
  });
});

describe('a vault from before settings were sealed', () => {
  it('seals the file at its first unlock, no weaker than the defaults', async () => {
    // A fresh vault that was never unlocked by this release: no sealed copy, none in its log.
    rmSync(root, { recursive: true, force: true });
    root = tempDir();
    vaultDir = join(root, 'vault');
    file = settingsFileFor(vaultDir);
    await Custody.create(vaultDir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
    writeFileSync(file, JSON.stringify({ autoLockMinutes: 3, lockOnSuspend: false, theme: 'dark', syncIntervalMinutes: 15 }));
    open();
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('settings.get', {})).toEqual({ autoLockMinutes: 3, lockOnSuspend: true, theme: 'dark', syncIntervalMinutes: 15 });
    expect(await tamperEntries()).toEqual([]);
    const sealed = (await ok('audit.query', { event: 'settings.changed' })).map((e) => e.entry!.details);
    expect(sealed).toEqual([{ changed: ['lockOnSuspend'], sealed: true, autoLockMinutes: 3, lockOnSuspend: true, syncIntervalMinutes: 15 }]);
    // From now on the seal is what counts.
    await ok('vault.lock', {});
    editFile({ autoLockMinutes: 0 });
    await ok('vault.unlock', { password: PASSWORD });
    expect(await ok('settings.get', {})).toMatchObject({ autoLockMinutes: 3 });
    expect(await tamperEntries()).toHaveLength(1);
  });
});
