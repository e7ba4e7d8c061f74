// The open record: its decrypted view, the editor draft, saving with optimistic locking
// (the version the editor loaded goes with the update; CONFLICT means someone else saved
// first), trash operations and the version history.
import { create } from 'zustand';
import type { AttachmentView, RecordKind, RecordSummary, RecordVersionView, RecordView } from '../../../electron/shared/records.ts';
import { getApi } from '../api/client.ts';
import { draftOf, newDraft, patchOf, validateDraft, type Draft } from '../lib/draft.ts';
import { toApiError } from '../lib/errors.ts';
import { reportError } from './errors.ts';
import { useRecords } from './records.ts';
import { useSession } from './session.ts';
import { toast, useToasts } from './toasts.ts';

export type EditorMode = 'view' | 'edit' | 'new';

interface RecordState {
  selectedId: string | null;
  record: RecordView | null;
  loading: boolean;
  loadError: string | null;
  mode: EditorMode;
  draft: Draft | null;
  saving: boolean;
  formError: string | null;
  conflict: string | null;
  history: RecordVersionView[] | null;
  historyOpen: boolean;
  historyLoading: boolean;
  open(id: string): Promise<void>;
  close(): void;
  startNew(kind?: RecordKind): void;
  startEdit(): void;
  setDraft(patch: Partial<Draft>): void;
  cancelEdit(): void;
  save(): Promise<boolean>;
  reload(): Promise<void>;
  remove(): Promise<void>;
  restore(): Promise<void>;
  purge(): Promise<boolean>;
  openHistory(): Promise<void>;
  closeHistory(): void;
  attachmentsAdded(list: AttachmentView[]): void;
  reset(): void;
}

const summaryOf = (r: RecordView): RecordSummary => ({ id: r.id, kind: r.kind, title: r.title, case: r.case, tags: r.tags, classification: r.classification, capturedAt: r.capturedAt, updatedAt: r.updatedAt, version: r.version, deletedAt: r.deletedAt });

const initial = { selectedId: null, record: null, loading: false, loadError: null, mode: 'view' as EditorMode, draft: null, saving: false, formError: null, conflict: null, history: null, historyOpen: false, historyLoading: false };

let openSeq = 0;

