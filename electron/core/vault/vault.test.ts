import { afterEach, describe, expect, test } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';

let tv: TempVault;
afterEach(async () => tv?.cleanup());

const events = async (c: Custody) => (await c.auditQuery({ order: 'asc', limit: 1000 })).map((r) => `${r.event}${r.success ? '' : ' (failed)'}`);

describe('vault lifecycle', () => {
  test('create writes a header with Argon2id parameters and records its creation', async () => {
    tv = await tempVault();
    const header = JSON.parse(readFileSync(join(tv.dir, 'vault.json'), 'utf8'));
    expect(header.kdf).toMatchObject({ algorithm: 'argon2id', memoryKiB: KDF_FLOOR.memoryKiB, iterations: 2 });
    expect(Buffer.from(header.kdf.salt, 'base64')).toHaveLength(16);
    expect(tv.recoveryKey).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    expect((await events(tv.custody)).slice(0, 4)).toEqual(['vault.created', 'key.created', 'key.created', 'vault.unlocked']);
  });

  test('defaults are Bitwarden-strength: m=64 MiB, t=3, p=4', async () => {
    const dir = join(tempDir(), 'v');
    await Custody.create(dir, { password: PASSWORD });
    const c = await Custody.open(dir);
    expect(c.status().kdf).toEqual({ memoryKiB: 65536, iterations: 3, parallelism: 4 });
    await c.close();
  });

  test('refuses to create a vault in a non-empty directory or over an existing one', async () => {
    tv = await tempVault();
    await expect(Custody.create(tv.dir, { password: PASSWORD, kdf: KDF_FLOOR })).rejects.toMatchObject({ code: 'VAULT_EXISTS' });
  });

  test('a wrong password is refused, changes nothing, and leaves a failed-unlock entry', async () => {
    tv = await tempVault({ unlock: false });
    const before = readFileSync(join(tv.dir, 'vault.json'));
    await expect(tv.custody.unlock('not the password')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    expect(tv.custody.status().unlocked).toBe(false);
    expect(readFileSync(join(tv.dir, 'vault.json'))).toEqual(before);
    expect((await events(tv.custody)).at(-1)).toBe('vault.unlock_failed (failed)');
    await expect(tv.custody.list()).rejects.toMatchObject({ code: 'LOCKED' });
  });

  test('a tampered header does not unlock, and a downgraded KDF is refused before deriving', async () => {
    tv = await tempVault({ unlock: false });
    const file = join(tv.dir, 'vault.json');
    const header = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...header, kdf: { ...header.kdf, iterations: 3 } }));
    let c = await tv.reopen();
    await expect(c.unlock(PASSWORD)).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    writeFileSync(file, JSON.stringify({ ...header, kdf: { ...header.kdf, memoryKiB: 1024 } }));
    await expect(Custody.open(tv.dir)).rejects.toMatchObject({ code: 'KDF_TOO_WEAK' });
    writeFileSync(file, '{"format": "custody-vault"');
    await expect(Custody.open(tv.dir)).rejects.toMatchObject({ code: 'VAULT_CORRUPT' });
    writeFileSync(file, JSON.stringify(header));
    c = await tv.reopen();
    await c.unlock(PASSWORD);
    expect(c.status().unlocked).toBe(true);
  });

  test('change password re-wraps the vault key only: records stay readable', async () => {
    tv = await tempVault();
    const r = await tv.custody.createRecord({ kind: 'note', title: 'kept', body: 'across password changes' });
    const dbBefore = readFileSync(join(tv.dir, 'custody.db')).length;
    await tv.custody.changePassword(PASSWORD, 'a brand new password');
    await expect(tv.custody.changePassword('wrong', 'another one!')).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    const c = await tv.reopen();
    await expect(c.unlock(PASSWORD)).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    await c.unlock('a brand new password');
    expect((await c.getRecord(r.id)).body).toBe('across password changes');
    expect(dbBefore).toBeGreaterThan(0);
    expect(await events(c)).toContain('vault.password_changed');
  });

  test('the recovery key sets a new password; a wrong one is refused and audited', async () => {
    tv = await tempVault();
    const r = await tv.custody.createRecord({ kind: 'note', title: 'recoverable' });
    let c = await tv.reopen();
    await expect(c.recover('AAAA-'.repeat(12) + 'AAAA', 'new password 1')).rejects.toMatchObject({ code: 'WRONG_RECOVERY_KEY' });
    await expect(c.recover('too short', 'new password 1')).rejects.toMatchObject({ code: 'WRONG_RECOVERY_KEY' });
    await c.recover(tv.recoveryKey.toLowerCase(), 'new password 1');
    expect((await c.getRecord(r.id)).title).toBe('recoverable');
    c = await tv.reopen();
    await c.unlock('new password 1');
    // The recovery key keeps working after the password changed.
    c = await tv.reopen();
    await c.recover(tv.recoveryKey, 'new password 2');
    const ev = await events(c);
    expect(ev).toContain('vault.recovery_failed (failed)');
    expect(ev.filter((e) => e === 'vault.recovered')).toHaveLength(2);
  });

  test('lock wipes keys: nothing readable until unlocked again', async () => {
    tv = await tempVault();
    const r = await tv.custody.createRecord({ kind: 'note', title: 'x' });
    await tv.custody.lock();
    await expect(tv.custody.getRecord(r.id)).rejects.toMatchObject({ code: 'LOCKED' });
    await tv.custody.unlock(PASSWORD);
    expect((await tv.custody.getRecord(r.id)).title).toBe('x');
  });

  test('short passwords are refused at creation', async () => {
    await expect(Custody.create(join(tempDir(), 'v'), { password: 'short', kdf: KDF_FLOOR })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
