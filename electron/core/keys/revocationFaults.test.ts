// kill -9 during a vault key rotation across devices (real PostgreSQL, the CLI as a child
// process killed at known points, faults.ts): on the rotating device between its local rotation
// and the envelopes reaching the server, on a following device before and after its local
// rotation commits, and in `sync revoke-device` between its steps. Every time, the rotation
// either happened or is retried, and no device is left without a working key.
import { afterEach, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Custody } from '../custody.ts';
import { keyFingerprint } from '../crypto/keys.ts';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, syncAll, type Device } from '../sync/testing/devices.ts';
import { SyncEngine } from '../sync/client/engine.ts';
import { metaValue } from '../vault/meta.ts';
import { PASSWORD } from '../testing/tempVault.ts';
import { revokeDevice } from './deviceRevocation.ts';
import { rotateVaultKey } from './vaultKeyRotation.ts';
import { sendRotatedKey } from './vaultKeyEnvelopes.ts';
import { FOLLOW_META, PUBLISH_META } from './vaultKeyFollow.ts';

const CLI = resolve('out/cli/custody.mjs');
const fp = (c: Custody) => keyFingerprint(c.vault.keys().vaultKey);
const reopened: { custody: Custody; engine: SyncEngine }[] = [];

/** Runs the CLI on a device's folder (its in-process handles closed first) and expects it killed at `fault`. */
async function killedAt(d: Device, args: string[], fault: string, env: Record<string, string> = {}): Promise<void> {
  await d.engine.close();
  await d.custody.close();
  const child = spawn(process.execPath, [CLI, '--vault', d.dir, ...args], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD, CUSTODY_FAULT: fault, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (x) => (stderr += x));
  const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.on('exit', (c, s) => res([c, s])));
  expect({ code, signal, stderr }).toMatchObject({ code: null, signal: 'SIGKILL' });
}

/** The device's folder opened again, unlocked with the password, with a sync engine. */
async function reopen(d: Device): Promise<{ custody: Custody; engine: SyncEngine }> {
  const custody = await Custody.open(d.dir);
  await custody.unlock(PASSWORD, { buildIndex: false });
  const r = { custody, engine: new SyncEngine(custody) };
  reopened.push(r);
  return r;
}

const titles = async (c: Custody) => (await c.list({ limit: 100 })).map((r) => r.title);

describePg('kill -9 during a vault key rotation across devices', (pg) => {
  afterEach(async () => {
    for (const r of reopened.splice(0)) {
      await r.engine.close().catch(() => undefined);
      await r.custody.close().catch(() => undefined);
    }
    await closeDevices();
  });

  test.each(['vault-key:renamed', 'vault-key:published'])('the rotating device killed at %s: its next sync sends the new key, the other device follows', async (fault) => {
    const { url } = await pg().analyst();
    const a = await firstDevice(url, 'A');
    const b = await joinDevice(url, 'B');
    await syncAll([a, b]);
    await killedAt(b, ['keys', 'rotate', 'vault-key'], fault, { CUSTODY_RECOVERY_KEY: a.recoveryKey });
    const b2 = await reopen(b);
    const rotated = fp(b2.custody);
    expect(rotated).not.toBe(fp(a.custody));
    // Not yet known as sent: the next sync (re)sends it.
    expect(metaValue(b2.custody.vault.db.sql, PUBLISH_META)).toBeDefined();
    await b2.engine.syncNow();
    expect(metaValue(b2.custody.vault.db.sql, PUBLISH_META)).toBeUndefined();
    await b2.custody.createRecord({ kind: 'note', title: 'from B after the crash', body: 'b' });
    await b2.engine.syncNow();
    await a.engine.syncNow();
    expect(fp(a.custody)).toBe(rotated);
    expect(await titles(a.custody)).toContain('from B after the crash');
  });

  test.each(['vault-key:follow-opened', 'vault-key:follow-committed'])('a following device killed at %s: it opens with its password, and is on the new key after its next sync', async (fault) => {
    const { url } = await pg().analyst();
    const a = await firstDevice(url, 'A');
    const b = await joinDevice(url, 'B');
    await syncAll([a, b]);
    const old = fp(a.custody);
    const r = await rotateVaultKey(a.custody.vault, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } });
    await sendRotatedKey(a.custody);
    await a.custody.createRecord({ kind: 'note', title: 'from A after the rotation', body: 'a' });
    await a.engine.syncNow();
    await killedAt(b, ['sync'], fault);
    const b2 = await reopen(b);
    // Committed or not, the password opens it: with the new key once the follow committed, else the old one.
    expect(fp(b2.custody)).toBe(fault === 'vault-key:follow-committed' ? r.fingerprint : old);
    await b2.engine.syncNow();
    expect(fp(b2.custody)).toBe(r.fingerprint);
    expect(await titles(b2.custody)).toContain('from A after the rotation');
    // vault.json was settled at that unlock, or is at the next one; the recovery key opens it too.
    await b2.custody.lock();
    await b2.custody.unlock(PASSWORD, { buildIndex: false });
    expect(metaValue(b2.custody.vault.db.sql, FOLLOW_META)).toBeUndefined();
    await b2.custody.lock();
    await b2.custody.recover(a.recoveryKey, 'a new password for B');
    expect(fp(b2.custody)).toBe(r.fingerprint);
  });

  test.each(['revoke:server', 'revoke:rotated'])('sync revoke-device killed at %s: running it again finishes it; the remaining device follows, the revoked one is refused', async (fault) => {
    const { url } = await pg().analyst();
    const a = await firstDevice(url, 'A');
    const b = await joinDevice(url, 'B');
    const c = await joinDevice(url, 'C');
    await syncAll([a, b, c]);
    const cId = c.custody.vault.meta.deviceId;
    await killedAt(b, ['sync', 'revoke-device', cId], fault, { CUSTODY_RECOVERY_KEY: a.recoveryKey });
    const b2 = await reopen(b);
    const r = await revokeDevice(b2.custody, cId, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } });
    expect(r.sentTo).toEqual([a.custody.vault.meta.deviceId]);
    await b2.custody.createRecord({ kind: 'note', title: 'from B after the revocation', body: 'b' });
    await b2.engine.syncNow();
    await a.engine.syncNow();
    expect(fp(a.custody)).toBe(fp(b2.custody));
    expect(await titles(a.custody)).toContain('from B after the revocation');
    await expect(c.engine.syncNow()).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringMatching(/was revoked/) });
    // Finished: a third run is refused as already revoked.
    await expect(revokeDevice(b2.custody, cId, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
