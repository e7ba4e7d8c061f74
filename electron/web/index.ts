// Entry of the loopback web shell, the second shell beside Electron's main (built to
// out/main/webShell.js, next to the core worker it starts; run by `npm run start:web`, by
// `npm start` where Electron cannot run, and by Playwright's webServer). Plain Node, no
// electron: it shares main's core host, validation and session (electron/main), not main itself.
//   --port N | CUSTODY_WEB_PORT   port on 127.0.0.1 (default: a free one)
//   CUSTODY_VAULT                 vault directory (default: the desktop app's)
//   CUSTODY_WEB_TOKEN             the access token (default: a fresh random one per launch)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingsFileFor } from '../core/api/settings.ts';
import { defaultVaultDir } from '../core/vault/location.ts';
import { CoreHost } from '../main/coreHost.ts';
import { startWebShell } from './webShell.ts';

function portArg(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  const raw = i < 0 ? env.CUSTODY_WEB_PORT : argv[i]!.includes('=') ? argv[i]!.slice(7) : argv[i + 1];
  if (raw === undefined || raw === '') return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not "${raw}"`);
  return port;
}

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

async function main(): Promise<void> {
  const port = portArg(process.argv.slice(2), process.env);
  const vaultDir = resolve(process.env.CUSTODY_VAULT || defaultVaultDir());
  const core = new CoreHost({
    workerFile: new URL('./coreWorker.js', import.meta.url),
    vaultDir,
    settingsFile: settingsFileFor(vaultDir),
    shell: 'web',
    appVersion: appVersion(),
    nativeDialogs: false,
  });
  const shell = await startWebShell({
    backend: core,
    staticDir: fileURLToPath(new URL('../renderer/', import.meta.url)),
    port,
    token: process.env.CUSTODY_WEB_TOKEN || undefined,
  });
  core.onCrash(() => {
    void shell.close().finally(() => process.exit(1));
  });

  process.stdout.write(`Custody web shell (vault: ${vaultDir})\nOpen ${shell.url}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Closing the core locks the vault (an audit entry) before the process ends.
    void shell
      .close()
      .then(() => core.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`custody web shell: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
