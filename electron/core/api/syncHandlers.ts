// What the sync calls from the window (desktop app or web shell) need beyond the engine. A
// connection string typed into the window is checked here too, not only by the contract's
// schema, because this is the last door before the driver: it may not name files on this
// computer (the driver would read them, and send a client certificate to the server), and it
// must keep the connection private (sync/server/urlPolicy.ts). The one file the window may
// have used, the server's CA certificate, is chosen in main's own file dialog, before the call
// comes down (protocol.ts, 'call-with-files').
import { CustodyError } from '../../shared/errors.ts';
import { FILE_PARAMS_REFUSED, fileParamsOf } from '../../shared/syncUrl.ts';
import type { SyncEngine } from '../sync/client/engine.ts';
import { assertPrivateConnection, withTlsFiles } from '../sync/server/urlPolicy.ts';

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
