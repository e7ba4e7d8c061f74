// Threat model (c), a hostile sync server, against epoch roots shared between devices (issue 12):
// device A rotates its epoch root so records of later days get keys a lost device cannot derive.
// The server (superuser, triggers out of the way) changes the days the new root serves before
// device B takes it. B must refuse the root, or still use it for the later days; otherwise B
// keeps writing those days' records under the old root, which the lost device holds.
import { afterEach, expect, test } from 'vitest';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice } from '../sync/testing/devices.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';

describePg('a hostile server against shared epoch roots', (pg) => {
  afterEach(closeDevices);

  // A root's days are bound to its wrap (keys/rootWrap.ts): B's sync refuses the moved root.
  test("the new root's days changed on the server: B refuses it, or later days get their keys from it", { timeout: 240_000 }, async () => {
    const server = pg();
    const { url } = await server.analyst();
    const a = await firstDevice(url, 'A');
    await a.custody.createRecord({ kind: 'note', title: 'old', body: 'before', capturedAt: '2026-05-01T10:00:00Z' });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    await b.engine.syncNow();
    const rot = await rotateEpochRoot(a.custody.vault, { fromDay: '2031-01-01' });
    await a.engine.syncNow();
    await server.admin.query('SET session_replication_role = replica');
    try {
      const r = await server.admin.query("UPDATE custody.vault_key SET from_day = '9999-12-31' WHERE id = $1", [rot.keyId]);
      expect(r.rowCount).toBe(1);
    } finally {
      await server.admin.query('SET session_replication_role = DEFAULT');
    }
    // B refuses the sync (the server misbehaved) and does not take the root with the server's days.
    const refused = await b.engine.syncNow().then(() => null, (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'TAMPERED' });
    expect(b.engine.status().lastError).toMatch(/does not open for the days it claims to serve/);
    expect(b.custody.vault.db.sql.prepare('SELECT count(*) FROM key_registry WHERE id = ?').pluck().get(rot.keyId)).toBe(0);
  });
});
