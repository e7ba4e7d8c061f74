// Vault key rotation: everything the old key wrapped opens under the new one, both the
// password and the recovery key keep working, and a kill -9 at every step of the rotation
// leaves a vault that opens with either secret, verifies and has lost nothing.
import { afterEach, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Custody } from '../custody.ts';
import { reconcileSettings, saveSettings, settingsFileFor } from '../api/settings.ts';
import { SyncState, SYNC_URL_KEY } from '../sync/client/state.ts';
import { pdfSigningIdentity } from '../reports/signingIdentity.ts';
import { readHeader, PENDING_HEADER_FILE } from '../vault/header.ts';
import { unwrapVaultKey } from '../vault/vault.ts';
import { deriveKey, keyFingerprint } from '../crypto/keys.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { grantsKey, grantRowAd } from '../sharing/disclose.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { rotateVaultKey, VAULT_KEY_STEPS } from './vaultKeyRotation.ts';
import { listKeys } from './registry.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

const CLI = resolve('out/cli/custody.mjs');

/** A vault with something of every kind the vault key protects. */
async function populated(): Promise<{ tv: TempVault; recordId: string; vkFingerprint: string }> {
  const t = await tempVault();
  const c = t.custody;
  const r = await c.createRecord({ kind: 'note', title: 'kept across rotation', body: 'the body' });
  await pdfSigningIdentity(c.vault);
  const file = settingsFileFor(t.dir);
  const before = await reconcileSettings(c.vault, file);
  await saveSettings(c.vault, file, before, { ...before, autoLockMinutes: 7 });
  const sync = new SyncState(c.vault);
  await c.vault.db.writeSync(() => c.vault.db.sql.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(SYNC_URL_KEY, sync.sealUrl('postgresql://example.invalid/custody')));
  // A disclosure issued and one received: their rows are sealed under keys derived from the vault key.
  await c.vault.db.writeSync(() => {
    const sql = c.vault.db.sql;
    sql.prepare("INSERT INTO grant_issued (id, created_at, from_day, until_day, scope, records, recipients, package_sha256, grant_sha256, sealed) VALUES ('g1', 0, '2026-01-01', '2026-01-02', 'days', 1, '[]', 'p', 'g', ?)").run(seal(grantsKey(c.vault), Buffer.from('issued grant'), grantRowAd(c.vault.vaultId, 'g1')));
    sql.prepare("INSERT INTO received_grant (id, issuer_vault_id, issuer_key, received_at, from_day, until_day, records, grant_sha256, sealed) VALUES ('r1', 'v', 'k', 0, '2026-01-01', '2026-01-02', 1, 'g', ?)").run(seal(receivedKey(c.vault.keys().vaultKey), Buffer.from('received grant'), ad('received-grant', c.vault.vaultId, 'r1')));
  });
  return { tv: t, recordId: r.id, vkFingerprint: keyFingerprint(c.vault.keys().vaultKey) };
}

const receivedKey = (vk: Buffer) => deriveKey(vk, 'custody/received/v1');

function sharingRowsOpen(c: Custody): void {
  const sql = c.vault.db.sql;
  const issued = sql.prepare("SELECT sealed FROM grant_issued WHERE id = 'g1'").pluck().get() as Buffer;
  expect(open(grantsKey(c.vault), issued, grantRowAd(c.vault.vaultId, 'g1')).toString()).toBe('issued grant');
  const received = sql.prepare("SELECT sealed FROM received_grant WHERE id = 'r1'").pluck().get() as Buffer;
  expect(open(receivedKey(c.vault.keys().vaultKey), received, ad('received-grant', c.vault.vaultId, 'r1')).toString()).toBe('received grant');
}

/** Everything readable, the log verifies; returns the fingerprint of the vault key in use. */
async function checkWhole(dir: string, recordId: string, unlock: (c: Custody) => Promise<void>): Promise<string> {
  const c = await Custody.open(dir);
  try {
    await unlock(c);
    expect((await c.getRecord(recordId)).body).toBe('the body');
    expect((await pdfSigningIdentity(c.vault)).certificate).toBeTruthy();
    expect(new SyncState(c.vault).url()).toBe('postgresql://example.invalid/custody');
    expect((await reconcileSettings(c.vault, settingsFileFor(dir))).autoLockMinutes).toBe(7);
    const v = await c.verifyAudit();
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(c.vault.db.sql.prepare("SELECT count(*) AS n FROM audit_entry WHERE event = 'settings.tamper_detected'").get()).toEqual({ n: 0 });
    sharingRowsOpen(c);
    return keyFingerprint(c.vault.keys().vaultKey);
  } finally {
    await c.close();
  }
}

