// Epoch root rotation: days from --from on get keys from a new root, earlier days keep theirs
// (an old grant's day keys still open them, not the later days), and a kill -9 inside the
// rotation's transaction leaves every record readable under the old root.
import { afterEach, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { open } from '../crypto/aead.ts';
import { ad } from '../crypto/aead.ts';
import { Custody } from '../custody.ts';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { rotateEpochRoot } from './epochRootRotation.ts';
import { listKeys } from './registry.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  await tv?.cleanup();
  tv = undefined;
});

const CLI = resolve('out/cli/custody.mjs');
const dekAd = (vaultId: string, recordId: string, day: string) => ad('dek', vaultId, recordId, day);

async function seeded() {
  tv = await tempVault();
  const c = tv.custody;
  const early = await c.createRecord({ kind: 'note', title: 'early', body: 'january', capturedAt: '2026-01-10T12:00:00Z' });
  const late = await c.createRecord({ kind: 'note', title: 'late', body: 'march', capturedAt: '2026-03-05T12:00:00Z' });
  await c.updateRecord(late.id, late.version, { body: 'march, edited' });
  return { c, early, late };
}

const wrappedDek = (c: Custody, id: string) => (c.vault.db.sql.prepare('SELECT wrapped_dek AS w FROM record WHERE id = ?').get(id) as { w: Buffer }).w;

describe('custody keys rotate epoch-root', () => {
  test('records from --from on use the new root; older days keep theirs; an old grant opens only the days before', async () => {
    const { c, early, late } = await seeded();
    const keys = c.vault.keys();
    const oldRoot = keys.epochRootId('2026-01-10');
    // What a grant issued before the rotation holds: the day keys of the old root.
    const grantJan = Buffer.from(keys.epochKey('2026-01-10'));
    const grantMar = Buffer.from(keys.epochKey('2026-03-05'));
    const r = await rotateEpochRoot(c.vault, { fromDay: '2026-03-01' });
    expect(r.rewrapped).toBe(2); // the March record and its earlier version
    expect(keys.epochRootId('2026-01-10')).toBe(oldRoot);
    expect(keys.epochRootId('2026-03-05')).toBe(r.keyId);
    expect(keys.epochRootId('2030-01-01')).toBe(r.keyId);
    expect(keys.epochKey('2026-01-10').equals(grantJan)).toBe(true);
    expect(keys.epochKey('2026-03-05').equals(grantMar)).toBe(false);
    // The old grant still opens January's record key, no longer March's.
    expect(() => open(grantJan, wrappedDek(c, early.id), dekAd(c.vault.vaultId, early.id, '2026-01-10'))).not.toThrow();
    expect(() => open(grantMar, wrappedDek(c, late.id), dekAd(c.vault.vaultId, late.id, '2026-03-05'))).toThrow();
    const april = await c.createRecord({ kind: 'note', title: 'after', body: 'april', capturedAt: '2026-04-01T08:00:00Z' });
    expect(() => open(keys.epochKeyUnder(oldRoot, '2026-04-01'), wrappedDek(c, april.id), dekAd(c.vault.vaultId, april.id, '2026-04-01'))).toThrow();

    const listed = (await listKeys(c.vault)).filter((k) => k.kind === 'epoch_root');
    expect(listed.map((k) => [k.status, k.serves])).toEqual([
      ['retired', 'all days'],
      ['active', '2026-03-01..'],
    ]);
    // After reopening: every record and version readable, the log verifies and names the rotation.
    const again = await tv!.reopen();
    await again.unlock(PASSWORD, { buildIndex: false });
    expect((await again.getRecord(early.id)).body).toBe('january');
    expect((await again.getRecord(late.id)).body).toBe('march, edited');
    expect((await again.history(late.id)).length).toBeGreaterThanOrEqual(1);
    expect((await again.getRecord(april.id)).body).toBe('april');
    expect((await again.verifyAudit()).ok).toBe(true);
    const e = (await again.auditQuery({ event: 'key.rotated' }))[0]!.entry!.details;
    expect(e).toMatchObject({ kind: 'epoch_root', fromDay: '2026-03-01', rewrapped: 2, replaces: [oldRoot] });
  });

  test('a bad --from changes nothing', async () => {
    const { c } = await seeded();
    await expect(rotateEpochRoot(c.vault, { fromDay: '2026-02-30' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await listKeys(c.vault)).filter((k) => k.kind === 'epoch_root')).toHaveLength(1);
  });

  test('kill -9 inside the rotation: nothing half done, every record opens, a rerun completes', async () => {
    const { early, late } = await seeded();
    await tv!.custody.close();
    const child = spawn(process.execPath, [CLI, '--vault', tv!.dir, 'keys', 'rotate', 'epoch-root', '--from', '2026-03-01'], { env: { ...process.env, CUSTODY_PASSWORD: PASSWORD, CUSTODY_FAULT: 'epoch-root:mid-transaction' }, stdio: 'ignore' });
    expect(await new Promise((res) => child.on('exit', (_c, s) => res(s)))).toBe('SIGKILL');
    const c = await Custody.open(tv!.dir);
    await c.unlock(PASSWORD, { buildIndex: false });
    expect((await listKeys(c.vault)).filter((k) => k.kind === 'epoch_root')).toHaveLength(1);
    expect((await c.getRecord(late.id)).body).toBe('march, edited');
    const r = await rotateEpochRoot(c.vault, { fromDay: '2026-03-01' });
    expect(r.rewrapped).toBe(2);
    await c.close();
    const d = await Custody.open(tv!.dir);
    await d.unlock(PASSWORD, { buildIndex: false });
    expect((await d.getRecord(early.id)).body).toBe('january');
    expect((await d.getRecord(late.id)).body).toBe('march, edited');
    expect((await d.verifyAudit()).ok).toBe(true);
    await d.close();
  });
});
