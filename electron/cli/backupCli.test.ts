// The backup commands through the built CLI: backup, backup verify, restore, status, and kill -9
// (a fault hook: the process SIGKILLs itself at a named step) during a backup and a restore.
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { CLI, cli } from './testing.ts';

// Each test runs the CLI several times (a full unlock each): slow on a loaded machine.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 300_000 });

const PASSWORD = 'backup cli password';
const env = (extra: Record<string, string> = {}) => ({ CUSTODY_PASSWORD: PASSWORD, ...extra });
let root: string;
let vault: string;
let recoveryKey: string;

beforeAll(async () => {
  root = tempDir('custody-backup-cli-');
  vault = join(root, 'vault');
  ({ recoveryKey } = await Custody.create(vault, { password: PASSWORD, kdf: KDF_FLOOR }));
  for (let i = 0; i < 3; i++) expect(cli(vault, ['add', '--title', `note ${i}`, '--body', 'b'], env()).status).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The vault opens, verifies, and still holds its three records. */
async function vaultIsFine(dir: string): Promise<void> {
  const c = await Custody.open(dir);
  try {
    expect(c.vault.integrityProblem).toBeNull();
    await c.unlock(PASSWORD, { buildIndex: false });
    expect((await c.list()).length).toBeGreaterThanOrEqual(3);
    expect((await c.verifyAudit()).ok).toBe(true);
  } finally {
    await c.close();
  }
}

describe('custody backup / verify / restore / status', () => {
  test('backup, verify (structure, then --full), restore into a new folder, status shows the last backup', async () => {
    const out = join(root, 'one.backup');
    const b = cli(vault, ['--json', 'backup', '--out', out], env());
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ records: 3, encryption: 'none' });
    const v = cli(vault, ['backup', 'verify', out], { CUSTODY_PASSWORD: '' });
    expect(v.stdout).toMatch(/^ok: .*3 records/m);
    expect(v.stdout).toMatch(/structure checked/);
    expect(cli(vault, ['backup', 'verify', '--full', out], env()).stdout).toMatch(/full check/);
    // Again under the name it already has: refused.
    expect(cli(vault, ['backup', '--out', out], env()).status).toBe(5);

    const dest = join(root, 'restored');
    const r = cli(dest, ['restore', out], env());
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Restored vault .* 3 records/);
    await vaultIsFine(dest);
    // Over an existing vault: refused.
    const again = cli(dest, ['restore', out], env());
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/a vault already exists/);
    // The record command of the same name still restores records from the trash.
    const id = JSON.parse(cli(vault, ['--json', 'list'], env()).stdout)[0].id as string;
    expect(cli(vault, ['rm', id], env()).status).toBe(0);
    expect(cli(vault, ['restore', id], env()).stdout).toBe(`${id} restored\n`);

    const s = cli(vault, ['--json', 'status'], { CUSTODY_PASSWORD: '' });
    expect(s.status).toBe(0);
    const st = JSON.parse(s.stdout);
    expect(st).toMatchObject({ vault, records: { total: 3 }, unlockedElsewhere: 'not knowable', sync: { configured: false } });
    expect(st.lastBackup).toMatchObject({ reason: 'manual', encryption: 'none' });
    expect(st.lastCheckpoint.size).toBeGreaterThan(0);
    expect(cli(vault, ['status'], { CUSTODY_PASSWORD: '' }).stdout).toMatch(/unlocked\?\s+not knowable/);
  });

  test('a passphrase-encrypted backup: verify and restore need the passphrase', () => {
    const out = join(root, 'enc.backup');
    const pp = join(root, 'pp.txt');
    writeFileSync(pp, 'a long enough passphrase\n');
    expect(cli(vault, ['backup', '--out', out, '--passphrase-file', pp], env()).status).toBe(0);
    const without = cli(vault, ['backup', 'verify', out], env());
    expect(without.status).toBe(2);
    expect(without.stderr).toMatch(/encrypted with age/);
    expect(cli(vault, ['backup', 'verify', out, '--passphrase-file', pp], env()).stdout).toMatch(/^ok: /m);
  });

  test('with only the recovery key: backup verify --full and restore (which sets a new master password); a wrong key restores nothing', async () => {
    const out = join(root, 'for-recovery.backup');
    expect(cli(vault, ['backup', '--out', out], env()).status).toBe(0);
    const rk = join(root, 'recovery.txt');
    writeFileSync(rk, `${recoveryKey}\n`);
    const np = join(root, 'new-password.txt');
    writeFileSync(np, 'a new password after restore\n');
    // No password anywhere: CUSTODY_PASSWORD is empty.
    const v = cli(vault, ['backup', 'verify', '--full', out, '--recovery-key-file', rk]);
    expect(v.stderr).toBe('');
    expect(v.stdout).toMatch(/full check: the recovery key opens the backed-up vault/);
    const wrongKey = join(root, 'wrong-recovery.txt');
    writeFileSync(wrongKey, recoveryKey.replace(/^(.)/, (c) => (c === 'A' ? 'B' : 'A')));
    const bad = cli(vault, ['backup', 'verify', '--full', out, '--recovery-key-file', wrongKey]);
    expect(bad.status).toBe(6);
    expect(bad.stdout).toMatch(/the recovery key does not open the backed-up vault/);

    const denied = join(root, 'restored-wrong-key');
    const d = cli(denied, ['restore', out, '--recovery-key-file', wrongKey, '--new-password-file', np]);
    expect(d.status).not.toBe(0);
    expect(d.stderr).toMatch(/recovery key/);
    expect(existsSync(denied)).toBe(false);

    const dest = join(root, 'restored-by-recovery-key');
    const r = cli(dest, ['restore', out, '--recovery-key-file', rk, '--new-password-file', np]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Opened with the recovery key/);
    expect(cli(dest, ['unlock-check'], env()).status).not.toBe(0);
    expect(cli(dest, ['unlock-check'], { CUSTODY_PASSWORD: 'a new password after restore' }).status).toBe(0);
    const log = JSON.parse(cli(dest, ['--json', 'audit', 'list', '--limit', '1000'], { CUSTODY_PASSWORD: 'a new password after restore' }).stdout || '[]') as { event: string }[];
    expect(log.map((e) => e.event)).toEqual(expect.arrayContaining(['vault.restored', 'vault.recovered']));
  });

  for (const point of ['backup:snapshot', 'backup:writing', 'backup:before-rename'] as const) {
    test(`kill -9 during a backup (${point}): no file under the backup's name, the vault is fine, a leftover is refused`, async () => {
      const dir = join(root, `killed-${point.replace(':', '-')}`);
      rmSync(dir, { recursive: true, force: true });
      const out = join(root, `${point.replace(':', '-')}.backup`);
      const r = spawnSync(process.execPath, [CLI, '--vault', vault, 'backup', '--out', out], { env: { ...process.env, ...env({ CUSTODY_FAULT: point }) }, encoding: 'utf8' });
      expect(r.signal).toBe('SIGKILL');
      expect(existsSync(out)).toBe(false);
      await vaultIsFine(vault);
      // A half-written file is left only under its .partial- name, and never verifies.
      const left = readdirSync(root).filter((f) => f.startsWith(`${point.replace(':', '-')}.backup.partial-`));
      expect(left.length).toBe(point === 'backup:snapshot' ? 0 : 1);
      if (point === 'backup:writing') {
        const v = cli(vault, ['backup', 'verify', join(root, left[0]!)], env());
        expect(v.status).toBe(6);
        expect(v.stdout).toMatch(/truncated/);
      }
      // The staging folder of the snapshot is the only other leftover (hidden, never a backup).
      expect(readdirSync(root).filter((f) => f.startsWith(`.${point.replace(':', '-')}.backup.stage-`)).length).toBeLessThanOrEqual(1);
    });
  }

  for (const point of ['restore:extracted', 'restore:logged', 'restore:before-rename'] as const) {
    test(`kill -9 during a restore (${point}): nothing at the new folder, the source and backup untouched, a second restore works`, async () => {
      const out = join(root, `for-${point.replace(':', '-')}.backup`);
      expect(cli(vault, ['backup', '--out', out], env()).status).toBe(0);
      const dest = join(root, `restore-${point.replace(':', '-')}`);
      const r = spawnSync(process.execPath, [CLI, '--vault', dest, 'restore', out], { env: { ...process.env, ...env({ CUSTODY_FAULT: point }) }, encoding: 'utf8' });
      expect(r.signal).toBe('SIGKILL');
      expect(existsSync(join(dest, 'vault.json'))).toBe(false);
      await vaultIsFine(vault);
      expect(cli(vault, ['backup', 'verify', out], env()).status).toBe(0);
      expect(cli(dest, ['restore', out], env()).status).toBe(0);
      await vaultIsFine(dest);
    });
  }
});
