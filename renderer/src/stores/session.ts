// Which vault state the app is in (none yet / locked / unlocked) and which screen is shown.
// Secrets never live here: passwords pass straight through to the API, and the recovery key
// is held only by the create screen's local state until the user confirms they stored it.
import { create } from 'zustand';
import type { AppInfo, Events, VaultStatusView } from '../../../electron/shared/contract.ts';
import { getApi } from '../api/client.ts';
import { toApiError } from '../lib/errors.ts';

export type Phase = 'loading' | 'welcome' | 'unlock' | 'unlocked' | 'unavailable';
export type View = 'records' | 'trash' | 'audit' | 'disclosures' | 'settings' | 'about';
export type LockReason = Events['locked']['reason'];

interface SessionState {
  phase: Phase;
  info: AppInfo | null;
  status: VaultStatusView | null;
  view: View;
  bootError: string | null;
  lockReason: LockReason | null;
  init(): Promise<void>;
  createVault(password: string, actor: string | undefined): Promise<{ vaultId: string; recoveryKey: string }>;
  /** After the recovery kit was acknowledged: enter the vault (or ask for the password). */
  finishCreate(): Promise<void>;
  unlock(password: string): Promise<void>;
  recover(recoveryKey: string, newPassword: string): Promise<void>;
  lock(): Promise<void>;
  /** Main locked the vault (idle, suspend, a LOCKED error): forget the unlocked state. */
  markLocked(reason?: LockReason): void;
  setView(view: View): void;
  refreshStatus(): Promise<void>;
}

const phaseOf = (s: VaultStatusView): Phase => (!s.exists ? 'welcome' : s.unlocked ? 'unlocked' : 'unlock');

export const useSession = create<SessionState>()((set, get) => ({
  phase: 'loading',
  info: null,
  status: null,
  view: 'records',
  bootError: null,
  lockReason: null,

  async init() {
    try {
      const api = getApi();
      const [info, status] = await Promise.all([api['app.info']({}), api['vault.status']({})]);
      set({ info, status, phase: phaseOf(status), bootError: null });
    } catch (e) {
      set({ phase: 'unavailable', bootError: toApiError(e).message });
    }
  },

  async createVault(password, actor) {
    return getApi()['vault.create']({ password, ...(actor ? { actor } : {}) });
  },

  async finishCreate() {
    const status = await getApi()['vault.status']({});
    set({ status, phase: phaseOf(status), view: 'records' });
  },

  async unlock(password) {
    const status = await getApi()['vault.unlock']({ password });
    set({ status, phase: 'unlocked', view: 'records', lockReason: null });
  },

  async recover(recoveryKey, newPassword) {
    const status = await getApi()['vault.recover']({ recoveryKey, newPassword });
    set({ status, phase: status.unlocked ? 'unlocked' : 'unlock', view: 'records', lockReason: null });
  },

  async lock() {
    try {
      await getApi()['vault.lock']({});
    } finally {
      get().markLocked('user');
    }
  },

  markLocked(reason) {
    const status = get().status;
    set({ phase: status?.exists === false ? 'welcome' : 'unlock', status: status ? { ...status, unlocked: false } : null, lockReason: reason ?? null });
  },

  setView(view) {
    set({ view });
  },

  async refreshStatus() {
    const status = await getApi()['vault.status']({});
    set({ status });
  },
}));
