// "Export signed report…": scope (all records, one case, or a captured-at range), purpose and
// recipient; core builds the signed report. The desktop app saves the zip where the user
// chooses; the browser shell downloads it. Progress streams from main as 'report' events.
// Once written, the dialog shows the fingerprint of the key the report carries: a report can be
// made with any key, so the recipient needs it from the analyst through another channel.
import { useEffect, useId, useState } from 'react';
import { getApi } from '../api/client.ts';
import { downloadBytes } from '../lib/download.ts';
import { plural } from '../lib/format.ts';
import { reportError } from '../stores/errors.ts';
import { useAudit } from '../stores/audit.ts';
import { useProgress } from '../stores/progress.ts';
import { useRecords } from '../stores/records.ts';
import { toast } from '../stores/toasts.ts';
import { Dialog } from './Dialog.tsx';
import { ProgressBar, Spinner } from './Feedback.tsx';
import { Icon } from './Icon.tsx';

type Scope = 'all' | 'case' | 'range';

const toIso = (local: string, endOfDay: boolean) => (local ? new Date(`${local}T${endOfDay ? '23:59:59.999' : '00:00:00'}`).toISOString() : undefined);

export function ReportDialog({ onClose }: { onClose(): void }) {
  const cases = useRecords((s) => s.facets.cases);
  const progress = useProgress((s) => s.byOp.report);
  const [scope, setScope] = useState<Scope>('all');
  const [caseName, setCaseName] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [purpose, setPurpose] = useState('');
  const [recipient, setRecipient] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ fileName: string; records: number; entries: number; vkeyFingerprint: string } | null>(null);
  const id = useId();

  useEffect(() => {
    void useRecords.getState().loadFacets();
  }, []);

  const ready = purpose.trim() !== '' && (scope !== 'case' || caseName !== '') && (scope !== 'range' || from !== '' || to !== '');

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const r = await getApi()['reports.export']({
        purpose: purpose.trim(),
        ...(recipient.trim() ? { recipient: recipient.trim() } : {}),
        ...(scope === 'case' ? { case: caseName } : {}),
        ...(scope === 'range' ? { from: toIso(from, false), to: toIso(to, true) } : {}),
      });
      if (!r) return; // the save dialog was cancelled
      if (r.data) downloadBytes(new Uint8Array(r.data), r.fileName, 'application/zip');
      void useAudit.getState().load();
      void useAudit.getState().loadStats();
      toast.success(`Signed report ${r.fileName}: ${plural(r.records, 'record')}, ${plural(r.entries, 'audit entry', 'audit entries')}.`);
      setDone({ fileName: r.fileName, records: r.records, entries: r.entries, vkeyFingerprint: r.vkeyFingerprint });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      reportError(e, 'The report could not be exported');
    } finally {
      setBusy(false);
    }
  }

  if (done)
    return (
      <Dialog
        title="Export signed report"
        description={`${done.fileName}: ${plural(done.records, 'record')}, ${plural(done.entries, 'audit entry', 'audit entries')}, signed.`}
        onClose={onClose}
        footer={
          <button type="button" className="button button-primary" data-autofocus onClick={onClose}>
            Done
          </button>
        }
      >
        <p>
          Anyone can check the report offline with <span className="mono">custody verify</span>. It carries the key it was signed with, so it proves only that it is
          consistent with that key: give the recipient this verifier key fingerprint through another channel (in person, by phone), to compare with the one{' '}
          <span className="mono">custody verify</span> prints.
        </p>
        <p className="field">
          <span className="field-hint">Verifier key fingerprint</span>
          <output className="mono" aria-label="Verifier key fingerprint">
            {done.vkeyFingerprint}
          </output>
        </p>
        <p className="muted small">
          The whole key, to pin with <span className="mono">custody verify --vkey</span>, is printed by <span className="mono">custody audit vkey</span>.
        </p>
      </Dialog>
    );

  return (
    <Dialog
      title="Export signed report"
      description="A chain-of-custody report: a signed PDF, every audit entry in scope with its proof, and a signed manifest. It can be verified offline by anyone."
      onClose={busy ? () => undefined : onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="button button-primary" onClick={() => void submit()} disabled={!ready || busy}>
            {busy ? <Spinner size={14} /> : <Icon name="download" size={14} />}
            Export report
          </button>
        </>
      }
    >
      <form
        className="report-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready && !busy) void submit();
        }}
      >
        <fieldset className="field">
          <legend>Scope</legend>
          {(
            [
              ['all', 'All records'],
              ['case', 'One case'],
              ['range', 'Records captured in a period'],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="radio">
              <input type="radio" name={`${id}-scope`} value={value} checked={scope === value} onChange={() => setScope(value)} disabled={busy} /> {label}
            </label>
          ))}
        </fieldset>
        {scope === 'case' && (
          <div className="field">
            <label htmlFor={`${id}-case`}>Case</label>
            <select id={`${id}-case`} value={caseName} onChange={(e) => setCaseName(e.target.value)} disabled={busy}>
              <option value="">Choose a case…</option>
              {cases.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
            {cases.length === 0 && <span className="field-hint">No record has a case yet.</span>}
          </div>
        )}
        {scope === 'range' && (
          <div className="field-row">
            <div className="field">
              <label htmlFor={`${id}-from`}>Captured from</label>
              <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} disabled={busy} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-to`}>Captured until</label>
              <input id={`${id}-to`} type="date" value={to} onChange={(e) => setTo(e.target.value)} disabled={busy} />
            </div>
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-purpose`}>Purpose</label>
          <input id={`${id}-purpose`} data-autofocus value={purpose} maxLength={500} onChange={(e) => setPurpose(e.target.value)} placeholder="e.g. Court filing 2026-77" disabled={busy} />
          <span className="field-hint">Printed on the cover and recorded in the audit log.</span>
        </div>
        <div className="field">
          <label htmlFor={`${id}-recipient`}>Recipient (optional)</label>
          <input id={`${id}-recipient`} value={recipient} maxLength={200} onChange={(e) => setRecipient(e.target.value)} placeholder="e.g. District court" disabled={busy} />
        </div>
        {busy && <ProgressBar label={progress?.label ? `Exporting: ${progress.label}…` : 'Exporting…'} event={progress} />}
        {error && !busy && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}
