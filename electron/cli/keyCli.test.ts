// `custody keys` lists the registry (human and --json); `custody keys rotate` refuses an unknown target and changes nothing.
import { afterAll, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../core/custody.ts';
import { KDF_FLOOR } from '../core/crypto/kdf.ts';
import { tempDir } from '../core/testing/tempVault.ts';
import { cli } from './testing.ts';

const root = tempDir('custody-keys-cli-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const password = 'keys cli password';

test('custody keys [--json] lists every key with status, dates, fingerprint and usage; rotate epoch-root shows up in it', async () => {
  const vault = join(root, 'v');
  await Custody.create(vault, { password, kdf: KDF_FLOOR });
  const env = { CUSTODY_PASSWORD: password };
  const before = cli(vault, ['--json', 'keys'], env);
  expect(before.status).toBe(0);
  const keys = JSON.parse(before.stdout) as { kind: string; status: string; fingerprint: string; usageCount: number; createdAt: string }[];
  expect(keys.map((k) => [k.kind, k.status])).toEqual([
    ['vault_key', 'active'],
    ['epoch_root', 'active'],
    ['device_signing', 'active'],
  ]);
  expect(keys.every((k) => /^[0-9a-f]{32}$/.test(k.fingerprint))).toBe(true);
  expect(keys[2]!.usageCount).toBeGreaterThan(0);
  const human = cli(vault, ['keys'], env);
  expect(human.stdout).toMatch(/^ID\s+KIND\s+ALGORITHM\s+STATUS\s+CREATED\s+ROTATED\s+EXPIRES\s+FINGERPRINT\s+USES/);
  expect(cli(vault, ['keys', 'rotate', 'epoch-root', '--from', '2031-01-01'], env).status).toBe(0);
  const after = JSON.parse(cli(vault, ['--json', 'keys'], env).stdout) as { kind: string; status: string; serves?: string }[];
  expect(after.filter((k) => k.kind === 'epoch_root').map((k) => [k.status, k.serves])).toEqual([
    ['retired', 'all days'],
    ['active', '2031-01-01..'],
  ]);
  const bad = cli(vault, ['keys', 'rotate', 'everything'], env);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/cannot rotate "everything"/);
  expect(JSON.parse(cli(vault, ['--json', 'keys'], env).stdout)).toHaveLength(after.length);
});
