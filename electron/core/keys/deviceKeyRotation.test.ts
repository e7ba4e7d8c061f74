// Device key rotation: the old key signs a handover naming the new one, recorded in the log;
// checkpoints after it are signed by the new key; verification walks across the change with
// either key pinned, and refuses the new key's checkpoints when the handover does not check
// out. A kill -9 at each step leaves a vault that unlocks and verifies.
import { afterEach, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Custody } from '../custody.ts';
import { generateEd25519 } from '../crypto/ed25519.ts';
import { noteVerifier, openNote } from '../audit/tlog/note.ts';
import { publicKeyOfVkey } from '../audit/checkpoints.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { rotateDeviceKey } from './deviceKeyRotation.ts';
import { listKeys } from './registry.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});
const CLI = resolve('out/cli/custody.mjs');

describe('custody keys rotate device-key', () => {
  test('the old key hands over to the new one; later checkpoints use the new key; verify walks across with either key pinned', async () => {
    tv = await tempVault();
    const c = tv.custody;
    const r1 = await c.createRecord({ kind: 'note', title: 'before', body: 'x' });
    const oldVkey = c.vault.checkpoints.vkey;
    const rot = await rotateDeviceKey(c.vault);
    expect(c.vault.checkpoints.vkey).toBe(rot.vkey);
    await c.getRecord(r1.id);
    await c.createRecord({ kind: 'note', title: 'after', body: 'y' });
    const latest = (await c.vault.checkpointNow('batch')).note;
    // The newest checkpoint opens with the new key and not with the old one.
    const name = c.vault.checkpoints.keyName;
    const pub = publicKeyOfVkey;
    expect(() => openNote(latest, [noteVerifier(name, pub(rot.vkey))])).not.toThrow();
    expect(() => openNote(latest, [noteVerifier(name, pub(oldVkey))])).toThrow();
    // The handover is in the log, signed by the old key.
    const entry = (await c.auditQuery({ event: 'key.rotated' }))[0]!.entry!;
    expect(entry.details).toMatchObject({ kind: 'device_signing', fingerprint: rot.fingerprint, previous: rot.previous });
    expect(() => openNote(String(entry.details.handover), [noteVerifier(name, pub(oldVkey))])).not.toThrow();
    const devices = (await listKeys(c.vault)).filter((k) => k.kind === 'device_signing');
    expect(devices.map((k) => k.status)).toEqual(['retired', 'active']);
    expect((await c.verifyAudit()).ok).toBe(true);

    // Locked, with either key pinned, every checkpoint verifies (old ones by the old key, new by the new).
    const locked = await tv.reopen();
    for (const vkey of [oldVkey, rot.vkey]) {
      const v = await locked.verifyAudit(undefined, { vkey });
      expect(v.problems).toEqual([]);
      expect(v.ok).toBe(true);
    }
    await locked.unlock(PASSWORD, { buildIndex: false });
    expect((await locked.verifyAudit()).ok).toBe(true);
    await locked.close();
  });

  test('a registry edited so the handover names another old key: the old pin no longer accepts the new key checkpoints', async () => {
    tv = await tempVault();
    const c = tv.custody;
    await c.createRecord({ kind: 'note', title: 'before', body: 'x' });
    const oldVkey = c.vault.checkpoints.vkey;
    const rot = await rotateDeviceKey(c.vault);
    await c.createRecord({ kind: 'note', title: 'after', body: 'y' });
    await c.close();
    const d = await Custody.open(tv.dir);
    // The attacker swaps the retired key's public key: the note no longer checks out against it.
    const changed = d.vault.db.sql.prepare("UPDATE key_registry SET public_key = ? WHERE kind = 'device_signing' AND status = 'retired'").run(generateEd25519().publicKey);
    expect(changed.changes).toBe(1);
    expect(rot.previous).not.toBe(rot.fingerprint);
    const v = await d.verifyAudit(undefined, { vkey: oldVkey });
    expect(v.ok).toBe(false);
    // The checkpoints the new key signed are refused: nothing vouches for it.
    expect(v.problems.map((p) => p.kind)).toContain('checkpoint-forged');
    await d.close();
  });

  test.each(['device-key:old-checkpoint', 'device-key:mid-transaction', 'device-key:committed'])('kill -9 at %s: the vault unlocks and verifies', async (step) => {
    tv = await tempVault();
    await tv.custody.createRecord({ kind: 'note', title: 'kept', body: 'x' });
    await tv.custody.close();
    const child = spawn(process.execPath, [CLI, '--vault', tv.dir, 'keys', 'rotate', 'device-key'], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD, CUSTODY_FAULT: step }, stdio: 'ignore' });
    expect(await new Promise((res) => child.on('exit', (_c, s) => res(s)))).toBe('SIGKILL');
    const c = await Custody.open(tv.dir);
    expect(c.vault.integrityProblem).toBeNull();
    await c.unlock(PASSWORD, { buildIndex: false });
    expect((await c.list()).map((r) => r.title)).toEqual(['kept']);
    const v = await c.verifyAudit();
    expect(v.problems).toEqual([]);
    const rotated = (await listKeys(c.vault)).filter((k) => k.kind === 'device_signing').length === 2;
    expect(rotated).toBe(step === 'device-key:committed');
    await rotateDeviceKey(c.vault);
    expect((await c.verifyAudit()).ok).toBe(true);
    await c.close();
  });
});
