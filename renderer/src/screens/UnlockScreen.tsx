// Unlock with the master password (KDF progress while Argon2id runs), or set a new password
// with the recovery key. Passwords are cleared from state as soon as they were used.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { BusyLabel, FormError, ProgressBar } from '../components/Feedback.tsx';
import { Icon } from '../components/Icon.tsx';
import { PasswordField, StrengthMeter } from '../components/PasswordField.tsx';
import { toApiError } from '../lib/errors.ts';
import { useProgress } from '../stores/progress.ts';
import { useSession, type LockReason } from '../stores/session.ts';

const REASON: Record<LockReason, string> = {
  idle: 'Locked after a period of inactivity.',
  suspend: 'Locked because the computer went to sleep.',
  'screen-lock': 'Locked because the screen was locked.',
  menu: 'Locked from the menu.',
  user: 'Vault locked. Keys were wiped from memory.',
};

const waitText = (s: number) => (s >= 90 ? `${Math.ceil(s / 60)} minutes` : s === 1 ? '1 second' : `${s} seconds`);

/**
 * After repeated wrong passwords the vault refuses attempts for a while (TOO_MANY_ATTEMPTS,
 * with retryAfter seconds): counts down and keeps Unlock disabled until then.
 */
function useRetryCountdown(): [number, (seconds: number) => void] {
  const [until, setUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until <= now) return;
    const t = window.setTimeout(() => setNow(Date.now()), Math.min(1000, until - now));
    return () => window.clearTimeout(t);
  }, [until, now]);
  const left = Math.max(0, Math.ceil((until - now) / 1000));
  return [left, (seconds) => {
    const t = Date.now();
    setNow(t);
    setUntil(t + seconds * 1000);
  }];
}

function UnlockForm({ onForgot }: { onForgot(): void }) {
  const unlock = useSession((s) => s.unlock);
  const actor = useSession((s) => s.status?.actor);
  const reason = useSession((s) => s.lockReason);
  const progress = useProgress((s) => s.byOp.unlock);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [waitLeft, waitFor] = useRetryCountdown();
  const formRef = useRef<HTMLFormElement>(null);
  const id = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (waitLeft > 0) return;
    if (!password) return setError('Enter your master password.');
    setBusy(true);
    setError(null);
    try {
      await unlock(password);
    } catch (err) {
      const a = toApiError(err);
      if (a.code === 'TOO_MANY_ATTEMPTS' && a.retryAfter) waitFor(a.retryAfter);
      setError(
        a.code === 'WRONG_PASSWORD'
          ? 'Wrong password. Check Caps Lock and your keyboard layout, then try again.'
          : a.code === 'TOO_MANY_ATTEMPTS'
            ? 'Too many wrong passwords in a row. To slow down guessing, Custody waits longer after each one (at most 5 minutes).'
            : a.message,
      );
      setPassword('');
      setBusy(false);
      formRef.current?.querySelector<HTMLInputElement>('input[autocomplete="current-password"]')?.focus();
    }
  };

  return (
    <form ref={formRef} className="onboarding-card" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-h`}>
      <div className="onboarding-icon">
        <Icon name="lock" size={26} />
      </div>
      <h1 id={`${id}-h`}>Unlock Custody</h1>
      <p className="lead">{actor ? `Welcome back, ${actor}. ` : ''}Enter your master password to open the vault.</p>
      {/* Lets password managers file the password under this vault's analyst. */}
      <input type="text" className="visually-hidden" autoComplete="username" value={actor ?? ''} readOnly tabIndex={-1} aria-hidden="true" />
      {reason && (
        <p className="banner banner-info small" role="status">
          <Icon name="info" size={14} /> {REASON[reason]}
        </p>
      )}
      <PasswordField label="Master password" value={password} onChange={(v) => { setPassword(v); setError(null); }} autoFocus autoComplete="current-password" invalid={error !== null} describedBy={error ? `${id}-err` : undefined} />
      {error && (
        <FormError id={`${id}-err`}>{error}</FormError>
      )}
      {waitLeft > 0 && (
        <p className="banner banner-info small" role="status" aria-live="polite">
          <Icon name="info" size={14} /> You can try again in {waitText(waitLeft)}.
        </p>
      )}
      <button type="submit" className="button button-primary button-large" disabled={busy || waitLeft > 0}>
        <BusyLabel busy={busy} busyText="Unlocking…">{waitLeft > 0 ? `Wait ${waitLeft} s` : 'Unlock'}</BusyLabel>
      </button>
      {busy && <ProgressBar label="Deriving key with Argon2id…" event={progress} compact />}
      <button type="button" className="link-button center" onClick={onForgot}>
        Forgot password? Use recovery key
      </button>
    </form>
  );
}

function RecoverForm({ onBack }: { onBack(): void }) {
  const recover = useSession((s) => s.recover);
  const progress = useProgress((s) => s.byOp.unlock);
  const id = useId();
  const [key, setKey] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = confirm.length > 0 && confirm !== password;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!key.trim()) return setError('Enter the recovery key from your recovery kit.');
    if (password.length < 8) return setError('Choose a new master password of at least 8 characters.');
    if (password !== confirm) return setError('The two passwords do not match.');
    setBusy(true);
    setError(null);
    try {
      await recover(key.trim(), password);
    } catch (err) {
      const a = toApiError(err);
      setError(a.code === 'WRONG_RECOVERY_KEY' ? 'That recovery key does not open this vault. Check it character by character; dashes, spaces and letter case do not matter.' : a.message);
      setBusy(false);
    }
  };

  return (
    <form className="onboarding-card" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-h`}>
      <div className="onboarding-icon">
        <Icon name="key" size={26} />
      </div>
      <h1 id={`${id}-h`}>Recover access</h1>
      <p className="lead">Enter the recovery key from your recovery kit and choose a new master password. Your records stay as they are.</p>
      <div className="field">
        <label htmlFor={`${id}-key`}>Recovery key</label>
        <input id={`${id}-key`} className="mono" value={key} onChange={(e) => setKey(e.target.value)} autoFocus autoComplete="off" spellCheck={false} autoCapitalize="characters" />
      </div>
      <PasswordField label="New master password" value={password} onChange={setPassword} autoComplete="new-password" describedBy={`${id}-strength`} />
      <StrengthMeter password={password} id={`${id}-strength`} />
      <PasswordField label="Confirm new password" value={confirm} onChange={setConfirm} autoComplete="new-password" invalid={mismatch} />
      {error && (
        <FormError>{error}</FormError>
      )}
      <button type="submit" className="button button-primary button-large" disabled={busy}>
        <BusyLabel busy={busy} busyText="Recovering…">Set new password and unlock</BusyLabel>
      </button>
      {busy && <ProgressBar label="Deriving keys…" event={progress} compact />}
      <button type="button" className="link-button center" onClick={onBack}>
        Back to unlock
      </button>
    </form>
  );
}

export function UnlockScreen() {
  const [recovering, setRecovering] = useState(false);
  useEffect(() => {
    document.title = 'Custody — locked';
    return () => {
      document.title = 'Custody';
    };
  }, []);
  return <div className="onboarding">{recovering ? <RecoverForm onBack={() => setRecovering(false)} /> : <UnlockForm onForgot={() => setRecovering(true)} />}</div>;
}