export const useRecord = create<RecordState>()((set, get) => ({
  ...initial,

  async open(id) {
    const seq = ++openSeq;
    set({ ...initial, selectedId: id, loading: true });
    try {
      const record = await getApi()['records.get']({ id });
      if (seq === openSeq) set({ record, loading: false });
    } catch (e) {
      if (seq !== openSeq) return;
      const err = toApiError(e);
      if (err.code === 'LOCKED') useSession.getState().markLocked();
      set({ loading: false, loadError: err.code === 'NOT_FOUND' ? 'This record no longer exists. It may have been deleted forever.' : err.message });
    }
  },

  close() {
    openSeq++;
    set(initial);
  },

  startNew(kind = 'note') {
    openSeq++;
    set({ ...initial, mode: 'new', draft: newDraft(kind) });
  },

  startEdit() {
    const r = get().record;
    if (r && !r.deletedAt) set({ mode: 'edit', draft: draftOf(r), formError: null, conflict: null });
  },

  setDraft(patch) {
    const d = get().draft;
    if (!d) return;
    const next = { ...d, ...patch };
    // A new record's kind decides which fields exist; only observations have typed fields.
    if (patch.kind && patch.kind !== d.kind) next.fields = patch.kind === 'observation' && d.fields.length === 0 ? newDraft('observation').fields : patch.kind === 'observation' ? d.fields : [];
    set({ draft: next, formError: null });
  },

  cancelEdit() {
    const { mode } = get();
    if (mode === 'new') set(initial);
    else set({ mode: 'view', draft: null, formError: null, conflict: null });
  },

  async save() {
    const { draft, mode, record } = get();
    if (!draft || get().saving) return false;
    const valid = validateDraft(draft);
    if (!valid.ok) {
      set({ formError: valid.message });
      return false;
    }
    set({ saving: true, formError: null });
    const api = getApi();
    try {
      if (mode === 'new') {
        const v = valid.value;
        const created = await api['records.create']({ kind: draft.kind, title: v.title, body: v.body, fields: v.fields, case: v.case, tags: v.tags, classification: v.classification, capturedAt: v.capturedAt });
        openSeq++;
        set({ ...initial, selectedId: created.id, record: created });
        toast.success('Record created');
        await useRecords.getState().run();
        const idx = (useRecords.getState().pages[0] ?? []).findIndex((r) => r.id === created.id);
        if (idx >= 0) useRecords.getState().setActiveIndex(idx);
      } else if (record) {
        const patch = patchOf(record, valid.value);
        if (Object.keys(patch).length === 0) {
          set({ mode: 'view', draft: null, saving: false });
          return true;
        }
        const updated = await api['records.update']({ id: record.id, version: record.version, patch });
        set({ record: updated, mode: 'view', draft: null, saving: false, history: null });
        useRecords.getState().patchRow(summaryOf(updated));
        toast.success(`Saved as version ${updated.version}`);
      }
      void useRecords.getState().loadFacets();
      return true;
    } catch (e) {
      const err = toApiError(e);
      set({ saving: false });
      if (err.code === 'CONFLICT') {
        set({ conflict: err.message });
      } else if (err.code === 'BAD_REQUEST') {
        set({ formError: err.message });
      } else {
        reportError(e, 'Not saved');
      }
      return false;
    }
  },

  async reload() {
    const id = get().selectedId;
    if (id) await get().open(id);
  },

  async remove() {
    const r = get().record;
    if (!r) return;
    try {
      await getApi()['records.delete']({ id: r.id });
      get().close();
      await useRecords.getState().run();
      toastWithUndo(r.id, r.title);
    } catch (e) {
      reportError(e, 'Could not move to Trash');
    }
  },

  async restore() {
    const r = get().record;
    if (!r) return;
    try {
      await getApi()['records.restore']({ id: r.id });
      get().close();
      await useRecords.getState().run();
      toast.success(`“${r.title}” restored`);
    } catch (e) {
      reportError(e, 'Could not restore');
    }
  },

  async purge() {
    const r = get().record;
    if (!r) return false;
    try {
      await getApi()['records.purge']({ id: r.id });
      get().close();
      await useRecords.getState().run();
      void useRecords.getState().loadFacets();
      toast.success(`“${r.title}” deleted forever`);
      return true;
    } catch (e) {
      reportError(e, 'Could not delete');
      return false;
    }
  },

  async openHistory() {
    const r = get().record;
    if (!r) return;
    set({ historyOpen: true, historyLoading: true });
    try {
      const history = await getApi()['records.history']({ id: r.id });
      if (get().record?.id === r.id) set({ history: [...history].sort((a, b) => b.version - a.version), historyLoading: false });
    } catch (e) {
      set({ historyLoading: false, historyOpen: false });
      reportError(e, 'Could not load the history');
    }
  },

  closeHistory() {
    set({ historyOpen: false });
  },

  attachmentsAdded(list) {
    const r = get().record;
    if (!r || list.length === 0) return;
    const ids = new Set(r.attachments.map((a) => a.id));
    set({ record: { ...r, attachments: [...r.attachments, ...list.filter((a) => !ids.has(a.id))] } });
  },

  reset() {
    openSeq++;
    set(initial);
  },
}));

/** Moving to Trash is undoable from the toast, like any good desktop app. */
function toastWithUndo(id: string, title: string): void {
  useToasts.getState().push({
    kind: 'success',
    message: `“${title}” moved to Trash`,
    action: {
      label: 'Undo',
      run: () => {
        const api = getApi();
        api['records.restore']({ id })
          .then(() => useRecords.getState().run())
          .then(() => toast.success(`“${title}” restored`))
          .catch((e: unknown) => reportError(e, 'Could not restore'));
      },
    },
  });
}
