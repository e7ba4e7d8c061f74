// Records over IPC: search, read, write, history and import (from memory in the web shell, from
// the file main's dialog chose in the desktop app).
import { basename } from 'node:path';
import { noDialog, type CoreContext, type FileHandlers, type Handlers, type Planners } from './coreContext.ts';

export function recordHandlers({ vault, progress }: CoreContext) {
  const unlocked = () => vault.unlocked();
  return {
    handlers: {
      'records.search': async (q) => (await unlocked()).search(q),
      'records.facets': async () => {
        const c = await unlocked();
        await c.buildIndex();
        return c.index.facets();
      },
      'records.get': async ({ id }) => (await unlocked()).getRecord(id),
      'records.create': async (input) => (await unlocked()).createRecord(input),
      'records.update': async ({ id, version, patch }) => (await unlocked()).updateRecord(id, version, patch),
      'records.delete': async ({ id }) => (await unlocked()).deleteRecord(id),
      'records.restore': async ({ id }) => (await unlocked()).restoreRecord(id),
      'records.purge': async ({ id }) => {
        await (await unlocked()).purgeRecord(id);
        return { ok: true };
      },
      'records.history': async ({ id }) => (await unlocked()).history(id),
      'records.importFromDialog': async () => {
        await unlocked();
        throw noDialog('records.importBytes');
      },
      'records.importBytes': async ({ name, format, data }) => {
        const c = await unlocked();
        // Parsed from memory; the name stays out of the audit log (it can say too much).
        const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
        const { imported } = await c.importText(text, format, { onProgress: progress('import', name) });
        return { imported };
      },
    } satisfies Partial<Handlers>,
    planners: {
      'records.importFromDialog': async () => {
        await unlocked();
        return { dialog: 'openImportFile', cancelled: null };
      },
    } satisfies Partial<Planners>,
    fileHandlers: {
      'records.importFromDialog': async ({ path }) => {
        const { imported } = await (await unlocked()).importFile(path, { onProgress: progress('import', basename(path)) });
        return { imported };
      },
    } satisfies Partial<FileHandlers>,
  };
}
