// Signed reports over IPC: without a file (the web shell) the zip's bytes come back for the page
// to download; in the desktop app it is written where main's save dialog said.
import { basename } from 'node:path';
import { exportReport } from '../reports/export.ts';
import type { CoreContext, FileHandlers, Handlers, Planners } from './coreContext.ts';

const reportFileName = () => `custody-report-${new Date().toISOString().slice(0, 10)}.zip`;

export function reportHandlers({ deps: { emit }, vault }: CoreContext) {
  const reportProgress = (done: number, total: number, label: string) => emit('progress', { op: 'report', done, total, label });
  return {
    handlers: {
      'reports.export': async (req) => {
        const c = await vault.unlocked();
        const r = await exportReport(c, { ...req, zip: true, onProgress: reportProgress, outDir: '', toMemory: true });
        return { fileName: reportFileName(), records: r.records, entries: r.entries, manifestSha256: r.manifestSha256, checkpointSize: r.checkpointSize, vkeyFingerprint: r.vkeyFingerprint, data: r.data };
      },
    } satisfies Partial<Handlers>,
    planners: {
      'reports.export': async () => {
        await vault.unlocked();
        return { dialog: 'saveReport', defaultName: reportFileName(), cancelled: null, reveal: true };
      },
    } satisfies Partial<Planners>,
    fileHandlers: {
      'reports.export': async ({ path, ...req }) => {
        const c = await vault.unlocked();
        const r = await exportReport(c, { ...req, zip: true, onProgress: reportProgress, outDir: path });
        return { fileName: basename(r.path), records: r.records, entries: r.entries, manifestSha256: r.manifestSha256, checkpointSize: r.checkpointSize, vkeyFingerprint: r.vkeyFingerprint };
      },
    } satisfies Partial<FileHandlers>,
  };
}
