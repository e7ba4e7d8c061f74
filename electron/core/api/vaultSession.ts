// The one Custody instance behind the API: opened on first use (locked), reopened after a
// failed open, and the view of its status the window gets.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VaultStatusView } from '../../shared/contract.ts';
import { CustodyError } from '../../shared/errors.ts';
import { Custody } from '../custody.ts';
import { HEADER_FILE } from '../vault/header.ts';

export const NO_VAULT: VaultStatusView = { exists: false, unlocked: false, vaultId: null, actor: null, kdf: null, index: { ready: false, size: 0 } };

export interface VaultSession {
  exists(): boolean;
  /** The vault, opened on first use (locked); a failed open is retried on the next call. */
  custody(): Promise<Custody>;
  /** The vault, refusing with LOCKED unless it is unlocked. */
  unlocked(): Promise<Custody>;
  /** Whether an open was started (and has not failed yet). */
  isOpen(): boolean;
  /** The vault if it was opened (and the open succeeded), without opening it. */
  current(): Promise<Custody | null>;
  statusOf(c: Custody): VaultStatusView;
  /** Closes the vault (app quit); the next call opens it again. */
  close(): Promise<void>;
}

export function vaultSession(vaultDir: string): VaultSession {
  let opened: Promise<Custody> | null = null;
  const exists = () => existsSync(join(vaultDir, HEADER_FILE));

  function custody(): Promise<Custody> {
    if (!opened) {
      if (!exists()) return Promise.reject(new CustodyError('VAULT_NOT_FOUND', 'there is no vault yet: create one first'));
      const p = Custody.open(vaultDir);
      p.catch(() => {
        if (opened === p) opened = null;
      });
      opened = p;
    }
    return opened;
  }

  return {
    exists,
    custody,
    async unlocked() {
      const c = await custody();
      c.vault.keys();
      return c;
    },
    isOpen: () => opened !== null,
    async current() {
      return opened ? opened.catch(() => null) : null;
    },
    statusOf(c) {
      const s = c.status();
      return { exists: true, unlocked: s.unlocked, vaultId: s.vaultId, actor: s.actor, kdf: s.kdf, index: s.index };
    },
    async close() {
      const c = opened ? await opened.catch(() => null) : null;
      opened = null;
      await c?.close();
    },
  };
}
