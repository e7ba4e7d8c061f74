// The app and vault lifecycle over IPC: create, unlock (then settings, search index and
// background sync start), lock (sync stops first, and the lock happens even if that fails),
// password change and recovery.
import { calibrateKdf } from '../crypto/kdf.ts';
import { Custody } from '../custody.ts';
import type { CoreContext, Handlers } from './coreContext.ts';
import { logFailure, startIndex } from './progressEvents.ts';
import { NO_VAULT } from './vaultSession.ts';

export function vaultHandlers({ deps, vault, settings, sync, progress }: CoreContext) {
  return {
    handlers: {
      'app.info': async () => ({ name: 'Custody', version: deps.appVersion, shell: deps.shell, platform: process.platform, nativeDialogs: deps.nativeDialogs }),
      'vault.status': async () => (vault.exists() ? vault.statusOf(await vault.custody()) : NO_VAULT),
      'vault.create': async ({ password, actor, kdfTargetMs }) => {
        const created = await Custody.create(deps.vaultDir, { password, actor, kdfTargetMs });
        await vault.custody();
        return created;
      },
      'vault.unlock': async ({ password }) => {
        const c = await vault.custody();
        const step = progress('unlock');
        step(0, 1);
        try {
          await c.unlock(password, { buildIndex: false });
        } finally {
          step(1, 1);
        }
        await settings.afterUnlock(c);
        startIndex(c, deps.emit);
        void sync.startLoop().catch((e: unknown) => logFailure('background sync', e));
        return vault.statusOf(c);
      },
      'vault.lock': async () => {
        if (!vault.isOpen()) return vault.exists() ? vault.statusOf(await vault.custody()) : NO_VAULT;
        const c = await vault.custody();
        // The lock must happen even if stopping sync fails.
        await sync.stop().catch((e: unknown) => logFailure('stopping sync before the lock', e));
        settings.forget();
        await c.lock();
        return vault.statusOf(c);
      },
      'vault.changePassword': async ({ oldPassword, newPassword }) => {
        await (await vault.unlocked()).changePassword(oldPassword, newPassword);
        return { ok: true };
      },
      'vault.recover': async ({ recoveryKey, newPassword }) => {
        const c = await vault.custody();
        await c.recover(recoveryKey, newPassword);
        await settings.afterUnlock(c);
        startIndex(c, deps.emit);
        return vault.statusOf(c);
      },
      'vault.calibrateKdf': async ({ targetMs }) => calibrateKdf(targetMs),
    } satisfies Partial<Handlers>,
  };
}
