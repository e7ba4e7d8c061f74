// Epoch roots reach the other devices (real PostgreSQL): after a rotation on A, a record A
// captures on a later day is readable on B after its next sync, and a device joining later gets
// every root with the days it serves, so old and new records alike open there.
import { afterEach, expect, test } from 'vitest';
import { describePg } from '../sync/testing/describePg.ts';
import { closeDevices, firstDevice, joinDevice } from '../sync/testing/devices.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { listKeys } from './registry.ts';

describePg('epoch roots across devices', (pg) => {
  afterEach(closeDevices);

  test('a root made on A reaches B before the records sealed under it; a later device gets every root with its days', async () => {
    const { url } = await pg().analyst();
    const a = await firstDevice(url, 'A');
    const old = await a.custody.createRecord({ kind: 'note', title: 'old', body: 'before', capturedAt: '2026-05-01T10:00:00Z' });
    await a.engine.syncNow();
    const b = await joinDevice(url, 'B');
    await b.engine.syncNow();
    const rot = await rotateEpochRoot(a.custody.vault, { fromDay: '2031-01-01' });
    const late = await a.custody.createRecord({ kind: 'note', title: 'new', body: 'after', capturedAt: '2031-02-01T10:00:00Z' });
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect(b.engine.status().lastError).toBeNull();
    expect((await b.custody.getRecord(late.id)).body).toBe('after');
    expect((await b.custody.getRecord(old.id)).body).toBe('before');
    expect(b.custody.vault.keys().epochRootId('2031-02-01')).toBe(rot.keyId);
    expect((await listKeys(b.custody.vault)).filter((k) => k.kind === 'epoch_root').map((k) => [k.status, k.serves])).toEqual([
      ['retired', 'all days'],
      ['active', '2031-01-01..'],
    ]);
    const c = await joinDevice(url, 'C');
    await c.engine.syncNow();
    expect((await c.custody.getRecord(old.id)).body).toBe('before');
    expect((await c.custody.getRecord(late.id)).body).toBe('after');
    expect((await c.custody.verifyAudit()).ok).toBe(true);
  });
});
