// Revoking a device rotates the vault key, on real PostgreSQL with three devices A, B and C:
// A revokes C; the new vault key reaches B only (an age file to B's device key, signed by A);
// B follows at its next sync and reads what A writes afterwards; C, with every server row its
// database role can read and the old vault key, opens neither the new epoch root nor any new
// record, and is told and locks. Forged envelopes (made by the server, signed by the revoked
// device, or sent by it through the server) are refused and change nothing.
import { afterEach, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Custody } from '../custody.ts';
import { keyFingerprint } from '../crypto/keys.ts';
import { signEd25519 } from '../crypto/ed25519.ts';
import { ageDecrypt, ageEncrypt } from '../sharing/ageStream.ts';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, snapshot, syncAll } from '../sync/testing/devices.ts';
import { SyncServer } from '../sync/client/server.ts';
import { PASSWORD } from '../testing/tempVault.ts';
import { openRoot } from './rootWrap.ts';
import { revokeDevice } from './deviceRevocation.ts';
import { deviceIdentitySecrets } from './deviceIdentity.ts';
import { envelopeStatement, sendRotatedKey } from './vaultKeyEnvelopes.ts';
import { rotateVaultKey } from './vaultKeyRotation.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { FOLLOW_META } from './vaultKeyFollow.ts';
import { listKeys } from './registry.ts';
import { uuidv7 } from '../util/ids.ts';

const DAY = 86_400_000;
const fp = (c: Custody) => keyFingerprint(c.vault.keys().vaultKey);
const meta = (c: Custody, key: string) => c.vault.db.sql.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key);

