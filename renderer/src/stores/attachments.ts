// Attachment actions for the open record. On the desktop, files move through main's native
// dialogs (the renderer never sees a path); in the browser shell, as bytes the user picked
// or dropped, and back out as a download.
import { create } from 'zustand';
import type { AttachmentView } from '../../../electron/shared/records.ts';
import { getApi } from '../api/client.ts';
import { downloadBytes, readFileBytes } from '../lib/download.ts';
import { formatBytes, plural } from '../lib/format.ts';
import { reportError } from './errors.ts';
import { useRecord } from './record.ts';
import { useSession } from './session.ts';
import { toast } from './toasts.ts';

const MAX_UPLOAD = 256 * 1024 * 1024;

export type Verification = { ok: true; at: string } | { ok: false; message: string };

interface AttachmentsState {
  /** A short description of the upload under way ("Encrypting report.pdf (2 of 3)"). */
  uploading: string | null;
  busy: Record<string, 'saving' | 'verifying'>;
  verified: Record<string, Verification>;
  addFromDialog(recordId: string): Promise<void>;
  addFiles(recordId: string, files: File[]): Promise<void>;
  save(a: AttachmentView): Promise<void>;
  verify(a: AttachmentView): Promise<void>;
  reset(): void;
}

export const useAttachments = create<AttachmentsState>()((set, get) => {
  const setBusy = (id: string, what: 'saving' | 'verifying' | null) => {
    const busy = { ...get().busy };
    if (what) busy[id] = what;
    else delete busy[id];
    set({ busy });
  };

  return {
    uploading: null,
    busy: {},
    verified: {},

    async addFromDialog(recordId) {
      set({ uploading: 'Encrypting…' });
      try {
        const added = await getApi()['attachments.addFromDialog']({ recordId });
        useRecord.getState().attachmentsAdded(added);
        if (added.length) toast.success(`${plural(added.length, 'attachment')} added`);
      } catch (e) {
        reportError(e, 'Attachment not added');
      } finally {
        set({ uploading: null });
      }
    },

    async addFiles(recordId, files) {
      const tooBig = files.filter((f) => f.size > MAX_UPLOAD);
      for (const f of tooBig) toast.error(`“${f.name}” is ${formatBytes(f.size)}; the browser shell accepts files up to 256 MiB. Use the desktop app for larger files.`);
      const ok = files.filter((f) => f.size <= MAX_UPLOAD);
      let added = 0;
      try {
        for (const [i, file] of ok.entries()) {
          set({ uploading: `Encrypting ${file.name}${ok.length > 1 ? ` (${i + 1} of ${ok.length})` : ''}` });
          const data = await readFileBytes(file);
          const a = await getApi()['attachments.addBytes']({ recordId, name: file.name || 'attachment', data });
          useRecord.getState().attachmentsAdded([a]);
          added++;
        }
        if (added) toast.success(added === 1 ? `“${ok[0]!.name}” attached` : `${plural(added, 'attachment')} added`);
      } catch (e) {
        reportError(e, 'Attachment not added');
      } finally {
        set({ uploading: null });
      }
    },

    async save(a) {
      setBusy(a.id, 'saving');
      try {
        const api = getApi();
        if (useSession.getState().info?.nativeDialogs) {
          const { saved } = await api['attachments.saveToDialog']({ id: a.id });
          if (saved) toast.success(`“${a.name}” saved`);
        } else {
          const file = await api['attachments.read']({ id: a.id });
          downloadBytes(file.data as Uint8Array<ArrayBuffer>, file.name, file.mediaType || 'application/octet-stream');
        }
      } catch (e) {
        reportError(e, `Could not save “${a.name}”`);
      } finally {
        setBusy(a.id, null);
      }
    },

    async verify(a) {
      setBusy(a.id, 'verifying');
      try {
        const res = await getApi()['attachments.verify']({ id: a.id });
        set({ verified: { ...get().verified, [a.id]: { ok: true, at: new Date().toISOString() } } });
        toast.success(`“${a.name}” is intact: ${formatBytes(res.size)}, SHA-256 matches`);
      } catch (e) {
        const err = reportError(e, `“${a.name}” failed verification`);
        if (err.code !== 'LOCKED') set({ verified: { ...get().verified, [a.id]: { ok: false, message: err.message } } });
      } finally {
        setBusy(a.id, null);
      }
    },

    reset() {
      set({ uploading: null, busy: {}, verified: {} });
    },
  };
});
