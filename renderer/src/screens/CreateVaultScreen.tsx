// First run: choose a master password, then the recovery kit — shown exactly once, and the
// user must confirm they stored it before going on. The key lives only in this component.
import { useId, useRef, useState, type FormEvent } from 'react';
import { BusyLabel, FormError } from '../components/Feedback.tsx';
import { Icon } from '../components/Icon.tsx';
import { PasswordField, StrengthMeter } from '../components/PasswordField.tsx';
import { downloadBytes } from '../lib/download.ts';
import { toApiError } from '../lib/errors.ts';
import { useSession } from '../stores/session.ts';
import { toast } from '../stores/toasts.ts';

interface Kit {
  vaultId: string;
  recoveryKey: string;
  actor: string;
  createdAt: string;
}

export function kitText(k: Kit): string {
  return [
    'CUSTODY RECOVERY KIT',
    '====================',
    '',
    `Vault ID:  ${k.vaultId}`,
    ...(k.actor ? [`Analyst:   ${k.actor}`] : []),
    `Created:   ${k.createdAt}`,
    '',
    'Recovery key:',
    '',
    `    ${k.recoveryKey}`,
    '',
    'If you forget your master password, choose "Forgot password? Use recovery key"',
    'on the unlock screen and enter this key to set a new password.',
    '',
    'Anyone who has this key can open the vault. Keep it offline and private:',
    'print it and lock it away, or store it in a password manager. Custody cannot',
    'show it to you again.',
    '',
  ].join('\n');
}

function RecoveryKit({ kit, onContinue }: { kit: Kit; onContinue(): Promise<void> }) {
  const [stored, setStored] = useState(false);
  const [busy, setBusy] = useState(false);
  const copy = () =>
    navigator.clipboard.writeText(kit.recoveryKey).then(
      () => toast.success('Recovery key copied. Paste it somewhere safe, then clear your clipboard.'),
      () => toast.error('Could not copy. Select the key and copy it by hand, or save it as a file.'),
    );
  const save = () => downloadBytes(kitText(kit), `custody-recovery-kit-${kit.vaultId.slice(0, 8)}.txt`, 'text/plain;charset=utf-8');
  return (
    <div className="onboarding-card wide">
      <div className="onboarding-icon">
        <Icon name="key" size={26} />
      </div>
      <h1>Save your recovery kit</h1>
      <p className="lead">
        This recovery key is the only way back into the vault if you forget your master password. It is shown <strong>once</strong>: Custody keeps no copy it could show you again.
      </p>
      <div className="recovery-key" aria-label="Recovery key" role="group">
        <code aria-describedby="kit-hint">{kit.recoveryKey}</code>
      </div>
      <p id="kit-hint" className="field-hint">
        Vault {kit.vaultId}. Anyone with this key can open the vault — store it offline (printed, or in a password manager), not next to the laptop.
      </p>
      <div className="button-row">
        <button type="button" className="button" onClick={() => void copy()}>
          <Icon name="copy" size={14} /> Copy
        </button>
        <button type="button" className="button" onClick={save}>
          <Icon name="download" size={14} /> Save as file
        </button>
      </div>
      <label className="checkbox kit-confirm">
        <input type="checkbox" checked={stored} onChange={(e) => setStored(e.target.checked)} />
        <span>I have stored my recovery key somewhere safe</span>
      </label>
      <button
        type="button"
        className="button button-primary button-large"
        disabled={!stored || busy}
        onClick={() => {
          setBusy(true);
          onContinue().catch((e: unknown) => {
            setBusy(false);
            toast.error(toApiError(e).message);
          });
        }}
      >
        <BusyLabel busy={busy} busyText="Opening vault…">Continue</BusyLabel>
      </button>
    </div>
  );
}

export function CreateVaultScreen() {
  const createVault = useSession((s) => s.createVault);
  const finishCreate = useSession((s) => s.finishCreate);
  const unlock = useSession((s) => s.unlock);
  const id = useId();
  // Kept (outside React state) only until the kit is acknowledged, to open the new vault
  // without asking for the password again a minute after it was chosen.
  const pending = useRef<string | null>(null);
  const [actor, setActor] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [kit, setKit] = useState<Kit | null>(null);
  const mismatch = confirm.length > 0 && confirm !== password;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password.length < 8) return setError('Choose a master password of at least 8 characters.');
    if (password !== confirm) return setError('The two passwords do not match.');
    setBusy(true);
    setError(null);
    try {
      const res = await createVault(password, actor.trim() || undefined);
      pending.current = password;
      setPassword('');
      setConfirm('');
      setKit({ ...res, actor: actor.trim(), createdAt: new Date().toISOString() });
    } catch (err) {
      setError(toApiError(err).message);
    } finally {
      setBusy(false);
    }
  };

  const enter = async () => {
    const pw = pending.current;
    pending.current = null;
    if (pw) {
      try {
        await unlock(pw);
        return;
      } catch {
        // Fall back to the unlock screen below.
      }
    }
    await finishCreate();
  };

  if (kit)
    return (
      <div className="onboarding">
        <RecoveryKit kit={kit} onContinue={enter} />
      </div>
    );

  return (
    <div className="onboarding">
      <form className="onboarding-card" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-h`}>
        <div className="onboarding-icon">
          <Icon name="shield" size={26} />
        </div>
        <h1 id={`${id}-h`}>Create your vault</h1>
        <p className="lead">Records, files and their audit trail are encrypted on this device with a key only your master password (or your recovery key) can unlock.</p>
        <div className="field">
          <label htmlFor={`${id}-actor`}>
            Analyst name <span className="muted">(optional)</span>
          </label>
          <input id={`${id}-actor`} value={actor} maxLength={100} onChange={(e) => setActor(e.target.value)} autoComplete="username" aria-describedby={`${id}-actor-hint`} />
          <p id={`${id}-actor-hint`} className="field-hint">
            Shown as the actor in audit entries and reports.
          </p>
        </div>
        <PasswordField label="Master password" value={password} onChange={setPassword} autoFocus autoComplete="new-password" describedBy={`${id}-strength`} />
        <StrengthMeter password={password} id={`${id}-strength`} />
        <PasswordField label="Confirm password" value={confirm} onChange={setConfirm} autoComplete="new-password" invalid={mismatch} />
        {mismatch && <p className="field-hint field-error">The passwords do not match yet.</p>}
        {error && (
          <FormError>{error}</FormError>
        )}
        <button type="submit" className="button button-primary button-large" disabled={busy}>
          <BusyLabel busy={busy} busyText="Creating vault…">Create vault</BusyLabel>
        </button>
        {busy && <p className="field-hint center">Deriving keys with Argon2id. This takes a few seconds on purpose.</p>}
        <p className="field-hint center">There is no password reset by email: if you lose both the password and the recovery key, the data cannot be recovered.</p>
      </form>
    </div>
  );
}