describePg('revoking a device rotates the vault key', (pg) => {
  afterEach(closeDevices);

  test('A revokes C: B follows the new vault key and reads A’s new records; C can open neither the new root nor any new record, and locks; forged envelopes are refused', async () => {
    const server = pg();
    const { url } = await server.analyst();
    const a = await firstDevice(url, 'A');
    // Yesterday's record: the revocation's new epoch root can then serve today.
    await a.custody.createRecord({ kind: 'note', title: 'before', body: 'known to all', capturedAt: new Date(Date.now() - DAY).toISOString() });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    const c = await joinDevice(url, 'C');
    await syncAll([a, b, c]);
    const [aId, bId, cId] = [a, b, c].map((d) => d.custody.vault.meta.deviceId) as [string, string, string];
    const vaultId = a.custody.vault.vaultId;
    // Every device published its own encryption key, signed by its device key.
    const published = await server.admin.query('SELECT device_id FROM custody.device_recipient WHERE vault_id = $1 ORDER BY device_id', [vaultId]);
    expect(published.rows.map((r) => r.device_id)).toEqual([aId, bId, cId].sort());

    // What the lost device C holds: the old vault key, its keys and its database role.
    const oldFp = fp(c.custody);
    const oldVk = Buffer.from(c.custody.vault.keys().vaultKey);
    const cIdentities = await deviceIdentitySecrets(c.custody.vault);
    const cSeed = Buffer.from(c.custody.vault.keys().signingSeed);

    const r = await revokeDevice(a.custody, cId, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } });
    expect(r).toMatchObject({ sentTo: [bId], leftOut: [], fromDay: new Date().toISOString().slice(0, 10) });
    const newFp = fp(a.custody);
    expect(newFp).not.toBe(oldFp);
    const after = await a.custody.createRecord({ kind: 'note', title: 'after the revocation', body: 'not for C' });
    await a.engine.syncNow();

    // The revoked device cannot send a vault key through the server itself (server trigger).
    const evilVk = randomBytes(32);
    const forgedFor = async (from: string, signWith: Buffer | null) => {
      const payload = { statement: 'custody/vault-key/v1', vaultId, keyId: uuidv7(), device: bId, from, previous: oldFp, fingerprint: keyFingerprint(evilVk), vaultKey: evilVk.toString('base64'), recovery: 'AAAA' };
      const bRecipient = (await server.admin.query('SELECT recipient FROM custody.device_recipient WHERE device_id = $1', [bId])).rows[0].recipient as string;
      const pkg = new Uint8Array(await ageEncrypt([bRecipient], Buffer.from(JSON.stringify(payload))));
      const fields = { vaultId, keyId: payload.keyId, deviceId: bId, fromDevice: from, previous: oldFp, fingerprint: payload.fingerprint, package: pkg };
      return { ...fields, signature: signWith ? signEd25519(signWith, envelopeStatement(fields)) : randomBytes(64) };
    };
    const insert = (e: Awaited<ReturnType<typeof forgedFor>>, db: { query: (q: string, v: unknown[]) => Promise<unknown> }, owner: string | null) =>
      db.query(
        `INSERT INTO custody.vault_key_envelope (vault_id, key_id, device_id, from_device, previous, fingerprint, package, signature, created_at${owner ? ', owner' : ''}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '2000-01-01'${owner ? ', $9' : ''})`,
        [e.vaultId, e.keyId, e.deviceId, e.fromDevice, e.previous, e.fingerprint, Buffer.from(e.package), Buffer.from(e.signature), ...(owner ? [owner] : [])],
      );
    const cServer = await SyncServer.connect(url);
    try {
            const bySelf = await forgedFor(cId, cSeed);
      await expect(cServer.run('forge', (db) => insert(bySelf, db, null) as never)).rejects.toThrow(/revoked/);
    } finally {
      await cServer.close();
    }
    // A hostile server (triggers off) slips in, dated before A's: one signed by the revoked C, one "from A" it signed itself.
    const owner = (await server.admin.query('SELECT owner FROM custody.vault WHERE id = $1', [vaultId])).rows[0].owner as string;
    const admin = server.admin as unknown as { query: (q: string, v?: unknown[]) => Promise<unknown> };
    await admin.query('SET session_replication_role = replica');
    try {
      await insert(await forgedFor(cId, cSeed), admin, owner);
      await insert(await forgedFor(aId, null), admin, owner);
    } finally {
      await admin.query('SET session_replication_role = DEFAULT');
    }

    // B follows A's rotation only, and reads A's new record.
    const synced = await b.engine.syncNow();
    expect(fp(b.custody)).toBe(newFp);
    expect(synced.problems.filter((p) => p.kind === 'vault-key-envelope').map((p) => p.message.replace(/^.* was refused: /, '')).sort()).toEqual(['its signature does not verify', 'its signer was revoked']);
    expect((await b.custody.auditQuery({ event: 'sync.server_misbehaved' })).filter((e) => e.entry?.details?.kind === 'vault-key-envelope')).toHaveLength(2);
    expect((await snapshot(b)).find((x) => x.id === after.id)).toMatchObject({ title: 'after the revocation', body: 'not for C' });
    expect((await listKeys(b.custody.vault)).filter((k) => k.kind === 'vault_key').map((k) => [k.id === r.vaultKey, k.status])).toEqual([
      [false, 'retired'],
      [true, 'active'],
    ]);
    // A second sync does not log the refused envelopes again.
    await b.engine.syncNow();
    expect((await b.custody.auditQuery({ event: 'sync.server_misbehaved' })).filter((e) => e.entry?.details?.kind === 'vault-key-envelope')).toHaveLength(2);

    // B's vault.json still wraps the old key until B unlocks with its password; then it wraps the new one.
    expect(meta(b.custody, FOLLOW_META)).toBeDefined();
    await b.custody.lock();
    await b.custody.unlock(PASSWORD, { buildIndex: false });
    expect(fp(b.custody)).toBe(newFp);
    expect(meta(b.custody, FOLLOW_META)).toBeUndefined();
    await b.custody.lock();
    // The recovery key (kept by A's rotation) opens B's vault, at the new key.
    await b.custody.recover(a.recoveryKey, 'a new password for B');
    expect(fp(b.custody)).toBe(newFp);

    // C, with every server row its role can read: no envelope for it, B's does not open with its keys,
    // the new epoch root does not open with the old vault key, and A's new record does not decrypt.
    const rows = await SyncServer.connect(url).then(async (s) => {
      try {
        return await s.query('read', (p) => Promise.all([p.serverVaultKeyEnvelope.findMany({ where: { vaultId } }), p.serverVaultKey.findMany({ where: { vaultId, id: r.epochRoot } }), p.serverRecord.findUnique({ where: { vaultId_id: { vaultId, id: after.id } } })]));
      } finally {
        await s.close();
      }
    });
    const [envelopes, [root], record] = rows;
    expect(envelopes.filter((e) => e.deviceId === cId)).toEqual([]);
    for (const e of envelopes.filter((x) => x.fromDevice === aId)) await expect(ageDecrypt(e.package, cIdentities)).rejects.toThrow();
    expect(() => openRoot(oldVk, vaultId, root!, root!.wrapped)).toThrow();
    expect(() => c.custody.records.decrypt({ ...record!, wrappedDek: record!.wrappedDek!, summary: record!.summary!, content: record!.content! } as never)).toThrow();
    // And at its next contact C is told, and locks.
    await expect(c.engine.syncNow()).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringMatching(/was revoked/) });
    expect(c.custody.vault.unlocked).toBe(false);

    // A's and B's later work keeps flowing both ways under the new key.
    const fromB = await b.custody.createRecord({ kind: 'note', title: 'from B after', body: 'b' });
    await syncAll([a, b]);
    expect((await snapshot(a)).find((x) => x.id === fromB.id)).toMatchObject({ title: 'from B after' });
  });

  test('keys rotate vault-key on a synced vault: the other devices follow; one that published no encryption key is told to join again, and joining with the password gives the new key', async () => {
    const server = pg();
    const { url } = await server.analyst();
    const a = await firstDevice(url, 'A');
    await a.custody.createRecord({ kind: 'note', title: 'before the rotation', body: 'x' });
    const b = await joinDevice(url, 'B');
    const d = await joinDevice(url, 'D');
    await syncAll([a, b, d]);
    // D stands for a device of an older version: its encryption key is not on the server.
    await server.admin.query(`SET session_replication_role = replica; DELETE FROM custody.device_recipient WHERE device_id = '${d.custody.vault.meta.deviceId}'; SET session_replication_role = DEFAULT`);
    const r = await rotateVaultKey(a.custody.vault, { password: PASSWORD, recovery: 'new' });
    const sent = await sendRotatedKey(a.custody);
    expect(sent).toMatchObject({ keyId: r.keyId, sentTo: [b.custody.vault.meta.deviceId], leftOut: [d.custody.vault.meta.deviceId] });
    // Sent once: the next sync has nothing left to send.
    expect(await sendRotatedKey(a.custody)).toBeNull();
    await b.engine.syncNow();
    expect(fp(b.custody)).toBe(r.fingerprint);
    await expect(d.engine.syncNow()).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringMatching(/no copy was sent to this device/) });
    // Epoch roots made after the rotation are wrapped by the new key, and reach B.
    const root = await rotateEpochRoot(a.custody.vault, { fromDay: '2999-01-01' });
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect(b.custody.vault.keys().epochRootId('2999-01-02')).toBe(root.keyId);
    // A second rotation reaches B through its device key, re-wrapped by B's first follow.
    const r2 = await rotateVaultKey(a.custody.vault, { password: PASSWORD, recovery: { recoveryKey: r.recoveryKey! } });
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect(fp(b.custody)).toBe(r2.fingerprint);
    // Joining again with the password: the header of the rotation, every older root through the replaced key.
    const again = await joinDevice(url, 'D2');
    expect(fp(again.custody)).toBe(r2.fingerprint);
    expect((await snapshot(again)).map((x) => x.title)).toContain('before the rotation');
    expect(again.custody.vault.keys().epochRootId('2999-01-02')).toBe(root.keyId);
    // The new recovery key opens the joined vault.
    await again.custody.lock();
    await again.custody.recover(r.recoveryKey!, 'another password for D2');
    expect(fp(again.custody)).toBe(r2.fingerprint);
  });

  test('two devices rotate the vault key before syncing: both end on the later key, and records flow both ways', async () => {
    const server = pg();
    const { url } = await server.analyst();
    const a = await firstDevice(url, 'A');
    const b = await joinDevice(url, 'B');
    await syncAll([a, b]);
    const ra = await rotateVaultKey(a.custody.vault, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } });
    const rb = await rotateVaultKey(b.custody.vault, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } });
    await a.custody.createRecord({ kind: 'note', title: 'A after its rotation', body: 'a' });
    await b.custody.createRecord({ kind: 'note', title: 'B after its rotation', body: 'b' });
    await syncAll([a, b]);
    const later = rb.keyId > ra.keyId ? rb : ra;
    expect([fp(a.custody), fp(b.custody)]).toEqual([later.fingerprint, later.fingerprint]);
    const root = await rotateEpochRoot(b.custody.vault, { fromDay: '2999-01-01' });
    await syncAll([b, a]);
    expect(a.custody.vault.keys().epochRootId('2999-01-02')).toBe(root.keyId);
    expect((await snapshot(a)).map((x) => x.title).sort()).toEqual(['A after its rotation', 'B after its rotation']);
    expect((await snapshot(b)).map((x) => x.title).sort()).toEqual(['A after its rotation', 'B after its rotation']);
  });
});
