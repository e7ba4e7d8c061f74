// Top level: boots from vault.status, routes by vault phase, subscribes to main's events.
import { useEffect } from 'react';
import { getApi } from './api/client.ts';
import { ConfirmDialog } from './components/Dialog.tsx';
import { Spinner, Toasts } from './components/Feedback.tsx';
import { Icon } from './components/Icon.tsx';
import { runMenuCommand } from './stores/actions.ts';
import { useProgress } from './stores/progress.ts';
import { useRecords } from './stores/records.ts';
import { resetVaultState } from './stores/resetAll.ts';
import { useSession } from './stores/session.ts';
import { useSettings } from './stores/settings.ts';
import { useUi } from './stores/ui.ts';
import { CreateVaultScreen } from './screens/CreateVaultScreen.tsx';
import { UnlockScreen } from './screens/UnlockScreen.tsx';
import { Workspace } from './screens/Workspace.tsx';

function useMainEvents(): void {
  useEffect(() => {
    const api = getApi();
    const offs = [
      api.on('progress', (e) => useProgress.getState().report(e)),
      api.on('locked', (e) => useSession.getState().markLocked(e.reason)),
      api.on('index.ready', () => {
        if (useSession.getState().phase === 'unlocked') void useRecords.getState().run();
      }),
      api.on('command', (e) => {
        if (useSession.getState().phase === 'unlocked') runMenuCommand(e.name);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, []);
}

function DiscardGuard() {
  const pending = useUi((s) => s.pendingDiscard);
  const resolve = useUi((s) => s.resolveDiscard);
  if (!pending) return null;
  return <ConfirmDialog title="Discard unsaved changes?" message="The record you are editing has changes that are not saved." confirmLabel="Discard changes" danger onCancel={() => resolve(false)} onConfirm={() => resolve(true)} />;
}

function Unavailable({ message }: { message: string }) {
  const init = useSession((s) => s.init);
  return (
    <div className="onboarding">
      <div className="onboarding-card" role="alert">
        <div className="onboarding-icon danger">
          <Icon name="alert" size={26} />
        </div>
        <h1>Custody could not start</h1>
        <p className="lead">{message}</p>
        <button type="button" className="button button-primary button-large" onClick={() => void init()}>
          Try again
        </button>
      </div>
    </div>
  );
}

export function App() {
  const phase = useSession((s) => s.phase);
  const bootError = useSession((s) => s.bootError);

  useMainEvents();

  useEffect(() => {
    void useSession.getState().init();
  }, []);

  useEffect(() => {
    if (phase === 'unlocked') void useSettings.getState().load();
    else resetVaultState();
  }, [phase]);

  return (
    <>
      {phase === 'loading' && (
        <div className="onboarding">
          <Spinner label="Starting Custody…" size={20} />
        </div>
      )}
      {phase === 'unavailable' && <Unavailable message={bootError ?? 'The background service did not answer.'} />}
      {phase === 'welcome' && <CreateVaultScreen />}
      {phase === 'unlock' && <UnlockScreen />}
      {phase === 'unlocked' && <Workspace />}
      <DiscardGuard />
      <Toasts />
    </>
  );
}
