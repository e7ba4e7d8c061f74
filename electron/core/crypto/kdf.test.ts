// KDF bounds (issue 10, item 11): a floor at OWASP's minimum for Argon2id (m >= 19 MiB, t >= 2)
// against downgraded headers, and a ceiling against headers that would make this machine
// allocate gigabytes or spin for hours (a hostile sync server at join, a folder writer). Both
// are refused before anything is derived.
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { joinVault } from '../vault/vault.ts';
import type { VaultHeader } from '../vault/header.ts';
import { PASSWORD, tempDir, tempVault, type TempVault } from '../testing/tempVault.ts';
import { assertKdfStrong, deriveKek, KDF_CEILING, KDF_FLOOR, newKdfParams, type KdfParams } from './kdf.ts';
import { watchKeyMaterial } from './keys.ts';

let tv: TempVault | undefined;
afterEach(async () => {
  watchKeyMaterial(null);
  await tv?.cleanup();
  tv = undefined;
});

const params = (p: Partial<KdfParams>): KdfParams => ({ ...newKdfParams({ memoryKiB: KDF_FLOOR.memoryKiB, iterations: 2, parallelism: 1 }), ...p });

describe('Argon2id parameter bounds', () => {
  test('the floor is OWASP minimum: m >= 19 MiB, t >= 2; the 0.1.0 floor (16 MiB) only for an existing header', () => {
    expect(KDF_FLOOR).toMatchObject({ memoryKiB: 19_456, iterations: 2 });
    expect(() => assertKdfStrong(params({}))).not.toThrow();
    expect(() => assertKdfStrong(params({ memoryKiB: 19_455 }))).toThrow(expect.objectContaining({ code: 'KDF_TOO_WEAK' }));
    expect(() => assertKdfStrong(params({ iterations: 1 }))).toThrow(expect.objectContaining({ code: 'KDF_TOO_WEAK' }));
    expect(() => assertKdfStrong(params({ memoryKiB: 16_384 }))).toThrow(expect.objectContaining({ code: 'KDF_TOO_WEAK' }));
    expect(() => assertKdfStrong(params({ memoryKiB: 16_384 }), { legacy: true })).not.toThrow();
    expect(() => assertKdfStrong(params({ memoryKiB: 16_383 }), { legacy: true })).toThrow(expect.objectContaining({ code: 'KDF_TOO_WEAK' }));
    expect(() => newKdfParams({ memoryKiB: 16_384 })).toThrow(expect.objectContaining({ code: 'KDF_TOO_WEAK' }));
  });

  test('the ceiling: at most 1 GiB, 64 passes, 16 lanes and 64 MiB x 64 passes of work', () => {
    expect(() => assertKdfStrong(params({ memoryKiB: KDF_CEILING.memoryKiB, iterations: 4 }))).not.toThrow();
    expect(() => assertKdfStrong(params({ memoryKiB: 64 * 1024, iterations: 64, parallelism: 16 }))).not.toThrow();
    for (const bad of [{ memoryKiB: KDF_CEILING.memoryKiB + 1024 }, { iterations: 65 }, { parallelism: 17 }, { memoryKiB: 128 * 1024, iterations: 33 }, { memoryKiB: 2 ** 40 }, { iterations: 1.5 }])
      expect(() => assertKdfStrong(params(bad)), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: expect.stringMatching(/KDF_TOO_COSTLY|VAULT_CORRUPT/) }));
  });

  test('out-of-bounds parameters are refused before any derivation', async () => {
    const derived: Buffer[] = [];
    watchKeyMaterial((b) => derived.push(b));
    await expect(deriveKek(PASSWORD, params({ memoryKiB: 4 * 1024 * 1024 * 1024 }))).rejects.toMatchObject({ code: 'KDF_TOO_COSTLY' });
    await expect(deriveKek(PASSWORD, params({ iterations: 1_000_000 }))).rejects.toMatchObject({ code: 'KDF_TOO_COSTLY' });
    await expect(deriveKek(PASSWORD, params({ memoryKiB: 8 }))).rejects.toMatchObject({ code: 'KDF_TOO_WEAK' });
    expect(derived).toEqual([]);
    await expect(Custody.create(join(tempDir(), 'v'), { password: PASSWORD, kdf: { memoryKiB: 2 * 1024 * 1024 } })).rejects.toMatchObject({ code: 'KDF_TOO_COSTLY' });
  });

  test('a hostile header at join (from the sync server) is refused before deriving and writes nothing', async () => {
    tv = await tempVault({ unlock: false });
    const header = JSON.parse(readFileSync(join(tv.dir, 'vault.json'), 'utf8')) as VaultHeader;
    const dir = join(tempDir(), 'joined');
    const derived: Buffer[] = [];
    watchKeyMaterial((b) => derived.push(b));
    for (const kdf of [{ memoryKiB: 64 * 1024 * 1024 }, { iterations: 100_000 }, { parallelism: 255 }, { memoryKiB: 1024 }]) {
      const hostile = { ...header, kdf: { ...header.kdf, ...kdf } };
      await expect(joinVault(dir, hostile, [], { password: PASSWORD })).rejects.toMatchObject({ code: expect.stringMatching(/^KDF_TOO_(COSTLY|WEAK)$/) });
      await expect(joinVault(dir, hostile, [], { recoveryKey: tv.recoveryKey })).rejects.toMatchObject({ code: expect.stringMatching(/^KDF_TOO_(COSTLY|WEAK)$/) });
    }
    expect(derived).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  test('a header edited in the folder to ask for too much is refused at open', async () => {
    tv = await tempVault({ unlock: false });
    await tv.custody.close();
    const file = join(tv.dir, 'vault.json');
    const header = JSON.parse(readFileSync(file, 'utf8')) as VaultHeader;
    writeFileSync(file, JSON.stringify({ ...header, kdf: { ...header.kdf, memoryKiB: 3 * 1024 * 1024 } }));
    await expect(Custody.open(tv.dir)).rejects.toMatchObject({ code: 'KDF_TOO_COSTLY' });
    writeFileSync(file, JSON.stringify(header));
  });
});
