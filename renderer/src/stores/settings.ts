// App settings (stored by main, in the vault). The theme is also remembered in localStorage
// — it is not sensitive — so the lock screen already has the right colours before unlock.
import { create } from 'zustand';
import type { Settings } from '../../../electron/shared/contract.ts';
import { getApi } from '../api/client.ts';
import { reportError } from './errors.ts';
import { toast } from './toasts.ts';

export type Theme = Settings['theme'];
const THEME_KEY = 'custody.theme';

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Storage can be unavailable (e.g. a locked-down profile); the theme still applies now.
  }
}

export function rememberedTheme(): Theme {
  try {
    const t = localStorage.getItem(THEME_KEY);
    if (t === 'light' || t === 'dark' || t === 'system') return t;
  } catch {
    // fall through to the default
  }
  return 'system';
}

interface SettingsState {
  settings: Settings | null;
  load(): Promise<void>;
  update(patch: Partial<Settings>, message?: string): Promise<boolean>;
  reset(): void;
}

export const useSettings = create<SettingsState>()((set, get) => ({
  settings: null,
  async load() {
    try {
      const settings = await getApi()['settings.get']({});
      set({ settings });
      applyTheme(settings.theme);
    } catch (e) {
      reportError(e, 'Could not load settings');
    }
  },
  async update(patch, message = 'Settings saved') {
    const before = get().settings;
    // Optimistic, so a theme switch is instant; rolled back if main refuses.
    if (before) set({ settings: { ...before, ...patch } });
    if (patch.theme) applyTheme(patch.theme);
    try {
      const settings = await getApi()['settings.set'](patch);
      set({ settings });
      applyTheme(settings.theme);
      toast.success(message);
      return true;
    } catch (e) {
      set({ settings: before });
      if (before) applyTheme(before.theme);
      reportError(e, 'Settings were not saved');
      return false;
    }
  },
  reset() {
    set({ settings: null });
  },
}));
