// Every user-level action in one list: the command palette shows it, shortcuts and main's
// `command` events (application menu) run the same functions.
import type { Events } from '../../../electron/shared/contract.ts';
import { shortcut } from '../lib/platform.ts';
import { useRecord } from './record.ts';
import { useSession, type View } from './session.ts';
import { useUi } from './ui.ts';

export type ActionId = 'new-record' | 'new-observation' | 'search' | 'import' | 'records' | 'trash' | 'audit' | 'disclosures' | 'settings' | 'about' | 'lock';

export interface Action {
  id: ActionId;
  title: string;
  hint?: string;
  keywords: string;
}

export const ACTIONS: Action[] = [
  { id: 'new-record', title: 'New record', hint: shortcut('N'), keywords: 'create add note' },
  { id: 'new-observation', title: 'New observation', keywords: 'create add fields' },
  { id: 'search', title: 'Search records', hint: shortcut('F'), keywords: 'find filter' },
  { id: 'import', title: 'Import records from CSV or JSON…', keywords: 'import csv json file' },
  { id: 'records', title: 'Go to records', keywords: 'list all' },
  { id: 'trash', title: 'Go to Trash', keywords: 'deleted restore bin' },
  { id: 'audit', title: 'Go to audit log', keywords: 'log history verify activity chart' },
  { id: 'disclosures', title: 'Go to disclosures', keywords: 'share disclose reviewer open package grant received issued age' },
  { id: 'settings', title: 'Open settings', keywords: 'preferences theme password auto-lock kdf' },
  { id: 'about', title: 'About Custody', keywords: 'version security model' },
  { id: 'lock', title: 'Lock vault', hint: shortcut('L'), keywords: 'lock sign out close' },
];

/** Navigate; a record that does not belong to the target list (live vs Trash) is closed. */
const go = (view: View) =>
  useUi.getState().guard(() => {
    const { record, mode, close } = useRecord.getState();
    if ((view === 'trash' && (mode !== 'view' || (record && !record.deletedAt))) || (view === 'records' && record?.deletedAt)) close();
    useSession.getState().setView(view);
  });

export function runAction(id: ActionId): void {
  const ui = useUi.getState();
  switch (id) {
    case 'new-record':
    case 'new-observation':
      ui.guard(() => {
        useRecord.getState().startNew(id === 'new-observation' ? 'observation' : 'note');
        useSession.getState().setView('records');
      });
      break;
    case 'search':
      if (useSession.getState().view !== 'records' && useSession.getState().view !== 'trash') go('records');
      ui.focusSearch();
      break;
    case 'import':
      go('records');
      ui.requestImport();
      break;
    case 'lock':
      void useSession.getState().lock();
      break;
    default:
      go(id);
  }
}

export function runMenuCommand(name: Events['command']['name']): void {
  runAction(name);
}
