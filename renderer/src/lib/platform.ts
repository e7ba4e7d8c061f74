// Shortcut labels follow the platform's convention (⌘ on macOS, Ctrl elsewhere).
import type { KeyboardEvent as ReactKeyboardEvent } from 'react';

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
export const shortcut = (key: string): string => (isMac ? `⌘${key}` : `Ctrl+${key}`);
/** The "command" modifier: Cmd on macOS, Ctrl elsewhere. */
export const hasMod = (e: KeyboardEvent | ReactKeyboardEvent): boolean => (isMac ? e.metaKey : e.ctrlKey) && !e.altKey;
