// The key registry over IPC (Settings → Keys): ids, kinds, statuses, dates, fingerprints and
// usage counts, never key material; rotations are done with the command line (docs/keys.md).
import type { KeysView } from '../../shared/contract.ts';
import { CustodyError } from '../../shared/errors.ts';
import { expiryWarnings } from '../keys/expiry.ts';
import { listKeys } from '../keys/registry.ts';
import type { CoreContext, Handlers } from './coreContext.ts';

export function keyHandlers({ vault }: CoreContext) {
  return {
    handlers: {
      'keys.list': async (): Promise<KeysView> => {
        const c = await vault.current();
        if (!c?.vault.unlocked) throw new CustodyError('LOCKED', 'the vault is locked; unlock it first');
        const keys = await listKeys(c.vault);
        const queued = keys.filter((k) => k.status === 'rotation_queued').map((k) => `the ${k.kind.replace('_', ' ')} ${k.id} is due for rotation${k.kind === 'vault_key' ? ' ("custody keys rotate vault-key")' : ' (done at the next unlock)'}`);
        return { keys: keys.map(({ replaces: _replaces, ...k }) => k), warnings: [...expiryWarnings(keys), ...queued] };
      },
    } satisfies Partial<Handlers>,
  };
}
