// Test support: real vaults in temporary directories, with the cheapest KDF the floor allows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Custody } from '../custody.ts';
import { KDF_FLOOR } from '../crypto/kdf.ts';

export const PASSWORD = 'correct horse battery staple';

export interface TempVault {
  dir: string;
  custody: Custody;
  recoveryKey: string;
  vaultId: string;
  reopen(): Promise<Custody>;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'custody-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function tempVault(opts: { unlock?: boolean } = {}): Promise<TempVault> {
  const root = tempDir();
  const dir = join(root, 'vault');
  const { recoveryKey, vaultId } = await Custody.create(dir, { password: PASSWORD, kdf: KDF_FLOOR, actor: 'tester' });
  let custody = await Custody.open(dir);
  if (opts.unlock !== false) await custody.unlock(PASSWORD, { buildIndex: false });
  const tv: TempVault = {
    dir,
    recoveryKey,
    vaultId,
    get custody() {
      return custody;
    },
    async reopen() {
      await custody.close();
      custody = await Custody.open(dir);
      return custody;
    },
    async cleanup() {
      await custody.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return tv;
}
