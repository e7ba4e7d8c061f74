// Settings → Sync: the PostgreSQL server (its address is stored sealed in the vault; the
// password inside it is never shown again), status in plain words, "Sync now" with progress,
// an optional background interval, and the conflicts a person must settle.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { Settings, SyncConflictDetailView, SyncConflictView, SyncStatusView } from '../../../electron/shared/contract.ts';
import { getApi } from '../api/client.ts';
import { formatDateTime, plural } from '../lib/format.ts';
import { reportError } from '../stores/errors.ts';
import { useProgress } from '../stores/progress.ts';
import { useRecords } from '../stores/records.ts';
import { useSession } from '../stores/session.ts';
import { useSettings } from '../stores/settings.ts';
import { toast } from '../stores/toasts.ts';
import { ProgressBar, Spinner } from './Feedback.tsx';
import { Icon } from './Icon.tsx';

const INTERVALS = [0, 5, 15, 60];

function describe(s: SyncStatusView): string {
  if (!s.configured) return 'Not set up. Custody works fully offline; sync is optional.';
  // Changes the server made up or altered are refused, not applied (and are in the audit log).
  if (s.lastError?.startsWith('the server misbehaved: ')) return `The sync server misbehaved: ${s.lastError.slice('the server misbehaved: '.length)}. Nothing on this device was changed by it.`;
  if (s.lastError) return `${s.online ? 'Last sync failed' : 'Offline'}: ${s.lastError}. Your changes are kept and will be sent when the server can be reached${s.nextAttemptAt ? ` (next try ${formatDateTime(s.nextAttemptAt)})` : ''}.`;
  const last = s.lastSyncAt ? `Last synced ${formatDateTime(s.lastSyncAt)}.` : 'Not synced yet.';
  return `${last} ${s.pending ? `${plural(s.pending, 'change')} waiting to be sent.` : 'Everything is sent.'}`;
}

