// Security review (issue 12), revocation on real PostgreSQL with three devices A, B and C. A
// revokes the lost device C, which rotates the vault key. C keeps what a lost device keeps: the
// old vault key and its database role (which may insert revocation rows). A revocation counts as
// genuine when its proof (the device id sealed with a vault key) opens with a vault key held here,
// and every device still holds the old key (it replaced it, for the log's sealed openings), so C
// could seal "revocations" of A and B under the old key: they were taken as genuine, and the
// legitimate devices were told they were revoked, locked, and distrusted each other. The test
// performs that attack; C's own revocation must stay genuine on every device.
//
// The fix (deviceRevocation.ts): a proof is signed by the revoking device's key, and judged with
// local evidence only (the rotation this device made or followed and whom it left out, never the
// server's envelope rows): a revocation signed by a device left out, or proved under the key that
// rotation retired for a device it kept, is not genuine. A device that has not followed yet sees
// two devices revoking each other: it reports the conflict, applies neither, and follows A.
import { afterEach, expect, test } from 'vitest';
import canonicalize from 'canonicalize';
import { seal, ad } from '../crypto/aead.ts';
import { signEd25519 } from '../crypto/ed25519.ts';
import { keyFingerprint } from '../crypto/keys.ts';
import type { Custody } from '../custody.ts';
import { registeredSigningSeed, verifiedDevices } from './deviceIdentity.ts';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice, syncAll } from '../sync/testing/devices.ts';
import { SyncServer } from '../sync/client/server.ts';
import { PASSWORD } from '../testing/tempVault.ts';
import { listDevices, revokeDevice, thisDeviceRevoked } from './deviceRevocation.ts';

const DAY = 86_400_000;

/** What the revoked device can make: a "revocation" of `victim`, sealed with the old vault key, signed by its own device key (`by` itself) or naming another revoker unsigned. */
async function forge(server: SyncServer, thief: Custody, oldVk: Buffer, victim: string, by: string): Promise<void> {
  const vault = thief.vault;
  const me = vault.meta.deviceId;
  let body = victim;
  if (by === me) {
    const self = (await verifiedDevices(server, vault)).get(me)!;
    const seed = registeredSigningSeed(vault, self.publicKey)!;
    const signature = signEd25519(seed, Buffer.from(canonicalize({ statement: 'custody/device-revocation/v2', vaultId: vault.vaultId, deviceId: victim, revokedBy: me })!, 'utf8')).toString('base64');
    body = JSON.stringify({ device: victim, by, signature });
  }
  const proof = seal(oldVk, Buffer.from(body, 'utf8'), ad('device-revocation', vault.vaultId, victim));
  await server.run('forge a revocation', (db) => db.query('INSERT INTO custody.device_revocation (vault_id, device_id, revoked_by, proof) VALUES ($1, $2, $3, $4)', [vault.vaultId, victim, by, proof]) as never);
}

describePg('a revoked device against the revocations of the others', (pg) => {
  afterEach(closeDevices);

  test('revocations the revoked device seals with the retired vault key are not genuine; its own revocation stays genuine', async () => {
    const server = pg();
    const { url } = await server.analyst();
    const a = await firstDevice(url, 'A');
    await a.custody.createRecord({ kind: 'note', title: 'before', body: 'known to all', capturedAt: new Date(Date.now() - DAY).toISOString() });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    const c = await joinDevice(url, 'C');
    await syncAll([a, b, c]);
    const [aId, bId, cId] = [a, b, c].map((d) => d.custody.vault.meta.deviceId) as [string, string, string];
    const oldVk = Buffer.from(c.custody.vault.keys().vaultKey);

    await revokeDevice(a.custody, cId, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } });
    await b.engine.syncNow();
    // Not vacuous: C's revocation is genuine for A and for B (B followed the new vault key).
    for (const d of [a, b]) expect((await listDevices(d.custody)).find((x) => x.id === cId)).toMatchObject({ revocationGenuine: true });

    // C, with the old vault key, its device key and its database role, "revokes" A signing as
    // itself, and B naming A as the revoker (unsigned: it cannot sign as A).
    const cServer = await SyncServer.connect(url);
    try {
      await forge(cServer, c.custody, oldVk, aId, cId);
      await forge(cServer, c.custody, oldVk, bId, aId);
    } finally {
      await cServer.close();
    }

    for (const d of [a, b]) {
      const seen = await listDevices(d.custody);
      expect(seen.find((x) => x.id === aId)?.revocationGenuine).toBe(false);
      expect(seen.find((x) => x.id === bId)?.revocationGenuine).toBe(false);
      expect(seen.find((x) => x.id === cId)?.revocationGenuine).toBe(true);
      expect(await thisDeviceRevoked(d.custody)).toBe(false);
    }
  });

  test('a device that has not followed the rotation yet reports the mutual revocation, applies neither, and follows the revoking device', async () => {
    const server = pg();
    const { url } = await server.analyst();
    const a = await firstDevice(url, 'A');
    await a.engine.syncNow();
    const c = await joinDevice(url, 'C');
    const d = await joinDevice(url, 'D');
    await syncAll([a, c, d]);
    const [aId, cId] = [a, c].map((x) => x.custody.vault.meta.deviceId) as [string, string];
    const oldVk = Buffer.from(c.custody.vault.keys().vaultKey);

    await revokeDevice(a.custody, cId, { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } });
    const cServer = await SyncServer.connect(url);
    try {
      await forge(cServer, c.custody, oldVk, aId, cId);
    } finally {
      await cServer.close();
    }

    // D still holds only the old key: both revocations open under it, signed by their revokers.
    expect(keyFingerprint(d.custody.vault.keys().vaultKey)).toBe(keyFingerprint(oldVk));
    const before = await listDevices(d.custody);
    expect(before.find((x) => x.id === aId)).toMatchObject({ revokedAt: expect.any(String), revocationGenuine: false });
    expect(before.find((x) => x.id === cId)).toMatchObject({ revokedAt: expect.any(String), revocationGenuine: false });

    const result = await d.engine.syncNow();
    expect(result.problems).toContainEqual(expect.objectContaining({ kind: 'device-revocation-conflict', message: expect.stringMatching(/revoked each other/) }));
    const conflicts = (await d.custody.auditQuery({ event: 'sync.server_misbehaved' })).filter((e) => e.entry?.details.kind === 'device-revocation-conflict');
    expect(conflicts).toHaveLength(1);
    // D followed A's rotation (not refused as "signed by a revoked device"), and that rotation's evidence settles it.
    expect(keyFingerprint(d.custody.vault.keys().vaultKey)).toBe(keyFingerprint(a.custody.vault.keys().vaultKey));
    const after = await listDevices(d.custody);
    expect(after.find((x) => x.id === aId)?.revocationGenuine).toBe(false);
    expect(after.find((x) => x.id === cId)?.revocationGenuine).toBe(true);
    expect(await thisDeviceRevoked(d.custody)).toBe(false);
    // A later sync reports nothing more.
    expect((await d.engine.syncNow()).problems.filter((p) => p.kind === 'device-revocation-conflict')).toEqual([]);
  });
});