describe('custody keys rotate vault-key', () => {
  test('re-wraps every secret under a new vault key in one go; password and recovery key both open it; nothing bulk re-encrypted', async () => {
    const p = await populated();
    tv = p.tv;
    const c = tv.custody;
    const recordBefore = c.vault.db.sql.prepare('SELECT wrapped_dek, summary, content FROM record').get();
    const headerBefore = readHeader(tv.dir);
    const r = await rotateVaultKey(c.vault, { password: PASSWORD, recovery: { recoveryKey: tv.recoveryKey } });
    expect(r.rewrapped['the key registry']).toBeGreaterThanOrEqual(3);
    expect(r.rewrapped['the sealed settings']).toBe(1);
    expect(r.rewrapped['the sync server address']).toBe(1);
    expect(r.rewrapped['the grants issued']).toBe(1);
    expect(r.rewrapped['the grants received']).toBe(1);
    // The record rows are byte for byte as they were: only wrappings changed.
    expect(c.vault.db.sql.prepare('SELECT wrapped_dek, summary, content FROM record').get()).toEqual(recordBefore);
    expect(readHeader(tv.dir).wrappedVaultKey.password).not.toBe(headerBefore.wrappedVaultKey.password);
    expect(existsSync(join(tv.dir, PENDING_HEADER_FILE))).toBe(false);
    // The old wrapping opened the old key; the new header's opens the new one.
    expect(keyFingerprint(await unwrapVaultKey(headerBefore, { password: PASSWORD }))).toBe(p.vkFingerprint);
    expect(keyFingerprint(await unwrapVaultKey(readHeader(tv.dir), { password: PASSWORD }))).toBe(r.fingerprint);
    expect(keyFingerprint(await unwrapVaultKey(readHeader(tv.dir), { recoveryKey: tv.recoveryKey }))).toBe(r.fingerprint);
    // Still usable in this session, then after reopening with either secret.
    expect((await c.getRecord(p.recordId)).title).toBe('kept across rotation');
    const listed = await listKeys(c.vault);
    expect(listed.filter((k) => k.kind === 'vault_key').map((k) => [k.status, k.fingerprint])).toEqual([
      ['retired', p.vkFingerprint],
      ['active', r.fingerprint],
    ]);
    await c.close();
    expect(await checkWhole(tv.dir, p.recordId, (x) => x.unlock(PASSWORD, { buildIndex: false }))).toBe(r.fingerprint);
    expect(await checkWhole(tv.dir, p.recordId, (x) => x.recover(tv!.recoveryKey, 'a new password after rotation'))).toBe(r.fingerprint);
    const again = await Custody.open(tv.dir);
    await again.unlock('a new password after rotation', { buildIndex: false });
    const rotated = (await again.auditQuery({ event: 'key.rotated' })).map((e) => e.entry?.details);
    expect(rotated).toEqual([expect.objectContaining({ kind: 'vault_key', fingerprint: r.fingerprint, previous: p.vkFingerprint, recoveryKey: 'kept' })]);
    await again.close();
  });

  test('a wrong password or recovery key changes nothing', async () => {
    const p = await populated();
    tv = p.tv;
    const header = readFileSync(join(tv.dir, 'vault.json'), 'utf8');
    await expect(rotateVaultKey(tv.custody.vault, { password: 'not the password', recovery: { recoveryKey: tv.recoveryKey } })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    const other = await tempVault({ unlock: false });
    await expect(rotateVaultKey(tv.custody.vault, { password: PASSWORD, recovery: { recoveryKey: other.recoveryKey } })).rejects.toMatchObject({ code: 'WRONG_RECOVERY_KEY' });
    await other.cleanup();
    expect(readFileSync(join(tv.dir, 'vault.json'), 'utf8')).toBe(header);
    expect((await listKeys(tv.custody.vault)).filter((k) => k.kind === 'vault_key')).toHaveLength(1);
  });

  test('a new recovery key replaces the old one, which then opens nothing', async () => {
    const p = await populated();
    tv = p.tv;
    const r = await rotateVaultKey(tv.custody.vault, { password: PASSWORD, recovery: 'new' });
    expect(r.recoveryKey).toBeTruthy();
    await expect(unwrapVaultKey(readHeader(tv.dir), { recoveryKey: tv.recoveryKey })).rejects.toMatchObject({ code: 'WRONG_RECOVERY_KEY' });
    await tv.custody.close();
    expect(await checkWhole(tv.dir, p.recordId, (x) => x.recover(r.recoveryKey!, 'another new password'))).toBe(r.fingerprint);
  });

  test.each(VAULT_KEY_STEPS)('kill -9 at %s: the vault opens with the password and with the recovery key, verifies, nothing lost', async (step) => {
    const p = await populated();
    tv = p.tv;
    await tv.custody.close();
    const child = spawn(process.execPath, [CLI, '--vault', tv.dir, 'keys', 'rotate', 'vault-key'], {
      env: { ...process.env, CUSTODY_PASSWORD: PASSWORD, CUSTODY_RECOVERY_KEY: tv.recoveryKey, CUSTODY_FAULT: step },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.on('exit', (c, s) => res([c, s])));
    expect({ code, signal, stderr }).toMatchObject({ code: null, signal: 'SIGKILL' });
    const committed = ['vault-key:committed', 'vault-key:renamed'].includes(step);
    const byPassword = await checkWhole(tv.dir, p.recordId, (x) => x.unlock(PASSWORD, { buildIndex: false }));
    // Before the commit the old key is in force; from the commit on, the new one.
    expect(byPassword === p.vkFingerprint).toBe(!committed);
    expect(existsSync(join(tv.dir, PENDING_HEADER_FILE))).toBe(false);
    expect(await checkWhole(tv.dir, p.recordId, (x) => x.recover(tv!.recoveryKey, 'password after the crash'))).toBe(byPassword);
    // And a rotation run to the end afterwards works.
    const c = await Custody.open(tv.dir);
    await c.unlock('password after the crash', { buildIndex: false });
    const r = await rotateVaultKey(c.vault, { password: 'password after the crash', recovery: { recoveryKey: tv.recoveryKey } });
    await c.close();
    expect(await checkWhole(tv.dir, p.recordId, (x) => x.unlock('password after the crash', { buildIndex: false }))).toBe(r.fingerprint);
  });
});
