// The audit log: verification status, the activity chart, and the entries (newest first,
// filterable, paged backwards). Entries never contain plaintext — targets are ids.
import { Fragment, useEffect, useId, useState } from 'react';
import { AUDIT_EVENTS, type AuditRow } from '../../../electron/shared/audit.ts';
import { ActivityChart, chartDayLabel, chartModel } from '../components/ActivityChart.tsx';
import { EmptyState, ProgressBar, Spinner } from '../components/Feedback.tsx';
import { Icon } from '../components/Icon.tsx';
import { ReportDialog } from '../components/ReportDialog.tsx';
import { formatDateTime, formatPrecise, plural, shortHash } from '../lib/format.ts';
import { useAudit, type AuditFilters } from '../stores/audit.ts';
import { useProgress } from '../stores/progress.ts';

function VerificationCard() {
  const verification = useAudit((s) => s.verification);
  const verifying = useAudit((s) => s.verifying);
  const verify = useAudit((s) => s.verify);
  const progress = useProgress((s) => s.byOp.verify);
  const state = verifying ? 'running' : !verification ? 'unknown' : verification.ok ? 'ok' : 'failed';
  return (
    <section className={`card verify-card verify-${state}`} aria-labelledby="verify-h">
      <div className="verify-head">
        <span className="verify-icon" aria-hidden="true">
          <Icon name={state === 'failed' ? 'alert' : state === 'ok' ? 'shieldCheck' : 'shield'} size={22} />
        </span>
        <div className="verify-text">
          <h2 id="verify-h">Integrity</h2>
          <p role="status">
            {state === 'running' && 'Recomputing the Merkle tree and checking every signed checkpoint…'}
            {state === 'unknown' && 'Not verified in this session. Verification recomputes the Merkle tree from every entry and checks all signed checkpoints.'}
            {verification && state === 'ok' && (
              <>
                <strong>Log verified.</strong> {plural(verification.entries, 'entry', 'entries')} and {plural(verification.checkpoints, 'signed checkpoint')} are consistent (checked {formatPrecise(verification.checkedAt)}).
              </>
            )}
            {verification && state === 'failed' && (
              <>
                <strong>Verification failed: {plural(verification.problems.length, 'problem')} found.</strong> The log may have been tampered with or damaged. Export nothing from this vault until you have investigated.
              </>
            )}
          </p>
        </div>
        <button type="button" className="button" onClick={() => void verify()} disabled={verifying}>
          {verifying ? <Spinner size={14} /> : <Icon name="shieldCheck" size={14} />}
          {verification ? 'Verify again' : 'Verify log'}
        </button>
      </div>
      {verifying && <ProgressBar label="Verifying the log…" event={progress} compact />}
      {verification && !verification.ok && (
        <ul className="problems" aria-label="Problems">
          {verification.problems.map((p, i) => (
            <li key={i}>
              {p.seq !== undefined && <span className="problem-seq">Entry #{p.seq}</span>}
              <span className="problem-kind">{p.kind}</span>
              <span>{p.message}</span>
              {p.affectedCheckpoints ? <span className="problem-affects">affects {plural(p.affectedCheckpoints, 'signed checkpoint')}</span> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ChartCard() {
  const stats = useAudit((s) => s.stats);
  const range = useAudit((s) => s.statsRange);
  const filters = useAudit((s) => s.filters);
  const model = stats && range ? chartModel(stats, range, !filters.from) : null;
  const first = model?.days[0]?.day;
  const last = model?.days.at(-1)?.day;
  const total = model?.days.reduce((s, d) => s + d.total, 0) ?? 0;
  return (
    <section className="card" aria-labelledby="chart-h">
      <div className="card-head">
        <h2 id="chart-h">Activity</h2>
        {model && first && last && (
          <span className="muted small">
            {chartDayLabel(first)} – {chartDayLabel(last)} (UTC days) · {plural(total, 'event')}
            {stats && stats.total > 0 && ` · ${Math.round(stats.successRate * 100)}% succeeded`}
          </span>
        )}
      </div>
      {model ? <ActivityChart model={model} /> : <Spinner label="Loading activity…" />}
    </section>
  );
}

function Filters() {
  const filters = useAudit((s) => s.filters);
  const setFilter = useAudit((s) => s.setFilter);
  const clear = useAudit((s) => s.clearFilters);
  const id = useId();
  const active = Object.values(filters).some(Boolean);
  return (
    <div className="audit-filters" role="group" aria-label="Audit filters">
      <div className="field field-compact">
        <label htmlFor={`${id}-event`}>Event type</label>
        <select id={`${id}-event`} value={filters.event} onChange={(e) => setFilter('event', e.target.value)}>
          <option value="">All events</option>
          {AUDIT_EVENTS.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </div>
      <div className="field field-compact">
        <label htmlFor={`${id}-result`}>Result</label>
        <select id={`${id}-result`} value={filters.result} onChange={(e) => setFilter('result', e.target.value as AuditFilters['result'])}>
          <option value="">Any</option>
          <option value="success">Succeeded</option>
          <option value="failed">Failed</option>
        </select>
      </div>
      <div className="field field-compact">
        <label htmlFor={`${id}-from`}>From</label>
        <input id={`${id}-from`} type="date" value={filters.from} max={filters.to || undefined} onChange={(e) => setFilter('from', e.target.value)} />
      </div>
      <div className="field field-compact">
        <label htmlFor={`${id}-to`}>To</label>
        <input id={`${id}-to`} type="date" value={filters.to} min={filters.from || undefined} onChange={(e) => setFilter('to', e.target.value)} />
      </div>
      {active && (
        <button type="button" className="button button-small button-ghost" onClick={clear}>
          Clear filters
        </button>
      )}
    </div>
  );
}

function Details({ row }: { row: AuditRow }) {
  if (row.pruned || !row.entry) return <p className="muted small">This entry’s body was removed by the retention policy; its leaf hash stays in the Merkle tree, so the log still verifies.</p>;
  const e = row.entry;
  return (
    <dl className="entry-details">
      <div>
        <dt>Device</dt>
        <dd>
          <code>{e.device}</code>
        </dd>
      </div>
      {e.range && (
        <div>
          <dt>Time range</dt>
          <dd>
            {formatDateTime(e.range.from)} – {formatDateTime(e.range.to)}
          </dd>
        </div>
      )}
      {Object.entries(e.details).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{Array.isArray(v) ? v.join(', ') || '—' : String(v)}</dd>
        </div>
      ))}
      <div>
        <dt>Leaf hash</dt>
        <dd>
          <code title={row.leafHash}>{shortHash(row.leafHash, 20, 8)}</code>
        </dd>
      </div>
    </dl>
  );
}

function EntriesTable() {
  const rows = useAudit((s) => s.rows);
  const loading = useAudit((s) => s.loading);
  const error = useAudit((s) => s.error);
  const hasMore = useAudit((s) => s.hasMore);
  const loadMore = useAudit((s) => s.loadMore);
  const load = useAudit((s) => s.load);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const toggle = (seq: number) => {
    const next = new Set(open);
    if (!next.delete(seq)) next.add(seq);
    setOpen(next);
  };

  if (error)
    return (
      <EmptyState icon="alert" title="Could not read the audit log" actions={<button type="button" className="button" onClick={() => void load()}>Try again</button>}>
        {error}
      </EmptyState>
    );
  if (!loading && rows.length === 0) return <EmptyState icon="audit" title="No entries match">Change or clear the filters to see more of the log.</EmptyState>;

  return (
    <div className="table-wrap">
      <table className="audit-table">
        <caption className="visually-hidden">Audit log entries, newest first</caption>
        <thead>
          <tr>
            <th scope="col" className="col-seq">
              #
            </th>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Actor</th>
            <th scope="col">Target</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <Fragment key={r.seq}>
              <tr className={`${r.success ? '' : 'failed'}${open.has(r.seq) ? ' expanded' : ''}`}>
                <td className="col-seq">
                  <button type="button" className="link-button seq-button" aria-expanded={open.has(r.seq)} aria-label={`Details of entry ${r.seq}`} onClick={() => toggle(r.seq)}>
                    <Icon name="chevronDown" size={12} className={open.has(r.seq) ? 'rotated' : undefined} />
                    {r.seq}
                  </button>
                </td>
                <td className="nowrap">
                  <time dateTime={r.time}>{formatPrecise(r.time)}</time>
                </td>
                <td>
                  <code className="event-name">{r.event}</code>
                </td>
                <td className="ellipsis">{r.actor}</td>
                <td className="ellipsis">
                  {r.target ? (
                    <code title={r.target}>{r.target.length > 28 ? shortHash(r.target, 18, 6) : r.target}</code>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>{r.success ? <span className="result ok">Succeeded</span> : <span className="result failed">Failed</span>}</td>
              </tr>
              {open.has(r.seq) && (
                <tr className="details-row">
                  <td />
                  <td colSpan={5}>
                    <Details row={r} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      <div className="table-footer">
        {loading ? <Spinner label="Loading entries…" /> : hasMore ? (
          <button type="button" className="button" onClick={() => void loadMore()}>
            Load older entries
          </button>
        ) : (
          <span className="muted small">Beginning of the log.</span>
        )}
      </div>
    </div>
  );
}

export function AuditScreen() {
  const [reporting, setReporting] = useState(false);
  useEffect(() => {
    void useAudit.getState().load();
    void useAudit.getState().loadStats();
  }, []);
  return (
    <div className="screen audit-screen">
      <header className="screen-header">
        <div>
          <h1>Audit log</h1>
          <p className="screen-subtitle">Every security-relevant action, kept in a tamper-evident Merkle log with signed checkpoints.</p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setReporting(true)}>
          <Icon name="download" size={14} />
          Export signed report…
        </button>
      </header>
      {reporting && <ReportDialog onClose={() => setReporting(false)} />}
      <div className="screen-scroll">
        <VerificationCard />
        <ChartCard />
        <section className="card" aria-labelledby="entries-h">
          <div className="card-head">
            <h2 id="entries-h">Entries</h2>
          </div>
          <Filters />
          <EntriesTable />
        </section>
      </div>
    </div>
  );
}
