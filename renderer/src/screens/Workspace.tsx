// The unlocked app: sidebar navigation and the current screen.
import { useEffect } from 'react';
import { CommandPalette } from '../components/CommandPalette.tsx';
import { Icon, type IconName } from '../components/Icon.tsx';
import { useShortcuts } from '../hooks/useShortcuts.ts';
import { shortcut } from '../lib/platform.ts';
import { runAction } from '../stores/actions.ts';
import { useSession, type View } from '../stores/session.ts';
import { useUi } from '../stores/ui.ts';
import { AboutScreen } from './AboutScreen.tsx';
import { AuditScreen } from './AuditScreen.tsx';
import { DisclosuresScreen } from './DisclosuresScreen.tsx';
import { RecordsScreen } from './RecordsScreen.tsx';
import { SettingsScreen } from './SettingsScreen.tsx';

const NAV: { view: View; label: string; icon: IconName }[] = [
  { view: 'records', label: 'Records', icon: 'records' },
  { view: 'trash', label: 'Trash', icon: 'trash' },
  { view: 'audit', label: 'Audit log', icon: 'audit' },
  { view: 'disclosures', label: 'Disclosures', icon: 'shieldCheck' },
  { view: 'settings', label: 'Settings', icon: 'settings' },
  { view: 'about', label: 'About', icon: 'info' },
];

export function Workspace() {
  const view = useSession((s) => s.view);
  const actor = useSession((s) => s.status?.actor);
  const paletteOpen = useUi((s) => s.paletteOpen);
  const setPaletteOpen = useUi((s) => s.setPaletteOpen);
  useShortcuts();

  useEffect(() => {
    document.title = `${NAV.find((n) => n.view === view)?.label ?? 'Custody'} — Custody`;
  }, [view]);

  return (
    <div className="app-shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            <Icon name="shield" size={18} />
          </span>
          Custody
        </div>
        <ul className="nav-list">
          {NAV.map((n) => (
            <li key={n.view}>
              <button type="button" className="nav-item" aria-current={view === n.view ? 'page' : undefined} onClick={() => runAction(n.view)}>
                <Icon name={n.icon} />
                {n.label}
              </button>
            </li>
          ))}
        </ul>
        <div className="sidebar-footer">
          <button type="button" className="nav-item" onClick={() => setPaletteOpen(true)}>
            <Icon name="command" />
            Commands
            <kbd>{shortcut('K')}</kbd>
          </button>
          <button type="button" className="nav-item" onClick={() => runAction('lock')}>
            <Icon name="lock" />
            Lock
            <kbd>{shortcut('L')}</kbd>
          </button>
          {actor && (
            <div className="who" title="Analyst recorded in audit entries">
              <span className="avatar" aria-hidden="true">
                {actor.slice(0, 1).toUpperCase()}
              </span>
              <span className="who-name">{actor}</span>
            </div>
          )}
        </div>
      </nav>
      <main className="main">
        {view === 'records' && <RecordsScreen trash={false} />}
        {view === 'trash' && <RecordsScreen trash />}
        {view === 'audit' && <AuditScreen />}
        {view === 'disclosures' && <DisclosuresScreen />}
        {view === 'settings' && <SettingsScreen />}
        {view === 'about' && <AboutScreen />}
      </main>
      {paletteOpen && <CommandPalette />}
    </div>
  );
}
