// Version history: every saved version, read-only, with the fields that differ from the
// current version highlighted (and the current value shown beside the old one).
import { useState, type ReactNode } from 'react';
import type { RecordVersionView } from '../../../electron/shared/records.ts';
import { formatDateTime } from '../lib/format.ts';
import { lineDiff } from '../lib/lineDiff.ts';
import { useRecord } from '../stores/record.ts';
import { ClassificationBadge, KindBadge, TagChips, classificationLabel } from './Badges.tsx';
import { Dialog } from './Dialog.tsx';
import { Spinner } from './Feedback.tsx';
import { FieldsView, fieldValueText } from './FieldsEditor.tsx';

type Rec = RecordVersionView['record'];
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function changedKeys(v: Rec, cur: Rec): Set<string> {
  const keys = ['title', 'body', 'case', 'tags', 'classification', 'capturedAt', 'fields'] as const;
  return new Set(keys.filter((k) => !same(v[k], cur[k])));
}

function Was({ show, children }: { show: boolean; children: ReactNode }) {
  if (!show) return null;
  return <div className="diff-now">Now: {children}</div>;
}

/** How the text changed from this version to the current one, line by line. */
function TextDiff({ from, to }: { from: string; to: string }) {
  const diff = lineDiff(from, to);
  if (!diff) return <div className="diff-now">The text changed (too long to compare line by line).</div>;
  return (
    <div className="text-diff" aria-label="Changes from this version to the current one" role="group">
      <div className="text-diff-title">Changes since this version</div>
      {diff.map((l, i) => (
        <div key={i} className={`diff-line diff-${l.kind}`}>
          <span className="diff-sign" aria-hidden="true">
            {l.kind === 'added' ? '+' : l.kind === 'removed' ? '−' : ' '}
          </span>
          <span className="visually-hidden">{l.kind === 'added' ? 'Added: ' : l.kind === 'removed' ? 'Removed: ' : ''}</span>
          {l.text || ' '}
        </div>
      ))}
    </div>
  );
}

function VersionView({ v, current }: { v: RecordVersionView; current: RecordVersionView | undefined }) {
  const cur = current?.record;
  const changed = cur && !v.current ? changedKeys(v.record, cur) : new Set<string>();
  const cls = (k: string) => `history-field${changed.has(k) ? ' changed' : ''}`;
  const changedFieldRows = new Set<number>();
  if (cur && changed.has('fields')) v.record.fields.forEach((f, i) => !same(f, cur.fields[i]) && changedFieldRows.add(i));
  const r = v.record;
  return (
    <div className="history-view" aria-label={`Version ${v.version}`} role="region">
      <div className="history-view-head">
        <h3>
          Version {v.version}
          {v.current && <span className="pill">current</span>}
        </h3>
        <span className="muted small">Saved {formatDateTime(v.savedAt)}</span>
      </div>
      {!v.current && <p className="small muted">{changed.size === 0 ? 'Same content as the current version.' : `Highlighted: ${changed.size} ${changed.size === 1 ? 'field differs' : 'fields differ'} from the current version.`}</p>}
      <dl className="history-fields">
        <div className={cls('title')}>
          <dt>Title</dt>
          <dd>{r.title}</dd>
          <Was show={changed.has('title')}>{cur?.title}</Was>
        </div>
        <div className="history-field">
          <dt>Kind</dt>
          <dd>
            <KindBadge kind={r.kind} />
          </dd>
        </div>
        <div className={cls('classification')}>
          <dt>Classification</dt>
          <dd>
            <ClassificationBadge value={r.classification} />
          </dd>
          <Was show={changed.has('classification')}>{cur && classificationLabel(cur.classification)}</Was>
        </div>
        <div className={cls('case')}>
          <dt>Case</dt>
          <dd>{r.case || <span className="muted">None</span>}</dd>
          <Was show={changed.has('case')}>{cur?.case || 'none'}</Was>
        </div>
        <div className={cls('tags')}>
          <dt>Tags</dt>
          <dd>{r.tags.length ? <TagChips tags={r.tags} /> : <span className="muted">None</span>}</dd>
          <Was show={changed.has('tags')}>{cur?.tags.join(', ') || 'none'}</Was>
        </div>
        <div className={cls('capturedAt')}>
          <dt>Captured</dt>
          <dd>{formatDateTime(r.capturedAt)}</dd>
          <Was show={changed.has('capturedAt')}>{cur && formatDateTime(cur.capturedAt)}</Was>
        </div>
        {(r.kind === 'observation' || r.fields.length > 0) && (
          <div className={cls('fields')}>
            <dt>Fields</dt>
            <dd>
              <FieldsView fields={r.fields} changed={changedFieldRows} />
            </dd>
            <Was show={changed.has('fields')}>{cur?.fields.map((f) => `${f.name}: ${fieldValueText(f)}`).join('; ') || 'no fields'}</Was>
          </div>
        )}
        <div className={cls('body')}>
          <dt>Text</dt>
          <dd className="history-body">{r.body || <span className="muted">Empty</span>}</dd>
          {changed.has('body') && cur && <TextDiff from={r.body} to={cur.body} />}
        </div>
      </dl>
    </div>
  );
}

export function HistoryDialog() {
  const history = useRecord((s) => s.history);
  const loading = useRecord((s) => s.historyLoading);
  const close = useRecord((s) => s.closeHistory);
  const title = useRecord((s) => s.record?.title ?? '');
  const [chosen, setChosen] = useState<number | null>(null);
  const current = history?.find((v) => v.current);
  const shown = history?.find((v) => v.version === chosen) ?? history?.find((v) => !v.current) ?? current;

  return (
    <Dialog title="Version history" description={`Every saved version of “${title}”. Older versions are read-only.`} onClose={close} size="large">
      {loading || !history ? (
        <Spinner label="Decrypting versions…" />
      ) : (
        <div className="history">
          <nav aria-label="Versions">
            <ul className="version-list">
              {history.map((v) => (
                <li key={v.version}>
                  <button type="button" className={`version-item${shown?.version === v.version ? ' selected' : ''}`} aria-current={shown?.version === v.version ? 'true' : undefined} onClick={() => setChosen(v.version)}>
                    <span className="version-name">
                      Version {v.version}
                      {v.current && <span className="pill">current</span>}
                    </span>
                    <span className="version-time">{formatDateTime(v.savedAt)}</span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          {shown && <VersionView v={shown} current={current} />}
        </div>
      )}
    </Dialog>
  );
}
