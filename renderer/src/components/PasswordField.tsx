// A password input with show/hide and a Caps Lock warning — the two things that cause most
// "wrong password" moments. The value lives only in the owning form's state.
import { useId, useState, type KeyboardEvent } from 'react';
import { passwordStrength } from '../lib/passwordStrength.ts';
import { Icon } from './Icon.tsx';

interface Props {
  label: string;
  value: string;
  onChange(v: string): void;
  autoFocus?: boolean;
  autoComplete: 'current-password' | 'new-password' | 'off';
  invalid?: boolean;
  describedBy?: string;
  name?: string;
}

export function PasswordField({ label, value, onChange, autoFocus, autoComplete, invalid, describedBy, name }: Props) {
  const id = useId();
  const capsId = useId();
  const [shown, setShown] = useState(false);
  const [caps, setCaps] = useState(false);
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => setCaps(e.getModifierState('CapsLock'));
  const described = [describedBy, caps ? capsId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="input-with-button">
        <input
          id={id}
          name={name}
          type={shown ? 'text' : 'password'}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKey}
          onKeyUp={onKey}
          autoFocus={autoFocus}
          autoComplete={autoComplete}
          spellCheck={false}
          autoCapitalize="off"
          aria-invalid={invalid || undefined}
          aria-describedby={described}
        />
        <button type="button" className="icon-button input-addon" aria-label={shown ? `Hide ${label.toLowerCase()}` : `Show ${label.toLowerCase()}`} aria-pressed={shown} onClick={() => setShown(!shown)}>
          <Icon name={shown ? 'eyeOff' : 'eye'} />
        </button>
      </div>
      {caps && (
        <p id={capsId} className="field-hint field-warning">
          Caps Lock is on.
        </p>
      )}
    </div>
  );
}

export function StrengthMeter({ password, id }: { password: string; id: string }) {
  const s = passwordStrength(password);
  return (
    <div className="strength" id={id}>
      <div className={`strength-bar strength-${s.score}`} aria-hidden="true">
        {[1, 2, 3, 4].map((i) => (
          <span key={i} className={i <= s.score ? 'on' : undefined} />
        ))}
      </div>
      <p className="field-hint" aria-live="polite">
        {password ? (
          <>
            <strong>{s.label}.</strong> {s.hint}
          </>
        ) : (
          'At least 8 characters. A passphrase of several random words is strong and memorable.'
        )}
      </p>
    </div>
  );
}
