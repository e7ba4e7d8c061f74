// Sync's lifetime under the API: one engine while unlocked (its server address is sealed with
// the vault key), stopped before the vault locks so a sync in flight never runs into wiped keys.
import type { Settings } from '../../shared/contract.ts';
import type { Custody } from '../custody.ts';
import { SyncEngine } from '../sync/client/engine.ts';

export interface SyncSession {
  /** The engine of the unlocked vault (refuses with LOCKED). */
  engine(): Promise<SyncEngine>;
  /** (Re)starts background sync at the interval in force, if sync is configured. */
  startLoop(): Promise<void>;
  /** Stops background sync and closes the engine. */
  stop(): Promise<void>;
}

export function syncSession(unlocked: () => Promise<Custody>, currentSettings: () => Settings): SyncSession {
  let engine: SyncEngine | null = null;
  async function get(): Promise<SyncEngine> {
    const c = await unlocked();
    engine ??= new SyncEngine(c);
    return engine;
  }
  return {
    engine: get,
    async startLoop() {
      const minutes = currentSettings().syncIntervalMinutes;
      const e = await get();
      e.stop();
      if (minutes > 0 && e.status().configured) e.start(minutes * 60_000);
    },
    async stop() {
      const e = engine;
      engine = null;
      await e?.close();
    },
  };
}
