// Restore and the full verify with the recovery key alone (the emergency kit, no password):
// the restored vault gets a new master password as `custody recover` sets one, the old
// password no longer opens it, the restore and the recovery are both in its log; a wrong
// recovery key restores nothing and leaves no half-restored folder; an existing vault is
// never overwritten whatever opens the backup.
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Custody } from '../custody.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { createBackup } from './createBackup.ts';
import { verifyBackup } from './verifyBackup.ts';
import { restoreBackup } from './restoreBackup.ts';

let tv: TempVault | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = tempDir('custody-restore-recovery-');
  dirs.push(d);
  return d;
};
const NEW_PASSWORD = 'the password after the restore';

async function backedUp(): Promise<{ out: string; ids: string[] }> {
  tv = await tempVault();
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await tv.custody.createRecord({ kind: 'note', title: `note ${i}`, body: `body ${i}` })).id);
  const out = join(scratch(), 'vault.custody-backup');
  await createBackup(tv.custody.vault, out);
  return { out, ids };
}

describe('restore with the recovery key', () => {
  test('the recovery key alone restores the vault, which then opens with the new password (not the old one) and logs the restore and the recovery', async () => {
    const { out, ids } = await backedUp();
    const dest = join(scratch(), 'restored');
    const res = await restoreBackup(out, dest, { recoveryKey: tv!.recoveryKey, newPassword: NEW_PASSWORD });
    expect(res.dir).toBe(dest);
    const c = await Custody.open(dest);
    try {
      await expect(c.unlock(PASSWORD, { buildIndex: false })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
      await c.unlock(NEW_PASSWORD, { buildIndex: false });
      expect((await c.list()).map((s) => s.id).sort()).toEqual([...ids].sort());
      expect((await c.verifyAudit()).ok).toBe(true);
      const log = await c.vault.audit.query({ order: 'asc', limit: 10_000 });
      const restored = log.find((e) => e.event === 'vault.restored')!;
      expect(restored.seq).toBe(res.manifest.audit.size);
      expect(restored.entry?.details).toMatchObject({ opener: 'recovery_key' });
      // Right after it, the unlock by the recovery key and the new password.
      expect(log.filter((e) => e.seq > restored.seq && e.seq <= restored.seq + 2).map((e) => e.event).sort()).toEqual(['vault.recovered', 'vault.unlocked']);
      // The recovery key keeps working.
      await c.lock();
      await c.recover(tv!.recoveryKey, 'and yet another password');
      expect(c.status().unlocked).toBe(true);
    } finally {
      await c.close();
    }
  }, 300_000);

  test('a wrong recovery key restores nothing (no folder, no leftover stage); an existing vault is refused; a weak new password is refused first', async () => {
    const { out } = await backedUp();
    const dest = join(scratch(), 'x', 'restored');
    const wrong = tv!.recoveryKey.replace(/^(.)/, (c) => (c === 'A' ? 'B' : 'A'));
    await expect(restoreBackup(out, dest, { recoveryKey: wrong, newPassword: NEW_PASSWORD })).rejects.toMatchObject({ code: 'WRONG_RECOVERY_KEY' });
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(dirname(dest))).toEqual([]);
    await expect(restoreBackup(out, tv!.dir, { recoveryKey: tv!.recoveryKey, newPassword: NEW_PASSWORD })).rejects.toMatchObject({ code: 'VAULT_EXISTS' });
    await expect(restoreBackup(out, dest, { recoveryKey: tv!.recoveryKey, newPassword: 'x' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(existsSync(dest)).toBe(false);
  }, 300_000);

  test('backup verify --full with the recovery key: ok with the right one, a clear problem with a wrong one, never both secrets', async () => {
    const { out } = await backedUp();
    expect(await verifyBackup(out, { recoveryKey: tv!.recoveryKey })).toMatchObject({ ok: true, level: 'full', problems: [] });
    const other = await Custody.create(join(scratch(), 'other'), { password: PASSWORD, kdf: KDF_FLOOR });
    const v = await verifyBackup(out, { recoveryKey: other.recoveryKey });
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(['the recovery key does not open the backed-up vault']);
    await expect(verifyBackup(out, { recoveryKey: tv!.recoveryKey, password: PASSWORD })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  }, 300_000);
});
