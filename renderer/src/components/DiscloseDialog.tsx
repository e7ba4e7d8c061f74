// "Disclose…": grant reviewers a period (whole days), a case, the open record or the current
// search results, as an age-encrypted package the user saves and sends (docs/sharing.md).
// Policies are checked in core; a refusal names the policy and is in the audit log.
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { DisclosureIssuedView, DiscloseRequest, RecipientView } from '../../../electron/shared/sharing.ts';
import { CLASSIFICATIONS, type Classification } from '../../../electron/shared/records.ts';
import { getApi } from '../api/client.ts';
import { downloadBytes } from '../lib/download.ts';
import { toApiError } from '../lib/errors.ts';
import { plural } from '../lib/format.ts';
import { Dialog } from './Dialog.tsx';
import { FormError, Spinner } from './Feedback.tsx';

export type DiscloseScope = 'period' | 'case' | 'records';

export interface DisclosePreset {
  from?: string;
  until?: string;
  case?: string;
  tag?: string;
  maxClassification?: Classification;
  /** The open record, or the current search's results. */
  records?: string[];
  recordsLabel?: string;
  scope?: DiscloseScope;
}

const today = () => new Date().toISOString().slice(0, 10);

export function DiscloseDialog({ preset = {}, onClose }: { preset?: DisclosePreset; onClose(): void }) {
  const id = useId();
  const [book, setBook] = useState<RecipientView[] | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [typed, setTyped] = useState('');
  const [scope, setScope] = useState<DiscloseScope>(preset.scope ?? (preset.records?.length ? 'records' : preset.case ? 'case' : 'period'));
  const [from, setFrom] = useState(preset.from ?? today());
  const [until, setUntil] = useState(preset.until ?? preset.from ?? today());
  const [caseName, setCaseName] = useState(preset.case ?? '');
  const [maxClass, setMaxClass] = useState<Classification | ''>(preset.maxClassification ?? '');
  const [withAttachments, setWithAttachments] = useState(false);
  const [allowClassical, setAllowClassical] = useState(false);
  const [deliver, setDeliver] = useState(false);
  const [purpose, setPurpose] = useState('');
  const [expires, setExpires] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<DisclosureIssuedView | null>(null);

  useEffect(() => {
    getApi()['sharing.recipients']({}).then(setBook, (e: unknown) => setError(toApiError(e).message));
  }, []);

  const to = [...chosen, ...typed.split(/\s+/).filter(Boolean)];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (to.length === 0) return setError('Choose at least one recipient.');
    const request: DiscloseRequest = {
      to,
      from,
      until,
      purpose,
      ...(scope === 'case' && caseName.trim() ? { case: caseName.trim() } : {}),
      ...(scope === 'records' && preset.records?.length ? { records: preset.records } : {}),
      ...(preset.tag && scope !== 'records' ? { tags: [preset.tag] } : {}),
      ...(maxClass ? { maxClassification: maxClass } : {}),
      ...(withAttachments ? { withAttachments } : {}),
      ...(allowClassical ? { allowClassical } : {}),
      ...(expires ? { expires } : {}),
      ...(deliver ? { deliver } : {}),
    };
    setBusy(true);
    try {
      const r = await getApi()['disclosures.issue'](request);
      downloadBytes(r.data, r.fileName);
      setDone(r);
    } catch (err) {
      setError(toApiError(err).message);
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <Dialog
        title="Disclosure issued"
        onClose={onClose}
        footer={
          <>
            <button type="button" className="button" onClick={() => downloadBytes(done.data, done.fileName)}>
              Save again
            </button>
            <button type="button" className="button button-primary" onClick={onClose} data-autofocus>
              Done
            </button>
          </>
        }
      >
        <div role="status" className="disclose-done">
          <p>
            <strong>{done.fileName}</strong>: {plural(done.records, 'record')}
            {done.attachments ? ` and ${plural(done.attachments, 'attachment')}` : ''} of {done.days[0]} to {done.days.at(-1)} ({done.scope === 'days' ? 'the keys of whole days' : 'only the selected records’ keys'}).
          </p>
          <p>Expires {done.expiresAt ?? 'never'}. Grant {done.grantId}.</p>
          <p>
            Tell the reviewer through another channel this device key fingerprint, which they check when they open it: <code className="fingerprint">{done.issuerFingerprint}</code>
          </p>
          {done.delivered && <p>Delivered through the sync server: {done.delivered.length === 1 ? 'one envelope waits' : `${done.delivered.length} envelopes wait`} for the recipients (Disclosures → Envelopes shows when they are opened).</p>}
          {!done.postQuantum && <p className="field-error">A recipient is classical X25519: this package is not post-quantum.</p>}
        </div>
      </Dialog>
    );

  return (
    <Dialog
      title="Disclose…"
      description="Grant reviewers exactly this material, encrypted to them. Every disclosure is in the audit log."
      onClose={onClose}
      size="large"
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={`${id}-form`} className="button button-primary" disabled={busy}>
            {busy && <Spinner size={14} />} Issue and save package
          </button>
        </>
      }
    >
      <form id={`${id}-form`} className="stack-form" onSubmit={(e) => void submit(e)}>
        <fieldset>
          <legend>Recipients</legend>
          {book === null ? (
            <Spinner label="Loading the address book…" />
          ) : book.length === 0 ? (
            <p className="field-hint">The address book is empty (Settings → Sharing). You can paste a recipient below.</p>
          ) : (
            book.map((r) => (
              <label key={r.id} className="checkbox">
                <input type="checkbox" checked={chosen.includes(r.name)} onChange={(e) => setChosen(e.target.checked ? [...chosen, r.name] : chosen.filter((n) => n !== r.name))} />
                <span>
                  {r.name} <code className="fingerprint">{r.fingerprint}</code>
                  {r.type === 'x25519' && ' (classical)'}
                </span>
              </label>
            ))
          )}
          <div className="field">
            <label htmlFor={`${id}-typed`}>Or recipients (age1pq1…)</label>
            <textarea id={`${id}-typed`} rows={2} value={typed} onChange={(e) => setTyped(e.target.value)} spellCheck={false} />
          </div>
          <label className="checkbox">
            <input type="checkbox" checked={allowClassical} onChange={(e) => setAllowClassical(e.target.checked)} />
            <span>Allow classical X25519 recipients (not post-quantum)</span>
          </label>
        </fieldset>
        <fieldset>
          <legend>What</legend>
          <div className="segmented" role="radiogroup" aria-label="Scope">
            {(
              [
                ['period', 'Whole days'],
                ['case', 'A case'],
                ...(preset.records?.length ? [['records', preset.recordsLabel ?? plural(preset.records.length, 'selected record')]] : []),
              ] as [DiscloseScope, string][]
            ).map(([v, label]) => (
              <label key={v} className={scope === v ? 'checked' : undefined}>
                <input type="radio" name={`${id}-scope`} value={v} checked={scope === v} onChange={() => setScope(v)} />
                {label}
              </label>
            ))}
          </div>
          <div className="input-row">
            <div className="field field-compact">
              <label htmlFor={`${id}-from`}>From (UTC day)</label>
              <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
            </div>
            <div className="field field-compact">
              <label htmlFor={`${id}-until`}>Until (UTC day)</label>
              <input id={`${id}-until`} type="date" value={until} onChange={(e) => setUntil(e.target.value)} required />
            </div>
          </div>
          {scope === 'case' && (
            <div className="field">
              <label htmlFor={`${id}-case`}>Case</label>
              <input id={`${id}-case`} value={caseName} onChange={(e) => setCaseName(e.target.value)} required />
            </div>
          )}
          <div className="field">
            <label htmlFor={`${id}-class`}>Only records up to classification</label>
            <select id={`${id}-class`} value={maxClass} onChange={(e) => setMaxClass(e.target.value as Classification | '')}>
              <option value="">Any</option>
              {CLASSIFICATIONS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
          <label className="checkbox">
            <input type="checkbox" checked={withAttachments} onChange={(e) => setWithAttachments(e.target.checked)} />
            <span>Include attachments</span>
          </label>
          <p className="field-hint">
            {scope === 'period' && !maxClass && !preset.tag ? 'Whole days: the reviewer gets the keys of these days and can open every record captured on them.' : 'Narrowed: only the matching records’ own keys travel.'}
          </p>
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-purpose`}>Purpose</label>
          <textarea id={`${id}-purpose`} rows={2} maxLength={1000} value={purpose} onChange={(e) => setPurpose(e.target.value)} />
          <p className="field-hint">In the signed grant the reviewer sees; the audit log keeps only a commitment to it.</p>
        </div>
        <div className="field field-compact">
          <label htmlFor={`${id}-exp`}>Expires (last UTC day, optional)</label>
          <input id={`${id}-exp`} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={deliver} onChange={(e) => setDeliver(e.target.checked)} />
          <span>
            Also deliver through the sync server
            <span className="field-hint">Each recipient must have published their recipient there. Until it is opened you can withdraw it.</span>
          </span>
        </label>
        {error && <FormError>{error}</FormError>}
      </form>
    </Dialog>
  );
}
