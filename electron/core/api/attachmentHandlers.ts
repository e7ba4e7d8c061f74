// Attachments over IPC: added from memory, from a streamed upload (web shell) or from the
// files main's dialog chose; opened in the page up to READ_LIMIT, saved to a chosen file.
import { basename } from 'node:path';
import { CustodyError } from '../../shared/errors.ts';
import type { AttachmentView } from '../../shared/records.ts';
import { bytesSource, type PlaintextSource } from '../attachments/blobfile.ts';
import { noDialog, type CoreContext, type FileHandlers, type Handlers, type Planners, type UploadHandlers } from './coreContext.ts';

// No plaintext temp files (uploads, imports, opened attachments, reports for the browser): bytes
// pass through memory, or stream straight into the vault's encrypted format.

/** Opening an attachment in the page sends its bytes over IPC: larger ones are saved instead. */
export const READ_LIMIT = 256 * 1024 * 1024;

export function attachmentHandlers({ vault, progress }: CoreContext) {
  const unlocked = () => vault.unlocked();

  /** Encrypts plaintext as it arrives (from memory or a streamed request body) into a new attachment. */
  async function addStreamed(recordId: string, name: string, source: PlaintextSource): Promise<AttachmentView> {
    const c = await unlocked();
    return c.attachments.add(recordId, source, { name, onProgress: progress('attachment', name) });
  }

  return {
    handlers: {
      'attachments.addFromDialog': async ({ recordId }) => {
        await (await unlocked()).currentVersion(recordId);
        throw noDialog('attachments.addBytes');
      },
      'attachments.addBytes': async ({ recordId, name, data }) => addStreamed(recordId, name, bytesSource(data)),
      'attachments.saveToDialog': async ({ id }) => {
        await (await unlocked()).attachments.view(id);
        throw noDialog('attachments.read');
      },
      'attachments.read': async ({ id }) => {
        const c = await unlocked();
        const meta = await c.attachments.view(id);
        if (meta.size > READ_LIMIT) throw new CustodyError('BAD_REQUEST', `"${meta.name}" is too large to open here (${meta.size} bytes); save it to a file instead`);
        const { data } = await c.attachments.read(id, { onProgress: progress('attachment', meta.name) });
        return { name: meta.name, mediaType: meta.mediaType, data };
      },
      'attachments.verify': async ({ id }) => (await unlocked()).verifyAttachment(id, progress('verify')),
    } satisfies Partial<Handlers>,
    uploads: {
      'attachments.addBytes': async ({ recordId, name }, source) => addStreamed(recordId, name, source),
    } satisfies Partial<UploadHandlers>,
    planners: {
      'attachments.addFromDialog': async ({ recordId }) => {
        await (await unlocked()).currentVersion(recordId);
        return { dialog: 'openFiles', cancelled: [] };
      },
      'attachments.saveToDialog': async ({ id }) => {
        const meta = await (await unlocked()).attachments.view(id);
        return { dialog: 'saveFile', defaultName: meta.name, cancelled: { saved: false } };
      },
    } satisfies Partial<Planners>,
    fileHandlers: {
      'attachments.addFromDialog': async ({ recordId, paths }) => {
        const c = await unlocked();
        const added: AttachmentView[] = [];
        for (const path of paths) added.push(await c.attachments.add(recordId, path, { onProgress: progress('attachment', basename(path)) }));
        return added;
      },
      'attachments.saveToDialog': async ({ id, path }) => {
        const c = await unlocked();
        const meta = await c.attachments.view(id);
        await c.extractAttachment(id, path, { purpose: 'exported', onProgress: progress('attachment', meta.name) });
        return { saved: true };
      },
    } satisfies Partial<FileHandlers>,
  };
}
