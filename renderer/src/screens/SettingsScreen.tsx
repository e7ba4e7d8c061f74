// Settings: auto-lock, appearance, sync, KDF calibration, and changing the master password.
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { Settings } from '../../../electron/shared/contract.ts';
import { getApi } from '../api/client.ts';
import { FormError, Spinner } from '../components/Feedback.tsx';
import { Icon } from '../components/Icon.tsx';
import { SyncPanel } from '../components/SyncPanel.tsx';
import { SharingPanel } from '../components/SharingPanel.tsx';
import { BackupPanel } from '../components/BackupPanel.tsx';
import { KeysPanel } from '../components/KeysPanel.tsx';
import { PasswordField, StrengthMeter } from '../components/PasswordField.tsx';
import { toApiError } from '../lib/errors.ts';
import { formatBytes } from '../lib/format.ts';
import { reportError } from '../stores/errors.ts';
import { useSession } from '../stores/session.ts';
import { useSettings } from '../stores/settings.ts';
import { toast } from '../stores/toasts.ts';

type Kdf = { memoryKiB: number; iterations: number; parallelism: number };
const describeKdf = (k: Kdf) => `Argon2id · ${formatBytes(k.memoryKiB * 1024)} memory · ${k.iterations} ${k.iterations === 1 ? 'pass' : 'passes'} · ${k.parallelism} lanes`;

function LockSettings({ settings }: { settings: Settings }) {
  const update = useSettings((s) => s.update);
  const id = useId();
  const [minutes, setMinutes] = useState(String(settings.autoLockMinutes));
  useEffect(() => setMinutes(String(settings.autoLockMinutes)), [settings.autoLockMinutes]);
  const parsed = Number(minutes);
  const valid = /^\d+$/.test(minutes) && parsed >= 0 && parsed <= 1440;
  const changed = valid && parsed !== settings.autoLockMinutes;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (changed) void update({ autoLockMinutes: parsed }, parsed === 0 ? 'Auto-lock turned off' : `Vault locks after ${parsed} idle ${parsed === 1 ? 'minute' : 'minutes'}`);
  };
  return (
    <section className="card settings-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Locking</h2>
      <form className="inline-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-min`}>Auto-lock after idle (minutes)</label>
          <div className="input-row">
            <input id={`${id}-min`} type="number" min={0} max={1440} step={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} aria-invalid={!valid || undefined} aria-describedby={`${id}-minhint`} className="input-narrow" />
            <button type="submit" className="button" disabled={!changed}>
              Apply
            </button>
          </div>
          <p id={`${id}-minhint`} className={`field-hint${valid ? '' : ' field-error'}`}>
            {valid ? '0 turns auto-lock off (not recommended on a laptop that leaves the office).' : 'Enter whole minutes between 0 and 1440.'}
          </p>
        </div>
      </form>
      <label className="checkbox">
        <input type="checkbox" checked={settings.lockOnSuspend} onChange={(e) => void update({ lockOnSuspend: e.target.checked })} />
        <span>
          Lock when the computer sleeps or the screen locks
          <span className="field-hint">Keys are wiped from memory before the lid closes.</span>
        </span>
      </label>
    </section>
  );
}

function ThemeSettings({ settings }: { settings: Settings }) {
  const update = useSettings((s) => s.update);
  const id = useId();
  const options: { value: Settings['theme']; label: string }[] = [
    { value: 'system', label: 'Match system' },
    { value: 'light', label: 'Light' },
    { value: 'dark', label: 'Dark' },
  ];
  return (
    <section className="card settings-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Appearance</h2>
      <fieldset className="segmented-field">
        <legend>Theme</legend>
        <div className="segmented">
          {options.map((o) => (
            <label key={o.value} className={settings.theme === o.value ? 'checked' : undefined}>
              <input type="radio" name={`${id}-theme`} value={o.value} checked={settings.theme === o.value} onChange={() => void update({ theme: o.value }, `Theme: ${o.label.toLowerCase()}`)} />
              {o.label}
            </label>
          ))}
        </div>
      </fieldset>
    </section>
  );
}

