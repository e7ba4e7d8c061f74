// Disclosures: "Open disclosure…" (a package file the user picks, verified and imported into
// the read-only received area), what was received (the grant — who, why, which days, until
// when — always shown above its material), and what this vault issued.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RecordSummary } from '../../../electron/shared/records.ts';
import type { EnvelopeInfo, IssuedGrantInfo, ReceivedGrantInfo, ReceivedRecordInfo } from '../../../electron/shared/sharing.ts';
import { getApi } from '../api/client.ts';
import { DiscloseDialog } from '../components/DiscloseDialog.tsx';
import { EmptyState, Spinner } from '../components/Feedback.tsx';
import { Icon } from '../components/Icon.tsx';
import { readFileBytes } from '../lib/download.ts';
import { toApiError } from '../lib/errors.ts';
import { formatDateTime, plural } from '../lib/format.ts';
import { reportError } from '../stores/errors.ts';
import { toast } from '../stores/toasts.ts';

function GrantBanner({ g }: { g: ReceivedGrantInfo }) {
  return (
    <section className={`card grant-banner${g.expired ? ' grant-expired' : ''}`} aria-label="Grant" data-testid="grant-banner">
      <h2>
        {g.from === g.until ? g.from : `${g.from} to ${g.until}`} {g.expired && <span className="badge badge-warning">expired</span>}
      </h2>
      <dl className="grant-facts">
        <dt>Purpose</dt>
        <dd>{g.purpose || '—'}</dd>
        <dt>Issued by</dt>
        <dd>
          device key <code className="fingerprint">{g.issuerFingerprint}</code> of vault {g.issuerVaultId}, {formatDateTime(g.issuedAt)}
        </dd>
        <dt>Until</dt>
        <dd>{g.expiresAt ? formatDateTime(g.expiresAt) : 'no expiry'}</dd>
        <dt>Scope</dt>
        <dd>
          {g.scope === 'days' ? 'whole days' : 'selected records'}
          {g.filters.case ? `, case “${g.filters.case}”` : ''}
          {g.filters.tags?.length ? `, tags ${g.filters.tags.join(', ')}` : ''}
          {g.filters.maxClassification ? `, up to ${g.filters.maxClassification}` : ''} · {plural(g.records, 'record')}
        </dd>
        <dt>To</dt>
        <dd>{g.recipients.map((r) => r.fingerprint).join(', ')}{g.postQuantum ? '' : ' (not post-quantum)'}</dd>
      </dl>
      <p className="field-hint">Read-only. Compare the device key fingerprint with the one the issuer gave you. Every record you view is in your audit log, naming this grant.</p>
    </section>
  );
}

function ReceivedRecord({ grantId, recordId, onBack }: { grantId: string; recordId: string; onBack(): void }) {
  const [view, setView] = useState<ReceivedRecordInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getApi()['disclosures.viewReceived']({ grantId, recordId }).then(setView, (e: unknown) => setError(toApiError(e).message));
  }, [grantId, recordId]);
  if (error) return <p className="field-error">{error}</p>;
  if (!view) return <Spinner label="Opening…" />;
  const r = view.record;
  return (
    <article className="card received-record" aria-label="Received record">
      <button type="button" className="button" onClick={onBack}>
        Back to the grant’s records
      </button>
      <h2>{r.title}</h2>
      <p className="muted small">
        {r.kind} · captured {formatDateTime(r.capturedAt)} · {r.classification}
        {r.case ? ` · case ${r.case}` : ''}
        {r.tags.length ? ` · ${r.tags.join(', ')}` : ''} · version {r.version}
      </p>
      <div className="received-body">{r.body}</div>
      {view.attachments.length > 0 && (
        <ul className="muted small">
          {view.attachments.map((a) => (
            <li key={a.id}>
              {a.name} ({a.size} bytes, SHA-256 {a.sha256.slice(0, 16)}…)
            </li>
          ))}
        </ul>
      )}
      <h3>Issuer’s audit trail ({plural(view.audit.length, 'entry', 'entries')}, verified)</h3>
      <ol className="received-audit">
        {view.audit.map((a) => {
          const e = a.entry ? (JSON.parse(a.entry) as { event?: string; time?: string }) : null;
          return <li key={a.seq}>{e ? `#${a.seq} ${e.event ?? ''} ${e.time ? formatDateTime(e.time) : ''}` : `#${a.seq} (pruned by retention)`}</li>;
        })}
      </ol>
    </article>
  );
}

