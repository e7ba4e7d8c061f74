// Settings → Sharing: this vault's reviewer identity (recipient and fingerprint to read out),
// the address book of reviewers' recipients, and the sharing policies (docs/sharing.md).
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { CLASSIFICATIONS } from '../../../electron/shared/records.ts';
import { DEFAULT_SHARING_POLICY, POLICY_LABELS, type IdentityView, type RecipientView, type SharingPolicy } from '../../../electron/shared/sharing.ts';
import { getApi } from '../api/client.ts';
import { toApiError } from '../lib/errors.ts';
import { formatDateTime } from '../lib/format.ts';
import { reportError } from '../stores/errors.ts';
import { toast } from '../stores/toasts.ts';
import { ConfirmDialog } from './Dialog.tsx';
import { FormError, Spinner } from './Feedback.tsx';

function IdentityCard() {
  const id = useId();
  const [identity, setIdentity] = useState<IdentityView | null | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    getApi()['sharing.identity']({}).then(setIdentity, (e: unknown) => {
      setIdentity(null);
      reportError(e, 'Could not read the reviewer identity');
    });
  }, []);
  const create = async (replace: boolean) => {
    setBusy(true);
    try {
      setIdentity(await getApi()['sharing.createIdentity']({ replace }));
      toast.success(replace ? 'New reviewer identity created; the old one is retired' : 'Reviewer identity created');
    } catch (e) {
      reportError(e, 'Could not create the identity');
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    if (!identity) return;
    try {
      await navigator.clipboard.writeText(identity.recipient);
      toast.success('Recipient copied');
    } catch {
      toast.error('Copy failed: select the recipient and copy it by hand');
    }
  };
  return (
    <section className="card settings-card sharing-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Reviewer identity</h2>
      <p className="muted small">Others send you disclosures encrypted to this recipient (age, post-quantum ML-KEM-768 + X25519). Read them the fingerprint so they can check it.</p>
      {identity === undefined ? (
        <Spinner label="Loading…" />
      ) : identity ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-fp`}>Fingerprint</label>
            <output id={`${id}-fp`} className="fingerprint" data-testid="identity-fingerprint">
              {identity.fingerprint}
            </output>
          </div>
          <div className="field">
            <label htmlFor={`${id}-rcpt`}>Recipient</label>
            <textarea id={`${id}-rcpt`} className="recipient-text" readOnly rows={3} value={identity.recipient} data-testid="identity-recipient" />
          </div>
          <div className="input-row">
            <button type="button" className="button" onClick={() => void copy()}>
              Copy recipient
            </button>
            <button type="button" className="button" disabled={busy} onClick={() => setConfirming(true)}>
              Replace identity…
            </button>
          </div>
          <p className="field-hint">Created {formatDateTime(identity.createdAt)}. A replaced identity still opens what was sent to it.</p>
          {confirming && (
            <ConfirmDialog
              title="Replace the reviewer identity?"
              message="People who send you disclosures must then use the new recipient (check its new fingerprint with them). Packages already sent to the current one still open."
              confirmLabel="Replace"
              onCancel={() => setConfirming(false)}
              onConfirm={() => {
                setConfirming(false);
                void create(true);
              }}
            />
          )}
        </>
      ) : (
        <button type="button" className="button button-primary" disabled={busy} onClick={() => void create(false)}>
          {busy && <Spinner size={14} />} Create reviewer identity
        </button>
      )}
    </section>
  );
}

function AddressBook() {
  const id = useId();
  const [list, setList] = useState<RecipientView[] | null>(null);
  const [name, setName] = useState('');
  const [recipient, setRecipient] = useState('');
  const [note, setNote] = useState('');
  const [allowClassical, setAllowClassical] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => {
    getApi()['sharing.recipients']({}).then(setList, (e: unknown) => reportError(e, 'Could not read the address book'));
  }, []);
  useEffect(load, [load]);
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await getApi()['sharing.addRecipient']({ name, recipient: recipient.trim(), ...(note.trim() ? { note: note.trim() } : {}), ...(allowClassical ? { allowClassical } : {}) });
      if (r.warning) toast.error(`Added “${r.entry.name}”, but ${r.warning}`);
      else toast.success(`Added “${r.entry.name}” (${r.entry.fingerprint})`);
      setName('');
      setRecipient('');
      setNote('');
      setAllowClassical(false);
      load();
    } catch (err) {
      setError(toApiError(err).message);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (r: RecipientView) => {
    try {
      await getApi()['sharing.removeRecipient']({ fingerprint: r.fingerprint });
      toast.success(`Removed “${r.name}”`);
      load();
    } catch (e) {
      reportError(e, 'Could not remove the recipient');
    }
  };
  return (
    <section className="card settings-card sharing-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Address book</h2>
      <p className="muted small">Reviewers you disclose to. Names and notes are encrypted in the vault; the audit log names recipients only by fingerprint.</p>
      {list === null ? (
        <Spinner label="Loading…" />
      ) : list.length === 0 ? (
        <p className="field-hint">No recipients yet.</p>
      ) : (
        <ul className="recipient-list" aria-label="Recipients">
          {list.map((r) => (
            <li key={r.id} className="recipient-item">
              <div>
                <strong>{r.name}</strong> <code className="fingerprint">{r.fingerprint}</code>
                {r.type === 'x25519' && <span className="badge badge-warning"> classical, not post-quantum</span>}
                {r.note && <div className="field-hint">{r.note}</div>}
              </div>
              <button type="button" className="button" aria-label={`Remove ${r.name}`} onClick={() => void remove(r)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="stack-form" onSubmit={(e) => void add(e)} aria-label="Add a recipient">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-r`}>Recipient (age1pq1…)</label>
          <textarea id={`${id}-r`} rows={2} value={recipient} onChange={(e) => setRecipient(e.target.value)} spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-note`}>Note (optional)</label>
          <input id={`${id}-note`} value={note} maxLength={1000} onChange={(e) => setNote(e.target.value)} />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={allowClassical} onChange={(e) => setAllowClassical(e.target.checked)} />
          <span>
            Accept a classical X25519 recipient (age1…)
            <span className="field-hint">Not post-quantum: what is sent to it could be opened later by someone who records it now.</span>
          </span>
        </label>
        {error && <FormError>{error}</FormError>}
        <div>
          <button type="submit" className="button button-primary" disabled={busy || !name.trim() || !recipient.trim()}>
            Add recipient
          </button>
        </div>
      </form>
    </section>
  );
}

const asDays = (v: string): number | null | 'bad' => (v.trim() === '' ? null : /^\d{1,5}$/.test(v.trim()) && Number(v) >= 1 ? Number(v) : 'bad');

function PolicyCard() {
  const id = useId();
  const [policy, setPolicy] = useState<SharingPolicy | null>(null);
  const [draft, setDraft] = useState({ maxRangeDays: '', maxExpiryDays: '' });
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getApi()['sharing.policy']({}).then(
      (p) => {
        setPolicy(p);
        setDraft({ maxRangeDays: p.maxRangeDays?.toString() ?? '', maxExpiryDays: p.maxExpiryDays?.toString() ?? '' });
      },
      (e: unknown) => setError(toApiError(e).message),
    );
  }, []);
  const save = async (patch: Partial<SharingPolicy>) => {
    setError(null);
    try {
      const r = await getApi()['sharing.setPolicy'](patch);
      setPolicy(r.policy);
      setDraft({ maxRangeDays: r.policy.maxRangeDays?.toString() ?? '', maxExpiryDays: r.policy.maxExpiryDays?.toString() ?? '' });
      if (r.changed.length) toast.success(`Policy changed: ${r.changed.map((k) => POLICY_LABELS[k]).join(', ')}`);
    } catch (e) {
      setError(toApiError(e).message);
    }
  };
  const saveNumbers = (e: FormEvent) => {
    e.preventDefault();
    const range = asDays(draft.maxRangeDays);
    const expiry = asDays(draft.maxExpiryDays);
    if (range === 'bad' || expiry === 'bad') return setError('Enter whole days (1 or more), or leave empty for no limit.');
    void save({ maxRangeDays: range, maxExpiryDays: expiry });
  };
  const p = policy ?? DEFAULT_SHARING_POLICY;
  return (
    <section className="card settings-card sharing-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Sharing policies</h2>
      <p className="muted small">What a disclosure may carry. A request that breaks one is refused, and the refusal is in the audit log.</p>
      {!policy && !error ? (
        <Spinner label="Loading…" />
      ) : (
        <>
          <label className="checkbox">
            <input type="checkbox" checked={p.purposeRequired} disabled={!policy} onChange={(e) => void save({ purposeRequired: e.target.checked })} />
            <span>Purpose required</span>
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={p.addressBookOnly} disabled={!policy} onChange={(e) => void save({ addressBookOnly: e.target.checked })} />
            <span>Recipients only from the address book</span>
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={p.attachmentsAllowed} disabled={!policy} onChange={(e) => void save({ attachmentsAllowed: e.target.checked })} />
            <span>Attachments allowed</span>
          </label>
          <div className="field">
            <label htmlFor={`${id}-class`}>Maximum classification</label>
            <select id={`${id}-class`} value={p.maxClassification ?? ''} disabled={!policy} onChange={(e) => void save({ maxClassification: (e.target.value || null) as SharingPolicy['maxClassification'] })}>
              <option value="">No limit</option>
              {CLASSIFICATIONS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
          <form className="inline-form" onSubmit={saveNumbers}>
            <div className="input-row">
              <div className="field field-compact">
                <label htmlFor={`${id}-range`}>Maximum range (days)</label>
                <input id={`${id}-range`} className="input-narrow" inputMode="numeric" placeholder="no limit" value={draft.maxRangeDays} onChange={(e) => setDraft({ ...draft, maxRangeDays: e.target.value })} />
              </div>
              <div className="field field-compact">
                <label htmlFor={`${id}-exp`}>Maximum expiry (days)</label>
                <input id={`${id}-exp`} className="input-narrow" inputMode="numeric" placeholder="no limit" value={draft.maxExpiryDays} onChange={(e) => setDraft({ ...draft, maxExpiryDays: e.target.value })} />
              </div>
              <button type="submit" className="button button-align-end" disabled={!policy}>
                Apply
              </button>
            </div>
          </form>
        </>
      )}
      {error && <FormError>{error}</FormError>}
    </section>
  );
}

export function SharingPanel() {
  return (
    <>
      <IdentityCard />
      <AddressBook />
      <PolicyCard />
    </>
  );
}