const show = (v: unknown): string => (v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

function Conflict({ c, onResolved }: { c: SyncConflictView; onResolved(): void }) {
  const [detail, setDetail] = useState<SyncConflictDetailView | null>(null);
  const [busy, setBusy] = useState(false);
  const resolve = async (keep: 'mine' | 'theirs') => {
    setBusy(true);
    try {
      await getApi()['sync.resolve']({ id: c.id, keep });
      toast.success(`Kept ${keep === 'mine' ? 'this device’s' : 'the other device’s'} version of “${c.title}”`);
      void useRecords.getState().run();
      onResolved();
    } catch (e) {
      reportError(e, 'The conflict could not be resolved');
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="sync-conflict">
      <div className="sync-conflict-head">
        <strong>{c.title}</strong>
        <span className="field-hint">
          {c.fields.includes('purged') ? 'purged on another device' : `both devices changed: ${c.fields.join(', ')}`} · {formatDateTime(c.createdAt)}
        </span>
      </div>
      {detail ? (
        <table className="sync-diff">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">This device</th>
              <th scope="col">Other device</th>
            </tr>
          </thead>
          <tbody>
            {c.fields.map((f) => (
              <tr key={f}>
                <th scope="row">{f}</th>
                <td>{show(detail.mine[f])}</td>
                <td>{detail.theirs ? show(detail.theirs[f]) : '(purged)'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <button type="button" className="button" onClick={() => void getApi()['sync.conflict']({ id: c.id }).then(setDetail, (e: unknown) => reportError(e, 'Could not load the conflict'))}>
          Compare versions
        </button>
      )}
      <div className="input-row">
        <button type="button" className="button" disabled={busy} onClick={() => void resolve('mine')}>
          Keep mine
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => void resolve('theirs')}>
          Keep theirs
        </button>
      </div>
    </li>
  );
}

export function SyncPanel({ settings }: { settings: Settings }) {
  const id = useId();
  const update = useSettings((s) => s.update);
  const progress = useProgress((s) => s.byOp.sync);
  const [status, setStatus] = useState<SyncStatusView | null>(null);
  const [conflicts, setConflicts] = useState<SyncConflictView[]>([]);
  const [url, setUrl] = useState('');
  // Desktop only: main asks for the server's CA certificate in its own file dialog (the window never names files).
  const native = useSession((s) => s.info?.nativeDialogs ?? false);
  const [withCa, setWithCa] = useState(false);
  const [busy, setBusy] = useState<'configure' | 'sync' | null>(null);

  const refresh = useCallback(async () => {
    try {
      setStatus(await getApi()['sync.status']({}));
      setConflicts((await getApi()['sync.conflicts']({})).filter((c) => c.status === 'open'));
    } catch (e) {
      reportError(e, 'Could not read the sync status');
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const configure = async (e: FormEvent) => {
    e.preventDefault();
    setBusy('configure');
    try {
      const { cancelled, ...next } = await getApi()['sync.configure']({ url: url.trim(), ...(native && withCa ? { caCertificateFromDialog: true } : {}) });
      setStatus(next);
      if (cancelled) return; // the certificate dialog was closed: nothing changed
      setUrl('');
      toast.success('Sync server saved (sealed in the vault)');
    } catch (err) {
      reportError(err, 'The sync server was not saved');
    } finally {
      setBusy(null);
    }
  };
  const syncNow = async () => {
    setBusy('sync');
    try {
      const r = await getApi()['sync.now']({});
      const parts = [`sent ${plural(r.pushed.records, 'record')}`, `received ${plural(r.pulled.records, 'record')}`];
      if (r.merged) parts.push(`merged ${plural(r.merged, 'edit')}`);
      if (r.problems.length) toast.error(`The sync server misbehaved (nothing here was changed by it): ${r.problems[0]!.message}`);
      else if (r.conflicts) toast.error(`${plural(r.conflicts, 'conflict')} to settle below`);
      else toast.success(`Synced: ${parts.join(', ')}`);
      void useRecords.getState().run();
    } catch (e) {
      reportError(e, 'Sync failed');
    } finally {
      setBusy(null);
      void refresh();
    }
  };

  return (
    <section className="card settings-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Sync</h2>
      <p className="field-hint">Share this vault’s encrypted records with your other devices through a PostgreSQL server. The server only ever holds ciphertext and signed audit entries.</p>
      {status ? (
        <p role="status" className={status.lastError ? 'field-error' : undefined}>
          <Icon name={status.configured && !status.lastError ? 'shieldCheck' : 'info'} size={14} /> {status.configured && status.server ? <strong>{status.server}</strong> : null} {describe(status)}
        </p>
      ) : (
        <Spinner label="Reading sync status…" />
      )}
      <form className="inline-form" onSubmit={(e) => void configure(e)}>
        <div className="field">
          <label htmlFor={`${id}-url`}>{status?.configured ? 'Replace server' : 'Server'} (connection string)</label>
          <div className="input-row">
            <input id={`${id}-url`} type="password" autoComplete="off" spellCheck={false} placeholder="postgresql://analyst:…@server:5432/custody?sslmode=verify-full" value={url} onChange={(e) => setUrl(e.target.value)} />
            <button type="submit" className="button" disabled={!url.trim() || busy !== null}>
              {busy === 'configure' ? <Spinner size={14} /> : null}
              Save
            </button>
          </div>
          {native && (
            <label className="checkbox">
              <input type="checkbox" checked={withCa} onChange={(e) => setWithCa(e.target.checked)} />
              <span>Choose the server’s CA certificate when saving (if its certificate is not from a public CA)</span>
            </label>
          )}
          <span className="field-hint">
            Your administrator gives you this (custody server add-analyst). A server on another machine needs sslmode=verify-full. Certificate files cannot be named in the connection string: {native ? 'tick the box above to choose the CA certificate, or use' : 'use'} the command line (custody sync configure --ssl-root-cert &lt;file&gt;).
          </span>
        </div>
      </form>
      {status?.configured && (
        <>
          <div className="input-row">
            <button type="button" className="button button-primary" onClick={() => void syncNow()} disabled={busy !== null}>
              {busy === 'sync' ? <Spinner size={14} /> : <Icon name="restore" size={14} />}
              Sync now
            </button>
            <label htmlFor={`${id}-int`}>Sync automatically</label>
            <select id={`${id}-int`} value={settings.syncIntervalMinutes} onChange={(e) => void update({ syncIntervalMinutes: Number(e.target.value) })}>
              {INTERVALS.map((m) => (
                <option key={m} value={m}>
                  {m === 0 ? 'Only when I ask' : `Every ${m} minutes`}
                </option>
              ))}
            </select>
          </div>
          {busy === 'sync' && <ProgressBar label={progress?.label ? `Syncing: ${progress.label}…` : 'Syncing…'} event={progress} />}
        </>
      )}
      {conflicts.length > 0 && (
        <>
          <h3>Conflicts ({conflicts.length})</h3>
          <p className="field-hint">Both devices changed the same fields. Nothing was overwritten: pick the version to keep; the other stays in the record’s history.</p>
          <ul className="sync-conflicts" aria-label="Sync conflicts">
            {conflicts.map((c) => (
              <Conflict key={c.id} c={c} onResolved={() => void refresh()} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
