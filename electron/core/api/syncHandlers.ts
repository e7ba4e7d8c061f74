// What the sync calls from the window (desktop app or web shell) need beyond the engine. A
// connection string typed into the window is checked here too, not only by the contract's
// schema, because this is the last door before the driver: it may not name files on this
// computer (the driver would read them, and send a client certificate to the server), and it
// must keep the connection private (sync/server/urlPolicy.ts). The one file the window may
// have used, the server's CA certificate, is chosen in main's own file dialog, before the call
// comes down (protocol.ts, 'call-with-files').
// syncHandlers(): the sync methods as an area of the core API (handlers.ts).
import { CustodyError } from '../../shared/errors.ts';
import { FILE_PARAMS_REFUSED, fileParamsOf } from '../../shared/syncUrl.ts';
import type { SyncEngine } from '../sync/client/engine.ts';
import { assertPrivateConnection, withTlsFiles } from '../sync/server/urlPolicy.ts';
import type { Responses } from '../../shared/contract.ts';
import type { CoreContext, FileHandlers, Handlers, Planners } from './coreContext.ts';

/**
 * Configures sync with a connection string the window sent, and with `caCertificate`, the
 * file main's dialog chose for the server's CA certificate (carried as sslrootcert).
 */
export async function configureFromWindow(engine: SyncEngine, url: string, caCertificate?: string): Promise<void> {
  if (fileParamsOf(url).length > 0) throw new CustodyError('BAD_REQUEST', FILE_PARAMS_REFUSED);
  const chosen = caCertificate === undefined ? url : withTlsFiles(url, { rootCert: caCertificate });
  assertPrivateConnection(chosen);
  await engine.configure({ url: chosen });
}

const PHASES = { pull: 'pulling', push: 'pushing', audit: "checking the other devices' audit logs" } as const;

export function syncHandlers({ deps: { emit }, sync }: CoreContext) {
  return {
    handlers: {
      'sync.status': async () => (await sync.engine()).status(),
      'sync.configure': async ({ url, caCertificateFromDialog }) => {
        const e = await sync.engine();
        if (caCertificateFromDialog) throw new CustodyError('BAD_REQUEST', "choosing a CA certificate needs the desktop app's file dialog; here, use the command line: custody sync configure --ssl-root-cert <file>");
        await configureFromWindow(e, url);
        await sync.startLoop();
        return e.status();
      },
      'sync.now': async () => (await sync.engine()).syncNow((p) => emit('progress', { op: 'sync', done: p.done, total: p.total, label: PHASES[p.phase] })),
      'sync.conflicts': async () => (await sync.engine()).conflicts({ all: true }),
      'sync.conflict': async ({ id }) => (await sync.engine()).conflict(id) as Promise<Responses['sync.conflict']>,
      'sync.resolve': async ({ id, keep }) => (await sync.engine()).resolveConflict(id, keep),
    } satisfies Partial<Handlers>,
    planners: {
      'sync.configure': async ({ caCertificateFromDialog }) => {
        if (!caCertificateFromDialog) return { dialog: null };
        const e = await sync.engine();
        return { dialog: 'openCertificate', cancelled: { ...e.status(), cancelled: true } };
      },
    } satisfies Partial<Planners>,
    fileHandlers: {
      'sync.configure': async ({ url, path }) => {
        const e = await sync.engine();
        await configureFromWindow(e, url, path);
        await sync.startLoop();
        return e.status();
      },
    } satisfies Partial<FileHandlers>,
  };
}
