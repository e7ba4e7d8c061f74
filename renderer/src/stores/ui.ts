// Cross-cutting UI state: the command palette, requests that shortcuts, menu commands and
// the palette send to screens without knowing the DOM (focus search, open import), and the
// "discard unsaved changes?" guard in front of anything that would close the editor.
import { create } from 'zustand';
import { isDirty } from '../lib/draft.ts';
import { useRecord } from './record.ts';

interface UiState {
  paletteOpen: boolean;
  searchFocusRequest: number;
  importRequest: number;
  /** Waiting for the user to confirm discarding the editor's changes. */
  pendingDiscard: (() => void) | null;
  setPaletteOpen(open: boolean): void;
  focusSearch(): void;
  requestImport(): void;
  /** Runs `fn` now, or after the user agreed to drop unsaved edits. */
  guard(fn: () => void): void;
  resolveDiscard(discard: boolean): void;
}

export const useUi = create<UiState>()((set, get) => ({
  paletteOpen: false,
  searchFocusRequest: 0,
  importRequest: 0,
  pendingDiscard: null,
  setPaletteOpen(paletteOpen) {
    set({ paletteOpen });
  },
  focusSearch() {
    set({ searchFocusRequest: get().searchFocusRequest + 1 });
  },
  requestImport() {
    set({ importRequest: get().importRequest + 1 });
  },
  guard(fn) {
    const { mode, draft, record } = useRecord.getState();
    if (mode !== 'view' && isDirty(draft, mode === 'new' ? null : record)) set({ pendingDiscard: fn });
    else fn();
  },
  resolveDiscard(discard) {
    const fn = get().pendingDiscard;
    set({ pendingDiscard: null });
    if (discard && fn) {
      useRecord.getState().cancelEdit();
      fn();
    }
  },
}));
