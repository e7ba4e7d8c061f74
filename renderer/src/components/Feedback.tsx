// Progress, spinners, empty states and the toast stack.
import type { ReactNode } from 'react';
import type { ProgressEvent } from '../../../electron/shared/contract.ts';
import { fraction } from '../stores/progress.ts';
import { useToasts } from '../stores/toasts.ts';
import { Icon, type IconName } from './Icon.tsx';

export function Spinner({ label, size = 16 }: { label?: string; size?: number }) {
  return (
    <span className="spinner-wrap" role={label ? 'status' : undefined}>
      <span className="spinner" style={{ width: size, height: size }} aria-hidden="true" />
      {label && <span className="spinner-label">{label}</span>}
    </span>
  );
}

/** A form's error, announced to screen readers. */
export function FormError({ id, children }: { id?: string; children: ReactNode }) {
  return (
    <p id={id} className="form-error" role="alert">
      <Icon name="alert" size={14} /> {children}
    </p>
  );
}

/** A submit button's label: a spinner and what is happening while busy, else the action. */
export function BusyLabel({ busy, busyText, children }: { busy: boolean; busyText: string; children: ReactNode }) {
  return busy ? (
    <>
      <Spinner size={14} /> {busyText}
    </>
  ) : (
    children
  );
}

/** Determinate when main reports a total, indeterminate otherwise. */
export function ProgressBar({ label, event, compact }: { label: string; event?: ProgressEvent; compact?: boolean }) {
  const f = fraction(event);
  const pct = f === null ? undefined : Math.round(f * 100);
  return (
    <div className={`progress${compact ? ' progress-compact' : ''}`}>
      <div className="progress-text">
        <span className="progress-label">
          {label}
          {event?.label && !label.includes(event.label) && <span className="progress-detail"> · {event.label}</span>}
        </span>
        {pct !== undefined && <span className="progress-pct">{pct}%</span>}
      </div>
      <div className={`progress-track${pct === undefined ? ' indeterminate' : ''}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div className="progress-fill" style={pct === undefined ? undefined : { transform: `scaleX(${pct / 100})` }} />
      </div>
    </div>
  );
}

export function EmptyState({ icon, title, children, actions }: { icon: IconName; title: string; children?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="empty-state">
      <div className="empty-icon">
        <Icon name={icon} size={28} />
      </div>
      <h2>{title}</h2>
      {children && <p>{children}</p>}
      {actions && <div className="empty-actions">{actions}</div>}
    </div>
  );
}

export function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  const dismiss = useToasts((s) => s.dismiss);
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <Icon name={t.kind === 'error' ? 'alert' : t.kind === 'success' ? 'check' : 'info'} className="toast-icon" />
          <span className="toast-message">{t.message}</span>
          {t.action && (
            <button
              type="button"
              className="button button-small button-ghost"
              onClick={() => {
                t.action?.run();
                dismiss(t.id);
              }}
            >
              {t.action.label}
            </button>
          )}
          <button type="button" className="icon-button icon-button-small" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
            <Icon name="close" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
