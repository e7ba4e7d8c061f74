// Settings → Keys over the IPC contract: the registry while unlocked (no key material in the
// answer), LOCKED while locked, and a request carrying anything refused by validation.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Envelope, Method, RequestOf, Responses } from '../../shared/contract.ts';
import { PASSWORD, tempDir } from '../testing/tempVault.ts';
import { createCore, type CoreApi } from './handlers.ts';
import { settingsFileFor } from './settings.ts';

let core: CoreApi | undefined;
let root: string | undefined;
afterEach(async () => {
  await core?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

it('keys.list gives the registry while unlocked, never key material; LOCKED while locked; extra fields refused', async () => {
  root = tempDir();
  const vaultDir = join(root, 'vault');
  core = createCore({ vaultDir, settingsFile: settingsFileFor(vaultDir), emit: () => undefined, nativeDialogs: false, shell: 'web', appVersion: 't' });
  const call = <M extends Method>(m: M, r: RequestOf<M>) => core!.invoke(m, r) as Promise<Envelope<Responses[M]>>;
  await call('vault.create', { password: PASSWORD });
  expect(await call('keys.list', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  await call('vault.unlock', { password: PASSWORD });
  const env = await call('keys.list', {});
  if (!env.ok) throw new Error(env.error.message);
  expect(env.value.keys.map((k) => [k.kind, k.status])).toEqual([
    ['vault_key', 'active'],
    ['epoch_root', 'active'],
    ['device_signing', 'active'],
  ]);
  expect(env.value.warnings).toEqual([]);
  for (const k of env.value.keys) expect(Object.keys(k).sort()).toEqual(expect.arrayContaining(['algorithm', 'createdAt', 'expiresAt', 'fingerprint', 'id', 'kind', 'rotatedAt', 'status', 'usageCount']));
  // Nothing but the listed fields: no wrapped secret, no public key bytes.
  expect(JSON.stringify(env.value)).not.toMatch(/wrapped|publicKey|attestation|\$bytes/);
  expect(await call('keys.list', { all: true } as never)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
});