function KdfSettings() {
  const current = useSession((s) => s.status?.kdf ?? null);
  const id = useId();
  const [target, setTarget] = useState(1000);
  const [result, setResult] = useState<{ target: number; params: Kdf } | null>(null);
  const [busy, setBusy] = useState(false);
  const calibrate = async () => {
    setBusy(true);
    try {
      setResult({ target, params: await getApi()['vault.calibrateKdf']({ targetMs: target }) });
    } catch (e) {
      reportError(e, 'Calibration failed');
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card settings-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Key derivation</h2>
      <p className="muted small">Your master password is stretched with Argon2id before it can unwrap the vault key. Slower means every guess costs an attacker more.</p>
      {current && (
        <p className="kdf-current">
          <span className="muted">This vault:</span> {describeKdf(current)}
        </p>
      )}
      <div className="input-row">
        <div className="field field-compact">
          <label htmlFor={`${id}-target`}>Target unlock time</label>
          <select id={`${id}-target`} value={target} onChange={(e) => setTarget(Number(e.target.value))}>
            {[500, 1000, 2000, 3000, 5000].map((ms) => (
              <option key={ms} value={ms}>
                {ms < 1000 ? `${ms} ms` : `${ms / 1000} s`}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="button button-align-end" onClick={() => void calibrate()} disabled={busy}>
          {busy ? <Spinner size={14} /> : <Icon name="settings" size={14} />} {busy ? 'Measuring…' : 'Calibrate'}
        </button>
      </div>
      {result && (
        <div className="kdf-result" role="status">
          <strong>For about {result.target < 1000 ? `${result.target} ms` : `${result.target / 1000} s`} on this device:</strong> {describeKdf(result.params)}
          <p className="field-hint">These are the parameters a new vault created here with this target would use. Custody never goes below its safety floor, whatever the target.</p>
        </div>
      )}
    </section>
  );
}

function ChangePassword() {
  const id = useId();
  const [oldPw, setOld] = useState('');
  const [newPw, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = confirm.length > 0 && confirm !== newPw;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (newPw.length < 8) return setError('The new password needs at least 8 characters.');
    if (newPw !== confirm) return setError('The new passwords do not match.');
    if (newPw === oldPw) return setError('The new password is the same as the current one.');
    setBusy(true);
    setError(null);
    try {
      await getApi()['vault.changePassword']({ oldPassword: oldPw, newPassword: newPw });
      setOld('');
      setNew('');
      setConfirm('');
      toast.success('Master password changed. Your recovery key still works.');
    } catch (err) {
      const a = toApiError(err);
      if (a.code === 'WRONG_PASSWORD') setError('The current password is wrong.');
      else if (a.code === 'LOCKED') reportError(err);
      else setError(a.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card settings-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Master password</h2>
      <form className="stack-form" onSubmit={(e) => void submit(e)}>
        <PasswordField label="Current password" value={oldPw} onChange={setOld} autoComplete="current-password" />
        <PasswordField label="New password" value={newPw} onChange={setNew} autoComplete="new-password" describedBy={`${id}-strength`} />
        <StrengthMeter password={newPw} id={`${id}-strength`} />
        <PasswordField label="Confirm new password" value={confirm} onChange={setConfirm} autoComplete="new-password" invalid={mismatch} />
        {mismatch && <p className="field-hint field-error">The passwords do not match.</p>}
        {error && (
          <FormError>{error}</FormError>
        )}
        <div>
          <button type="submit" className="button button-primary" disabled={busy || !oldPw || !newPw || !confirm}>
            {busy && <Spinner size={14} />} Change password
          </button>
        </div>
        <p className="field-hint">Only the wrapped vault key changes; nothing else is re-encrypted, so this takes a second.</p>
      </form>
    </section>
  );
}

export function SettingsScreen() {
  const settings = useSettings((s) => s.settings);
  const load = useSettings((s) => s.load);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <div className="screen settings-screen">
      <header className="screen-header">
        <div>
          <h1>Settings</h1>
          <p className="screen-subtitle">Stored in the vault; changes are written to the audit log.</p>
        </div>
      </header>
      <div className="screen-scroll settings-grid">
        {settings ? (
          <>
            <LockSettings settings={settings} />
            <ThemeSettings settings={settings} />
            <SyncPanel settings={settings} />
          </>
        ) : (
          <Spinner label="Loading settings…" />
        )}
        <SharingPanel />
        <BackupPanel />
        <KeysPanel />
        <KdfSettings />
        <ChangePassword />
      </div>
    </div>
  );
}
