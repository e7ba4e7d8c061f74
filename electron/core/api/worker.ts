// The core worker thread (docs/architecture.md, "Processes and trust"): keys, the database, KDF and bulk crypto live
// here, so Electron's main thread never stalls. It answers validated calls from its parent
// and forwards core's events; it trusts nothing but its parent port.
import { parentPort, workerData } from 'node:worker_threads';
import type { Dialogs } from './handlers.ts';
import { createCore } from './handlers.ts';
import type { DialogKind, FromWorker, ToWorker, WorkerConfig } from './protocol.ts';
import { UploadInbox } from './uploadInbox.ts';

const port = parentPort;
if (!port) throw new Error('the core worker must run in a worker thread');
const config = workerData as WorkerConfig;
const send = (m: FromWorker) => port.postMessage(m);

let nextDialog = 0;
const pendingDialogs = new Map<number, (result: string[] | string | null) => void>();
function askMain(kind: DialogKind, arg?: string): Promise<string[] | string | null> {
  const id = ++nextDialog;
  return new Promise((resolve) => {
    pendingDialogs.set(id, resolve);
    send({ type: 'dialog', id, kind, ...(arg === undefined ? {} : { arg }) });
  });
}

const dialogs: Dialogs | null = config.dialogs
  ? {
      openFiles: async () => {
        const r = await askMain('openFiles');
        return Array.isArray(r) ? r : [];
      },
      saveFile: async (defaultName) => {
        const r = await askMain('saveFile', defaultName);
        return typeof r === 'string' ? r : null;
      },
      openImportFile: async () => {
        const r = await askMain('openImportFile');
        return typeof r === 'string' ? r : null;
      },
      saveReport: async (defaultName) => {
        const r = await askMain('saveReport', defaultName);
        return typeof r === 'string' ? r : null;
      },
      showInFolder: async (path) => {
        await askMain('showInFolder', path);
        return null;
      },
      openCertificate: async () => {
        const r = await askMain('openCertificate');
        return typeof r === 'string' ? r : null;
      },
    }
  : null;

const core = createCore({
  vaultDir: config.vaultDir,
  settingsFile: config.settingsFile,
  shell: config.shell,
  appVersion: config.appVersion,
  dialogs,
  emit: (event, payload) => send({ type: 'event', event, payload }),
});

const uploads = new Map<number, UploadInbox>();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'call':
      void core.invoke(m.method, m.request).then((envelope) => send({ type: 'reply', id: m.id, envelope }));
      break;
    case 'upload': {
      const id = m.id;
      const inbox = new UploadInbox((bytes) => send({ type: 'upload-ack', id, bytes }));
      uploads.set(id, inbox);
      void core.upload(m.method, m.request, { chunks: inbox, size: m.size }).then((envelope) => {
        uploads.delete(id);
        inbox.abort(); // zeroes whatever was sent after a refusal
        send({ type: 'reply', id, envelope });
      });
      break;
    }
    case 'upload-chunk':
      uploads.get(m.id)?.push(m.data);
      break;
    case 'upload-end':
      uploads.get(m.id)?.end();
      break;
    case 'upload-abort':
      uploads.get(m.id)?.abort();
      break;
    case 'dialog-result':
      pendingDialogs.get(m.id)?.(m.result);
      pendingDialogs.delete(m.id);
      break;
    case 'close':
      void core.close().finally(() => {
        send({ type: 'closed' });
        port.close();
      });
      break;
  }
});