function Received({ refreshKey }: { refreshKey: number }) {
  const [grants, setGrants] = useState<ReceivedGrantInfo[] | null>(null);
  const [open, setOpen] = useState<{ grant: ReceivedGrantInfo; records: RecordSummary[] } | null>(null);
  const [record, setRecord] = useState<string | null>(null);
  useEffect(() => {
    getApi()['disclosures.received']({}).then(setGrants, (e: unknown) => reportError(e, 'Could not list received disclosures'));
  }, [refreshKey]);
  const show = (grantId: string) => {
    setRecord(null);
    getApi()['disclosures.receivedGrant']({ grantId }).then(setOpen, (e: unknown) => reportError(e, 'Could not open the grant'));
  };
  if (grants === null) return <Spinner label="Loading…" />;
  if (grants.length === 0) return <EmptyState icon="download" title="Nothing received yet">Use “Open disclosure…” to open a package someone sent you.</EmptyState>;
  return (
    <div className="disclosures-split">
      <ul className="received-list" aria-label="Received disclosures">
        {grants.map((g) => (
          <li key={g.grantId}>
            <button type="button" className="nav-item" aria-current={open?.grant.grantId === g.grantId ? 'true' : undefined} onClick={() => show(g.grantId)}>
              {g.from === g.until ? g.from : `${g.from} – ${g.until}`} · {plural(g.records, 'record')}
              {g.expired ? ' · expired' : ''}
            </button>
          </li>
        ))}
      </ul>
      <div className="received-pane">
        {open && (
          <>
            <GrantBanner g={open.grant} />
            {record ? (
              <ReceivedRecord grantId={open.grant.grantId} recordId={record} onBack={() => setRecord(null)} />
            ) : open.grant.expired ? (
              <p className="field-error">This grant has expired: its material can no longer be opened.</p>
            ) : (
              <ul className="received-records" aria-label="Records of the grant">
                {open.records.map((r) => (
                  <li key={r.id}>
                    <button type="button" className="button button-link" onClick={() => setRecord(r.id)}>
                      {r.title}
                    </button>{' '}
                    <span className="muted small">
                      {formatDateTime(r.capturedAt)} · {r.classification}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
    </div>
  );
}

function Issued({ refreshKey }: { refreshKey: number }) {
  const [grants, setGrants] = useState<IssuedGrantInfo[] | null>(null);
  useEffect(() => {
    getApi()['disclosures.issued']({}).then(setGrants, (e: unknown) => reportError(e, 'Could not list issued disclosures'));
  }, [refreshKey]);
  if (grants === null) return <Spinner label="Loading…" />;
  if (grants.length === 0) return <EmptyState icon="upload" title="Nothing issued yet">“Disclose…” grants a reviewer a period, a case or chosen records.</EmptyState>;
  return (
    <table className="issued-table" aria-label="Issued disclosures">
      <thead>
        <tr>
          <th scope="col">Days</th>
          <th scope="col">Records</th>
          <th scope="col">To</th>
          <th scope="col">Purpose</th>
          <th scope="col">Expires</th>
          <th scope="col">Acknowledged</th>
        </tr>
      </thead>
      <tbody>
        {grants.map((g) => (
          <tr key={g.grantId}>
            <td>{g.from === g.until ? g.from : `${g.from} – ${g.until}`}</td>
            <td>{g.records}</td>
            <td>{g.recipients.map((r) => r.fingerprint).join(', ')}</td>
            <td>{g.purpose}</td>
            <td>{g.expiresAt ? formatDateTime(g.expiresAt) : 'never'}{g.expired ? ' (expired)' : ''}</td>
            <td>{g.acknowledgements.length ? formatDateTime(g.acknowledgements[0]!.importedAt) : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Envelopes({ refreshKey, onOpened }: { refreshKey: number; onOpened(): void }) {
  const [inbox, setInbox] = useState<EnvelopeInfo[] | null>(null);
  const [sent, setSent] = useState<EnvelopeInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const load = useCallback(() => {
    setError(null);
    Promise.all([getApi()['envelopes.list']({ box: 'inbox' }), getApi()['envelopes.list']({ box: 'sent' })]).then(
      ([i, s]) => {
        setInbox(i);
        setSent(s);
      },
      (e: unknown) => setError(toApiError(e).message),
    );
  }, []);
  useEffect(load, [load, refreshKey]);
  const act = async (id: string, what: 'open' | 'withdraw' | 'publish') => {
    setBusy(id);
    try {
      if (what === 'open') {
        const r = await getApi()['envelopes.open']({ id });
        toast.success(`Opened a disclosure of ${plural(r.records, 'record')} (${r.grant.from} to ${r.grant.until})`);
        onOpened();
      } else if (what === 'withdraw') {
        await getApi()['envelopes.withdraw']({ id });
        toast.success('Withdrawn: the recipient can no longer fetch it');
      } else {
        const r = await getApi()['envelopes.publish']({});
        toast.success(r.published ? `Published your recipient (${r.fingerprint}) on the sync server` : 'Your recipient was already published');
      }
      load();
    } catch (e) {
      reportError(e, what === 'open' ? 'The envelope was refused' : 'That did not work');
    } finally {
      setBusy(null);
    }
  };
  if (error) return <p className="field-hint">Delivery through the sync server: {error}</p>;
  if (!inbox || !sent) return <Spinner label="Asking the sync server…" />;
  return (
    <div className="envelopes">
      <section aria-label="Envelopes waiting for you">
        <h2>Waiting for you</h2>
        <button type="button" className="button" disabled={busy !== null} onClick={() => void act('', 'publish')}>
          Publish my recipient on the server
        </button>
        {inbox.length === 0 ? (
          <p className="field-hint">No envelopes wait for you.</p>
        ) : (
          <ul className="received-records">
            {inbox.map((e) => (
              <li key={e.id}>
                From {e.issuer}, {formatDateTime(e.createdAt)} · {e.status}
                {e.expiresAt ? ` · expires ${formatDateTime(e.expiresAt)}` : ''}{' '}
                <button type="button" className="button" disabled={busy !== null} onClick={() => void act(e.id, 'open')}>
                  Open
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-label="Envelopes you sent">
        <h2>Sent</h2>
        {sent.length === 0 ? (
          <p className="field-hint">You have sent no envelopes.</p>
        ) : (
          <ul className="received-records">
            {sent.map((e) => (
              <li key={e.id}>
                To {e.recipientRole} (<code className="fingerprint">{e.recipientFingerprint}</code>), {formatDateTime(e.createdAt)} · <strong>{e.status}</strong>
                {e.openedAt ? ` at ${formatDateTime(e.openedAt)}` : ''}
                {e.openAttempts.some((a) => !a.success) ? ` · ${plural(e.openAttempts.filter((a) => !a.success).length, 'failed opening')}` : ''}{' '}
                {(e.status === 'pending' || e.status === 'delivered') && (
                  <button type="button" className="button" disabled={busy !== null} onClick={() => void act(e.id, 'withdraw')}>
                    Withdraw
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

export function DisclosuresScreen() {
  const [tab, setTab] = useState<'received' | 'issued' | 'envelopes'>('received');
  const [disclosing, setDisclosing] = useState(false);
  const [opening, setOpening] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const refresh = useCallback(() => setRefreshKey((k) => k + 1), []);
  const openFile = async (file: File | undefined) => {
    if (!file) return;
    setOpening(true);
    try {
      const r = await getApi()['disclosures.open']({ data: await readFileBytes(file) });
      toast.success(`Opened a disclosure of ${plural(r.records, 'record')} (${r.grant.from} to ${r.grant.until})${r.again ? ', received before' : ''}`);
      setTab('received');
      refresh();
    } catch (e) {
      reportError(e, 'The package was refused');
    } finally {
      setOpening(false);
      if (input.current) input.current.value = '';
    }
  };
  return (
    <div className="screen disclosures-screen">
      <header className="screen-header">
        <div>
          <h1>Disclosures</h1>
          <p className="screen-subtitle">Packages you received (read-only) and those you issued.</p>
        </div>
        <div className="header-actions">
          <input ref={input} type="file" accept=".age,application/octet-stream" hidden aria-label="Disclosure package file" data-testid="open-disclosure-input" onChange={(e) => void openFile(e.target.files?.[0])} />
          <button type="button" className="button" disabled={opening} onClick={() => input.current?.click()}>
            {opening ? <Spinner size={14} /> : <Icon name="download" size={14} />} Open disclosure…
          </button>
          <button type="button" className="button button-primary" onClick={() => setDisclosing(true)}>
            <Icon name="upload" size={14} /> Disclose…
          </button>
        </div>
      </header>
      <div className="segmented" role="tablist" aria-label="Disclosures">
        <button type="button" role="tab" aria-selected={tab === 'received'} className={tab === 'received' ? 'checked' : undefined} onClick={() => setTab('received')}>
          Received
        </button>
        <button type="button" role="tab" aria-selected={tab === 'issued'} className={tab === 'issued' ? 'checked' : undefined} onClick={() => setTab('issued')}>
          Issued
        </button>
        <button type="button" role="tab" aria-selected={tab === 'envelopes'} className={tab === 'envelopes' ? 'checked' : undefined} onClick={() => setTab('envelopes')}>
          Envelopes
        </button>
      </div>
      <div className="screen-scroll">
        {tab === 'received' && <Received refreshKey={refreshKey} />}
        {tab === 'issued' && <Issued refreshKey={refreshKey} />}
        {tab === 'envelopes' && <Envelopes refreshKey={refreshKey} onOpened={refresh} />}
      </div>
      {disclosing && (
        <DiscloseDialog
          onClose={() => {
            setDisclosing(false);
            refresh();
          }}
        />
      )}
    </div>
  );
}
