import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The default vault directory: the same folder Electron's app.getPath('userData') gives the
 * desktop app, so the CLI and the app open the same vault unless told otherwise.
 */
export function defaultVaultDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = homedir();
  const base =
    platform === 'win32'
      ? (env.APPDATA ?? join(home, 'AppData', 'Roaming'))
      : platform === 'darwin'
        ? join(home, 'Library', 'Application Support')
        : (env.XDG_CONFIG_HOME ?? join(home, '.config'));
  return join(base, 'Custody', 'vault');
}
