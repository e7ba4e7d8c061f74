// Create or edit a record. Save (Ctrl/Cmd+S) sends only what changed, with the version the
// editor loaded; if someone saved in between, main answers CONFLICT and we say so plainly.
import { useId, type KeyboardEvent } from 'react';
import { CLASSIFICATIONS, RECORD_KINDS, type Classification, type RecordKind } from '../../../electron/shared/records.ts';
import { hasMod, shortcut } from '../lib/platform.ts';
import { useRecord } from '../stores/record.ts';
import { useRecords } from '../stores/records.ts';
import { toast } from '../stores/toasts.ts';
import { useUi } from '../stores/ui.ts';
import { classificationLabel, kindLabel } from './Badges.tsx';
import { FormError, Spinner } from './Feedback.tsx';
import { FieldsEditor } from './FieldsEditor.tsx';
import { Icon } from './Icon.tsx';
import { TagInput } from './TagInput.tsx';

const KIND_HELP: Record<RecordKind, string> = {
  note: 'Free text: case notes, interview records.',
  observation: 'Structured: typed fields such as measurements, dates and places.',
  file: 'Evidence files: attach them after saving.',
};

export function RecordEditor() {
  const draft = useRecord((s) => s.draft);
  const mode = useRecord((s) => s.mode);
  const record = useRecord((s) => s.record);
  const saving = useRecord((s) => s.saving);
  const formError = useRecord((s) => s.formError);
  const conflict = useRecord((s) => s.conflict);
  const setDraft = useRecord((s) => s.setDraft);
  const save = useRecord((s) => s.save);
  const cancel = useRecord((s) => s.cancelEdit);
  const reload = useRecord((s) => s.reload);
  const facets = useRecords((s) => s.facets);
  const id = useId();
  if (!draft) return null;

  // Asks before throwing away edits (the guard shows "Discard changes?" only when dirty).
  const requestCancel = () => useUi.getState().guard(cancel);

  const onKeyDown = (e: KeyboardEvent) => {
    if (hasMod(e) && (e.key === 's' || e.key === 'Enter')) {
      e.preventDefault();
      void save();
    } else if (e.key === 'Escape' && !e.defaultPrevented) {
      e.preventDefault();
      requestCancel();
    }
  };

  const copyDraft = () => {
    const text = `${draft.title}\n\n${draft.body}`;
    navigator.clipboard.writeText(text).then(
      () => toast.success('Your edited title and text are on the clipboard'),
      () => toast.error('Could not copy to the clipboard'),
    );
  };

  const heading = mode === 'new' ? `New ${kindLabel(draft.kind).toLowerCase()}` : `Edit “${record?.title ?? ''}”`;

  return (
    <form
      className="record-editor"
      aria-labelledby={`${id}-h`}
      onKeyDown={onKeyDown}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <header className="detail-header">
        <h2 id={`${id}-h`} className="detail-title">
          {heading}
        </h2>
        {mode === 'edit' && record && <span className="muted small">Editing version {record.version}</span>}
      </header>

      {conflict && (
        <div className="banner banner-danger" role="alert">
          <Icon name="alert" />
          <div>
            <strong>This record was changed somewhere else while you were editing.</strong>
            <p>{conflict} Reload to get the latest version, then apply your edits again. Reloading discards what you typed here, so copy it first if you need it.</p>
            <div className="banner-actions">
              <button type="button" className="button button-small" onClick={copyDraft}>
                <Icon name="copy" size={14} /> Copy my text
              </button>
              <button type="button" className="button button-small button-primary" onClick={() => void reload()}>
                <Icon name="restore" size={14} /> Reload
              </button>
            </div>
          </div>
        </div>
      )}

      <div className="editor-scroll">
        {mode === 'new' && (
          <fieldset className="kind-picker">
            <legend>Kind</legend>
            <div className="segmented">
              {RECORD_KINDS.map((k) => (
                <label key={k} className={draft.kind === k ? 'checked' : undefined}>
                  <input type="radio" name={`${id}-kind`} value={k} checked={draft.kind === k} onChange={() => setDraft({ kind: k })} />
                  <Icon name={k} size={14} />
                  {kindLabel(k)}
                </label>
              ))}
            </div>
            <p className="field-hint">{KIND_HELP[draft.kind]}</p>
          </fieldset>
        )}

        <div className="field">
          <label htmlFor={`${id}-title`}>Title</label>
          <input id={`${id}-title`} className="input-title" value={draft.title} maxLength={500} autoFocus onChange={(e) => setDraft({ title: e.target.value })} placeholder="What is this record about?" />
        </div>

        <div className="field-grid">
          <div className="field">
            <label htmlFor={`${id}-case`}>Case</label>
            <input id={`${id}-case`} list={`${id}-cases`} value={draft.case} maxLength={200} onChange={(e) => setDraft({ case: e.target.value })} placeholder="e.g. CASE-2026-014" />
            <datalist id={`${id}-cases`}>
              {facets.cases.slice(0, 200).map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor={`${id}-class`}>Classification</label>
            <select id={`${id}-class`} value={draft.classification} onChange={(e) => setDraft({ classification: e.target.value as Classification })}>
              {CLASSIFICATIONS.map((c) => (
                <option key={c} value={c}>
                  {classificationLabel(c)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-captured`}>Captured at</label>
            <input id={`${id}-captured`} type="datetime-local" value={draft.capturedAt} onChange={(e) => setDraft({ capturedAt: e.target.value })} />
          </div>
        </div>

        <TagInput tags={draft.tags} onChange={(tags) => setDraft({ tags })} suggestions={facets.tags} />

        {draft.kind === 'observation' && <FieldsEditor fields={draft.fields} onChange={(fields) => setDraft({ fields })} />}

        <div className="field field-grow">
          <label htmlFor={`${id}-body`}>{draft.kind === 'observation' ? 'Notes' : draft.kind === 'file' ? 'Description' : 'Text'}</label>
          <textarea id={`${id}-body`} value={draft.body} rows={10} onChange={(e) => setDraft({ body: e.target.value })} placeholder={draft.kind === 'file' ? 'Describe the files: where they came from, who handed them over.' : 'Write freely. Everything is encrypted before it is stored.'} />
        </div>
        {mode === 'new' && draft.kind === 'file' && <p className="field-hint">Save the record first; then add files under Attachments or drop them onto the record.</p>}
      </div>

      <footer className="editor-footer">
        {formError ? (
          <FormError>{formError}</FormError>
        ) : (
          <span className="muted small">{shortcut('S')} to save · Esc to cancel</span>
        )}
        <div className="editor-buttons">
          <button type="button" className="button" onClick={requestCancel} disabled={saving}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={saving}>
            {saving ? <Spinner size={14} /> : <Icon name="check" size={14} />}
            {mode === 'new' ? 'Create record' : 'Save'}
          </button>
        </div>
      </footer>
    </form>
  );
}
