// Settings over IPC. While unlocked, the copy sealed in the vault is in force and wins over the
// file beside it, which only a folder writer could have changed (settings.ts); locked, only the
// theme (the lock screen's look) can change.
import type { Settings } from '../../shared/contract.ts';
import { CustodyError } from '../../shared/errors.ts';
import type { Custody } from '../custody.ts';
import type { CoreContext, Handlers } from './coreContext.ts';
import { changedKeys, isSealedKey, readSettings, reconcileSettings, saveSettings, writeSettings } from './settings.ts';

export interface SettingsState {
  /** The settings in force: the sealed copy while unlocked, else the file. */
  current(): Settings;
  /** The sealed copy while unlocked, else null. */
  effective(): Settings | null;
  /** After an unlock: reconciles the file with the sealed copy, which is then in force. */
  afterUnlock(c: Custody): Promise<void>;
  /** Before a lock: back to the file. */
  forget(): void;
  set(after: Settings): void;
}

export function settingsState(settingsFile: string): SettingsState {
  let effective: Settings | null = null;
  return {
    current: () => effective ?? readSettings(settingsFile),
    effective: () => effective,
    async afterUnlock(c) {
      effective = await reconcileSettings(c.vault, settingsFile);
    },
    forget() {
      effective = null;
    },
    set(after) {
      effective = after;
    },
  };
}

export function settingsHandlers({ deps: { settingsFile }, vault, settings, sync }: CoreContext) {
  return {
    handlers: {
      'settings.get': async () => settings.current(),
      'settings.set': async (patch) => {
        const c = await vault.current();
        const before = settings.effective();
        if (c?.vault.unlocked && before) {
          const after: Settings = { ...before, ...patch };
          const changed = await saveSettings(c.vault, settingsFile, before, after);
          settings.set(after);
          if (changed.includes('syncIntervalMinutes')) await sync.startLoop();
          return after;
        }
        // Locked: only the theme lives outside the vault; the rest is sealed in it and would be
        // replaced by the sealed copy at the next unlock anyway.
        const sealed = Object.keys(patch).filter(isSealedKey);
        if (sealed.length > 0) throw new CustodyError('LOCKED', `unlock the vault to change ${sealed.join(', ')}`);
        const fileBefore = readSettings(settingsFile);
        const after: Settings = { ...fileBefore, ...patch };
        const changed = changedKeys(fileBefore, after);
        if (changed.length === 0) return fileBefore;
        writeSettings(settingsFile, after);
        if (vault.exists()) {
          const locked = await vault.custody();
          await locked.vault.record({ event: 'settings.changed', details: { changed, ...Object.fromEntries(changed.map((k) => [k, after[k]])) } });
        }
        return after;
      },
    } satisfies Partial<Handlers>,
  };
}
