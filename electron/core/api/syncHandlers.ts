// What the sync calls from the window (desktop app or web shell) need beyond the engine. A
// connection string typed into the window is checked here too, not only by the contract's
// schema, because this is the last door before the driver: it may not name files on this
// computer (the driver would read them, and send a client certificate to the server), and it
// must keep the connection private (sync/server/urlPolicy.ts). The one file the window may
// have used, the server's CA certificate, is chosen in main's own file dialog.
import { CustodyError } from '../../shared/errors.ts';
import { FILE_PARAMS_REFUSED, fileParamsOf } from '../../shared/syncUrl.ts';
import type { SyncEngine } from '../sync/client/engine.ts';
import { assertPrivateConnection, withTlsFiles } from '../sync/server/urlPolicy.ts';
import type { Dialogs } from './handlers.ts';

/**
 * Configures sync with a connection string the window sent; with `dialogs`, first asks for
 * the server's CA certificate. Returns false when the user cancelled that dialog (nothing changed).
 */
export async function configureFromWindow(engine: SyncEngine, url: string, dialogs?: Dialogs | null): Promise<boolean> {
  if (fileParamsOf(url).length > 0) throw new CustodyError('BAD_REQUEST', FILE_PARAMS_REFUSED);
  let chosen = url;
  if (dialogs !== undefined) {
    if (!dialogs?.openCertificate) throw new CustodyError('BAD_REQUEST', 'choosing a CA certificate needs the desktop app\'s file dialog; here, use the command line: custody sync configure --ssl-root-cert <file>');
    const file = await dialogs.openCertificate();
    if (!file) return false;
    chosen = withTlsFiles(url, { rootCert: file });
  }
  assertPrivateConnection(chosen);
  await engine.configure({ url: chosen });
  return true;
}
