// The right-hand pane: nothing selected, the record (read view), or the editor.
// Files dropped anywhere on an open record are attached to it.
import { useState, type DragEvent } from 'react';
import type { RecordView } from '../../../electron/shared/records.ts';
import { formatDateTime } from '../lib/format.ts';
import { shortcut } from '../lib/platform.ts';
import { useAttachments } from '../stores/attachments.ts';
import { useRecord } from '../stores/record.ts';
import { useRecords } from '../stores/records.ts';
import { AttachmentsPanel } from './AttachmentsPanel.tsx';
import { ClassificationBadge, KindBadge, TagChips } from './Badges.tsx';
import { ConfirmDialog } from './Dialog.tsx';
import { EmptyState, Spinner } from './Feedback.tsx';
import { FieldsView } from './FieldsEditor.tsx';
import { HistoryDialog } from './HistoryDialog.tsx';
import { Icon } from './Icon.tsx';
import { RecordEditor } from './RecordEditor.tsx';

const hasFiles = (e: DragEvent) => [...e.dataTransfer.types].includes('Files');

function RecordDetails({ record }: { record: RecordView }) {
  const startEdit = useRecord((s) => s.startEdit);
  const remove = useRecord((s) => s.remove);
  const restore = useRecord((s) => s.restore);
  const purge = useRecord((s) => s.purge);
  const openHistory = useRecord((s) => s.openHistory);
  const historyOpen = useRecord((s) => s.historyOpen);
  const addFiles = useAttachments((s) => s.addFiles);
  const [confirmPurge, setConfirmPurge] = useState(false);
  const [dragging, setDragging] = useState(false);
  const inTrash = record.deletedAt !== null;

  const dropProps = inTrash
    ? {}
    : {
        onDragEnter: (e: DragEvent) => hasFiles(e) && setDragging(true),
        onDragOver: (e: DragEvent) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        },
        onDragLeave: (e: DragEvent) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        },
        onDrop: (e: DragEvent) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          setDragging(false);
          const files = [...e.dataTransfer.files];
          if (files.length) void addFiles(record.id, files);
        },
      };

  return (
    <article className="record-details" aria-labelledby="record-title" {...dropProps}>
      <header className="detail-header">
        <div className="detail-badges">
          <KindBadge kind={record.kind} />
          <ClassificationBadge value={record.classification} />
          <span className="pill" title={`Last saved ${formatDateTime(record.updatedAt)}`}>
            v{record.version}
          </span>
        </div>
        <h2 id="record-title" className="detail-title">
          {record.title}
        </h2>
        <div className="detail-toolbar" role="toolbar" aria-label="Record actions">
          {inTrash ? (
            <>
              <button type="button" className="button" onClick={() => void restore()}>
                <Icon name="restore" size={14} /> Restore
              </button>
              <button type="button" className="button button-danger" onClick={() => setConfirmPurge(true)}>
                <Icon name="trash" size={14} /> Delete forever
              </button>
            </>
          ) : (
            <>
              <button type="button" className="button button-primary" onClick={startEdit} title="Edit (E)">
                <Icon name="edit" size={14} /> Edit
              </button>
              <button type="button" className="button" onClick={() => void openHistory()}>
                <Icon name="history" size={14} /> History
              </button>
              <button type="button" className="button button-ghost" onClick={() => void remove()}>
                <Icon name="trash" size={14} /> Move to Trash
              </button>
            </>
          )}
        </div>
      </header>

      {inTrash && (
        <div className="banner banner-warning" role="status">
          <Icon name="trash" />
          <div>
            <strong>In the Trash since {formatDateTime(record.deletedAt ?? '')}.</strong> Restore it to edit or attach files; “Delete forever” removes it and its attachments for good (the audit log keeps a record that it existed).
          </div>
        </div>
      )}

      <div className="detail-scroll">
        <dl className="meta-grid">
          <div>
            <dt>Case</dt>
            <dd>{record.case || <span className="muted">None</span>}</dd>
          </div>
          <div>
            <dt>Captured</dt>
            <dd>
              <time dateTime={record.capturedAt}>{formatDateTime(record.capturedAt)}</time>
            </dd>
          </div>
          <div>
            <dt>Last saved</dt>
            <dd>
              <time dateTime={record.updatedAt}>{formatDateTime(record.updatedAt)}</time>
            </dd>
          </div>
          <div>
            <dt>Tags</dt>
            <dd>{record.tags.length ? <TagChips tags={record.tags} /> : <span className="muted">None</span>}</dd>
          </div>
        </dl>

        {record.kind === 'observation' && (
          <section className="panel" aria-labelledby="fields-h">
            <h3 id="fields-h">Fields</h3>
            <FieldsView fields={record.fields} />
          </section>
        )}

        {/* A file record is about its files: they come first. */}
        {record.kind === 'file' && <AttachmentsPanel record={record} />}

        <section className="panel" aria-labelledby="body-h">
          <h3 id="body-h">{record.kind === 'observation' ? 'Notes' : record.kind === 'file' ? 'Description' : 'Text'}</h3>
          {record.body ? <div className="record-body">{record.body}</div> : <p className="muted small">{record.kind === 'file' ? 'No description.' : 'No text.'}</p>}
        </section>

        {record.kind !== 'file' && <AttachmentsPanel record={record} />}
      </div>

      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <Icon name="upload" size={32} />
          <span>Drop to attach to “{record.title}”</span>
        </div>
      )}
      {historyOpen && <HistoryDialog />}
      {confirmPurge && (
        <ConfirmDialog
          title="Delete forever?"
          message={`“${record.title}”, all its versions and ${record.attachments.length === 1 ? 'its attachment' : `its ${record.attachments.length} attachments`} will be destroyed. This cannot be undone.`}
          confirmLabel="Delete forever"
          danger
          onCancel={() => setConfirmPurge(false)}
          onConfirm={() => {
            setConfirmPurge(false);
            void purge();
          }}
        />
      )}
    </article>
  );
}

export function RecordPane({ trash }: { trash: boolean }) {
  const mode = useRecord((s) => s.mode);
  const record = useRecord((s) => s.record);
  const selectedId = useRecord((s) => s.selectedId);
  const loading = useRecord((s) => s.loading);
  const loadError = useRecord((s) => s.loadError);
  const reload = useRecord((s) => s.reload);
  const total = useRecords((s) => s.total);

  let content;
  if (mode !== 'view') content = <RecordEditor />;
  else if (loading) content = <div className="pane-center"><Spinner label="Decrypting record…" /></div>;
  else if (loadError)
    content = (
      <EmptyState icon="alert" title="Could not open this record" actions={<button type="button" className="button" onClick={() => void reload()}>Try again</button>}>
        {loadError}
      </EmptyState>
    );
  else if (record && record.id === selectedId) content = <RecordDetails key={record.id} record={record} />;
  else if (trash) content = <EmptyState icon="trash" title={total ? 'Select a record in the Trash' : 'Nothing here'}>{total ? 'Open it to restore it or delete it forever.' : 'Records you move to the Trash appear here until you restore them or delete them forever.'}</EmptyState>;
  else
    content = total ? (
      <EmptyState icon="records" title="Select a record">
        Use ↑ ↓ and Enter in the list, {shortcut('F')} to search, or {shortcut('N')} for a new record.
      </EmptyState>
    ) : null;

  return (
    <section className="record-pane" aria-label="Record">
      {content}
    </section>
  );
}
