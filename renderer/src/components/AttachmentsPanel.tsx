// Attachments of the open record: add (native dialog on the desktop, file input in the
// browser), save out, verify against the stored SHA-256, with live progress from main.
import { useId } from 'react';
import type { AttachmentView, RecordView } from '../../../electron/shared/records.ts';
import { formatBytes, formatDateTime, shortHash } from '../lib/format.ts';
import { useAttachments } from '../stores/attachments.ts';
import { useProgress } from '../stores/progress.ts';
import { useSession } from '../stores/session.ts';
import { toast } from '../stores/toasts.ts';
import { ProgressBar, Spinner } from './Feedback.tsx';
import { Icon } from './Icon.tsx';

function AttachmentRow({ a }: { a: AttachmentView }) {
  const busy = useAttachments((s) => s.busy[a.id]);
  const verified = useAttachments((s) => s.verified[a.id]);
  const save = useAttachments((s) => s.save);
  const verify = useAttachments((s) => s.verify);
  const copyHash = () => {
    navigator.clipboard.writeText(a.sha256).then(
      () => toast.success('SHA-256 copied'),
      () => toast.error('Could not copy to the clipboard'),
    );
  };
  return (
    <li className="attachment">
      <span className="attachment-icon" aria-hidden="true">
        <Icon name="file" size={18} />
      </span>
      <div className="attachment-main">
        <div className="attachment-name" title={a.name}>
          {a.name}
        </div>
        <div className="attachment-meta">
          <span>{formatBytes(a.size)}</span>
          <span>{formatDateTime(a.createdAt)}</span>
          <button type="button" className="hash" title={`SHA-256 ${a.sha256} (click to copy)`} aria-label={`Copy SHA-256 of ${a.name}`} onClick={copyHash}>
            SHA-256 <code>{shortHash(a.sha256)}</code>
          </button>
          {verified?.ok && (
            <span className="verified-ok">
              <Icon name="shieldCheck" size={14} /> Verified
            </span>
          )}
          {verified && !verified.ok && (
            <span className="verified-bad" title={verified.message}>
              <Icon name="alert" size={14} /> Failed verification
            </span>
          )}
        </div>
      </div>
      <div className="attachment-actions">
        {busy ? (
          <Spinner label={busy === 'saving' ? 'Decrypting…' : 'Verifying…'} />
        ) : (
          <>
            <button type="button" className="button button-small" aria-label={`Save ${a.name}`} onClick={() => void save(a)}>
              <Icon name="download" size={14} /> Save…
            </button>
            <button type="button" className="button button-small" aria-label={`Verify ${a.name}`} onClick={() => void verify(a)}>
              <Icon name="shield" size={14} /> Verify
            </button>
          </>
        )}
      </div>
    </li>
  );
}

export function AttachmentsPanel({ record }: { record: RecordView }) {
  const native = useSession((s) => s.info?.nativeDialogs ?? false);
  const uploading = useAttachments((s) => s.uploading);
  const addFromDialog = useAttachments((s) => s.addFromDialog);
  const addFiles = useAttachments((s) => s.addFiles);
  const progress = useProgress((s) => s.byOp.attachment);
  const verifying = useAttachments((s) => Object.values(s.busy).includes('verifying'));
  const verifyProgress = useProgress((s) => s.byOp.verify);
  const inputId = useId();
  const inTrash = record.deletedAt !== null;

  return (
    <section className="panel attachments" aria-labelledby={`${inputId}-h`}>
      <div className="panel-header">
        <h3 id={`${inputId}-h`}>
          Attachments <span className="count">{record.attachments.length}</span>
        </h3>
        {!inTrash &&
          (native ? (
            <button type="button" className="button button-small" onClick={() => void addFromDialog(record.id)} disabled={uploading !== null}>
              <Icon name="plus" size={14} /> Add attachment
            </button>
          ) : (
            <label className={`button button-small file-button${uploading ? ' disabled' : ''}`} htmlFor={inputId}>
              <Icon name="plus" size={14} /> Add attachment
              <input
                id={inputId}
                className="visually-hidden"
                type="file"
                multiple
                disabled={uploading !== null}
                onChange={(e) => {
                  const files = [...(e.target.files ?? [])];
                  e.target.value = '';
                  if (files.length) void addFiles(record.id, files);
                }}
              />
            </label>
          ))}
      </div>
      {(uploading || progress) && <ProgressBar label={uploading ?? 'Decrypting…'} event={progress} compact />}
      {verifying && verifyProgress && <ProgressBar label="Verifying chunks and SHA-256…" event={verifyProgress} compact />}
      {record.attachments.length === 0 ? (
        <p className="muted small attachments-empty">{inTrash ? 'No attachments.' : 'No attachments yet. Add files with the button above, or drop them anywhere on this record. Files are encrypted in chunks and their SHA-256 is kept for the chain of custody.'}</p>
      ) : (
        <ul className="attachment-list">
          {record.attachments.map((a) => (
            <AttachmentRow key={a.id} a={a} />
          ))}
        </ul>
      )}
    </section>
  );
}
