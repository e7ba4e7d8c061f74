// A rotation policy queues keys older than N days (rotation_queued) and the next unlock rotates
// them (epoch root, device key).
import { afterEach, expect, test, vi } from 'vitest';
import { PASSWORD, tempVault, type TempVault } from '../testing/tempVault.ts';
import { listKeys } from './registry.ts';
import { setRotationPolicy } from './policy.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await tv?.cleanup();
  tv = undefined;
});

test('keys older than the policy show rotation_queued and are rotated at the next unlock', async () => {
  tv = await tempVault();
  const c = tv.custody;
  await expect(setRotationPolicy(c.vault, { epoch_root: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  await setRotationPolicy(c.vault, { epoch_root: 30, device_signing: 30, vault_key: 30 });
  expect((await listKeys(c.vault)).map((k) => k.status)).toEqual(['active', 'active', 'active']);
  // Forty days pass (the clock moves: rewriting created_at would be an edit of the registry,
  // which the log commits and unlock reports, audit/registryState.ts).
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + 40 * 86_400_000);
  expect((await listKeys(c.vault)).filter((k) => k.kind !== 'vault_key').map((k) => [k.kind, k.status])).toEqual([
    ['epoch_root', 'rotation_queued'],
    ['device_signing', 'rotation_queued'],
  ]);
  const again = await tv.reopen();
  await again.unlock(PASSWORD, { buildIndex: false });
  const keys = await listKeys(again.vault);
  expect(keys.filter((k) => k.kind === 'epoch_root').map((k) => k.status)).toEqual(['retired', 'active']);
  expect(keys.filter((k) => k.kind === 'device_signing').map((k) => k.status)).toEqual(['retired', 'active']);
  const rotated = (await again.auditQuery({ event: 'key.rotated', order: 'asc' })).map((e) => e.entry!.details.kind);
  expect(rotated).toEqual(['epoch_root', 'device_signing']);
  expect((await again.auditQuery({ event: 'settings.changed' })).some((e) => (e.entry!.details.changed as string[]).includes('keyRotationPolicy'))).toBe(true);
  expect((await again.verifyAudit()).ok).toBe(true);
});
