// Revoking a lost device (real PostgreSQL): the server refuses its pushes from then on (server
// migration 0004), the revoking device rotates its epoch root, the revoked device learns it
// was revoked, and a revocation the server made up is told apart (its proof does not open).
import { afterEach, expect, test } from 'vitest';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice } from '../sync/testing/devices.ts';
import { listKeys } from './registry.ts';
import { PASSWORD } from '../testing/tempVault.ts';
import { listDevices, revokeDevice, thisDeviceRevoked } from './deviceRevocation.ts';

describePg('custody sync revoke-device', (pg) => {
  afterEach(closeDevices);

  test('a revoked device is refused by the server, told so, and the epoch root rotates; a forged revocation is not genuine', async () => {
    const server = pg();
    const { url } = await server.analyst();
    const a = await firstDevice(url, 'A');
    const rotation = { password: PASSWORD, recovery: { recoveryKey: a.recoveryKey } };
    await a.custody.createRecord({ kind: 'note', title: 'from A', body: 'a' });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    await b.engine.syncNow();
    const bId = b.custody.vault.meta.deviceId;
    expect((await listDevices(a.custody)).map((d) => [d.thisDevice, d.revokedAt])).toEqual([
      [true, null],
      [false, null],
    ]);

    // B's entries A already took; then B writes and pushes more, which A has not pulled when it revokes B.
    const fromB = () => (a.custody.vault.db.sql.prepare('SELECT count(*) AS n FROM remote_audit_entry WHERE device_id = ?').get(bId) as { n: number }).n;
    await a.engine.syncNow();
    const takenBefore = fromB();
    await b.custody.createRecord({ kind: 'note', title: 'B before revocation', body: 'b0' });
    await b.engine.syncNow();
    await expect(revokeDevice(a.custody, a.custody.vault.meta.deviceId, rotation)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const r = await revokeDevice(a.custody, bId, rotation);
    await expect(revokeDevice(a.custody, bId, rotation)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await listKeys(a.custody.vault)).filter((k) => k.kind === 'epoch_root').map((k) => [k.id === r.epochRoot, k.status])).toEqual([
      [false, 'retired'],
      [true, 'active'],
    ]);
    expect((await a.custody.auditQuery({ event: 'key.revoked' }))[0]!.entry!.details).toMatchObject({ kind: 'device', device: bId });

    // Other devices accept nothing more from B's log once it is revoked.
    await a.engine.syncNow();
    expect(fromB()).toBe(takenBefore);

    // The lost device keeps writing: at its next contact it is told, and locks; the server takes none of it.
    const late = await b.custody.createRecord({ kind: 'note', title: 'after revocation', body: 'b' });
    await expect(b.engine.syncNow()).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringMatching(/was revoked/) });
    expect(b.custody.vault.unlocked).toBe(false);
    const onServer = await server.admin.query('SELECT count(*)::int AS n FROM custody.record WHERE id = $1', [late.id]);
    expect(onServer.rows[0].n).toBe(0);
    await b.custody.unlock(PASSWORD, { buildIndex: false });
    expect((await b.custody.auditQuery({ event: 'key.revoked' }))[0]!.entry!.details).toMatchObject({ device: bId, thisDevice: true });
    // Whatever client writes it: a checkpoint of the revoked device is refused by the server itself.
    await expect(server.admin.query("INSERT INTO custody.audit_checkpoint (vault_id, device_id, size, note, owner) SELECT vault_id, id, 999999, 'forged', owner FROM custody.device WHERE id = $1", [bId])).rejects.toThrow(/was revoked/);
    expect(await thisDeviceRevoked(b.custody)).toBe(true);
    const seenByB = (await listDevices(b.custody)).find((d) => d.thisDevice)!;
    expect(seenByB).toMatchObject({ revocationGenuine: true });
    expect(seenByB.revokedAt).not.toBeNull();

    // A revocation the server (or anyone without the vault key) inserts is not genuine.
    await server.admin.query("INSERT INTO custody.device_revocation (vault_id, device_id, revoked_by, proof, owner) SELECT vault_id, id, id, '\\x00'::bytea, owner FROM custody.device WHERE id = $1", [a.custody.vault.meta.deviceId]);
    expect((await listDevices(a.custody)).find((d) => d.thisDevice)).toMatchObject({ revocationGenuine: false });
    expect(await thisDeviceRevoked(a.custody)).toBe(false);
    // And the revocation cannot be taken back, not even by the owner role.
    await expect(server.admin.query('DELETE FROM custody.device_revocation WHERE device_id = $1', [bId])).rejects.toThrow(/append-only/);
  });
});
