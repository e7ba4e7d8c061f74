// Global keyboard shortcuts while the vault is open. Dialogs own the keyboard while open
// (only Esc, handled by the dialog); plain-letter shortcuts never fire inside text fields.
import { useEffect } from 'react';
import { hasMod } from '../lib/platform.ts';
import { runAction } from '../stores/actions.ts';
import { useRecord } from '../stores/record.ts';
import { useUi } from '../stores/ui.ts';

const isTyping = (el: Element | null): boolean => el instanceof HTMLElement && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

export function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const ui = useUi.getState();
      const key = e.key.toLowerCase();
      if (hasMod(e) && key === 'k') {
        e.preventDefault();
        ui.setPaletteOpen(!ui.paletteOpen);
        return;
      }
      if (document.querySelector('[aria-modal="true"]')) return;
      if (hasMod(e) && !e.shiftKey) {
        const action = ({ n: 'new-record', f: 'search', l: 'lock' } as const)[key as 'n' | 'f' | 'l'];
        if (action) {
          e.preventDefault();
          runAction(action);
        }
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(document.activeElement)) return;
      if (e.key === '/') {
        e.preventDefault();
        runAction('search');
      } else if (key === 'e') {
        const { mode, record, startEdit } = useRecord.getState();
        if (mode === 'view' && record && !record.deletedAt) {
          e.preventDefault();
          startEdit();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
