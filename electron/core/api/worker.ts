// The core worker thread (docs/architecture.md, "Processes and trust"): keys, the database, KDF and bulk crypto live
// here, so Electron's main thread never stalls. It answers validated calls from its parent
// and forwards core's events; it trusts nothing but its parent port, and asks it for nothing:
// file dialogs are main's, shown before a call comes down with its path (protocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { createCore } from './handlers.ts';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.ts';
import { UploadInbox } from './uploadInbox.ts';

const port = parentPort;
if (!port) throw new Error('the core worker must run in a worker thread');
const config = workerData as WorkerConfig;
const send = (m: FromWorker) => port.postMessage(m);

const core = createCore({
  vaultDir: config.vaultDir,
  settingsFile: config.settingsFile,
  shell: config.shell,
  appVersion: config.appVersion,
  nativeDialogs: config.nativeDialogs,
  emit: (event, payload) => send({ type: 'event', event, payload }),
});

const uploads = new Map<number, UploadInbox>();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'call':
      void core.invoke(m.method, m.request).then((envelope) => send({ type: 'reply', id: m.id, envelope }));
      break;
    case 'plan':
      void core.plan(m.method, m.request).then((envelope) => send({ type: 'reply', id: m.id, envelope }));
      break;
    case 'call-with-files':
      void core.invokeWithFiles(m.method, m.request).then((envelope) => send({ type: 'reply', id: m.id, envelope }));
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
    case 'close':
      void core.close().finally(() => {
        send({ type: 'closed' });
        port.close();
      });
      break;
  }
});
