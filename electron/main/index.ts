// Electron main: one hardened window, the menu, auto-lock, and the IPC contract bound to
// ipcMain with a sender check and schema validation before anything reaches the core worker.
// Nothing domain-specific lives here (docs/architecture.md: "Processes and trust", "Layers and what each may import").
import { app, BrowserWindow, dialog, ipcMain, Menu, powerMonitor, protocol, session as electronSession, type IpcMainInvokeEvent } from 'electron';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { channelOf, EVENT_CHANNEL, METHOD_NAMES, type EventName, type Events } from '../shared/contract.ts';
import { settingsFileFor } from '../core/api/settings.ts';
import { defaultVaultDir } from '../core/vault/location.ts';
import { CoreHost } from './coreHost.ts';
import { DEV_CSP, SECURITY_HEADERS } from './csp.ts';
import { withDialogs } from './dialogCalls.ts';
import { electronDialogs } from './dialogs.ts';
import { failure, isRendererUrl } from './dispatch.ts';
import { buildMenu } from './menu.ts';
import { Session } from './session.ts';
import { contentTypeOf, resolveStatic } from './staticFiles.ts';

const SCHEME = 'custody';
/** The packaged renderer is served from a private scheme, not file:// (which can read any file). */
const APP_URL = `${SCHEME}://app/index.html`;
const devServer = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const rendererUrl = devServer ?? APP_URL;
const development = devServer !== undefined;

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true } }]);
app.enableSandbox();
app.setName('Custody');

const vaultDir = resolve(process.env.CUSTODY_VAULT || defaultVaultDir());
// The app's own data (settings, Chromium's storage) beside the default vault, where the CLI looks too.
if (!process.env.CUSTODY_VAULT) app.setPath('userData', dirname(vaultDir));

let mainWindow: BrowserWindow | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  // Every web contents, not only our window: no new windows, no navigation, no webviews.
  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (e) => e.preventDefault());
    contents.on('will-redirect', (e) => e.preventDefault());
    contents.on('will-attach-webview', (e) => e.preventDefault());
  });
  app.whenReady().then(start, (e: unknown) => fatal(e));
}

function fatal(e: unknown): void {
  console.error('[custody] failed to start:', e instanceof Error ? (e.stack ?? e.message) : String(e));
  dialog.showErrorBox('Custody could not start', e instanceof Error ? e.message : String(e));
  app.exit(1);
}

async function start(): Promise<void> {
  const core = new CoreHost({
    workerFile: new URL('./coreWorker.js', import.meta.url),
    vaultDir,
    settingsFile: settingsFileFor(vaultDir),
    shell: 'electron',
    appVersion: app.getVersion(),
    nativeDialogs: true,
  });
  core.onCrash(() => {
    dialog.showErrorBox('Custody stopped', 'The vault engine stopped unexpectedly. Your data on disk is safe; Custody will close now.');
    app.exit(1);
  });

  const send = <E extends EventName>(event: E, payload: Events[E]) => mainWindow?.webContents.send(EVENT_CHANNEL, event, payload);
  core.onEvent(send);

  const session = new Session({
    // A method that needs a file shows its native dialog here, before the call goes to core.
    backend: withDialogs(core, electronDialogs(() => mainWindow)),
    idleSeconds: () => powerMonitor.getSystemIdleTime(),
    onLocked: (reason) => {
      send('locked', { reason });
      // Keys are gone from core; reloading frees every decrypted view the page still holds.
      setImmediate(() => mainWindow?.webContents.reload());
    },
  });
  await session.start();

  powerMonitor.on('suspend', () => void session.systemEvent('suspend'));
  powerMonitor.on('lock-screen', () => void session.systemEvent('screen-lock'));

  const trusted = (e: IpcMainInvokeEvent): boolean =>
    mainWindow !== null && e.sender === mainWindow.webContents && e.senderFrame !== null && e.senderFrame.parent === null && isRendererUrl(e.senderFrame.url, rendererUrl);
  for (const method of METHOD_NAMES) {
    ipcMain.handle(channelOf(method), (e, raw: unknown) => (trusted(e) ? session.call(method, raw) : failure('BAD_REQUEST', 'refused: the call did not come from the Custody window')));
  }

  hardenSession(electronSession.defaultSession);
  const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === 'app' && request.method === 'GET' ? resolveStatic(rendererDir, url.pathname) : null;
    if (!file) return new Response('not found', { status: 404, headers: SECURITY_HEADERS });
    return new Response(await readFile(file), { headers: { ...SECURITY_HEADERS, 'content-type': contentTypeOf(file) } });
  });

  Menu.setApplicationMenu(
    buildMenu({
      command: (name) => send('command', { name }),
      lock: () => void session.lock('menu'),
      devTools: development,
    }),
  );

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    e.preventDefault();
    quitting = true;
    session.stop();
    // Closing core locks the vault (and records it) before the process ends.
    void core.close().finally(() => app.quit());
  });
  // A vault app locks when its window closes, on macOS too.
  app.on('window-all-closed', () => app.quit());

  mainWindow = createWindow();
}

function hardenSession(s: Electron.Session): void {
  const ours = (url: string) => isRendererUrl(url, rendererUrl);
  // Copying the recovery key is the one permission the page needs.
  s.setPermissionRequestHandler((wc, permission, callback) => callback(permission === 'clipboard-sanitized-write' && ours(wc.getURL())));
  s.setPermissionCheckHandler((wc, permission) => permission === 'clipboard-sanitized-write' && wc !== null && ours(wc.getURL()));
  if (development) {
    s.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DEV_CSP] } }));
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 880,
    minHeight: 560,
    show: false,
    title: 'Custody',
    webPreferences: {
      preload: fileURLToPath(new URL('../preload/index.cjs', import.meta.url)),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: development,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  // A crashed page is reloaded, but not in a loop: a page that keeps crashing stays down.
  let lastCrash = 0;
  win.webContents.on('render-process-gone', (_e, details) => {
    if (details.reason === 'clean-exit' || Date.now() - lastCrash < 10_000) return;
    lastCrash = Date.now();
    win.webContents.reload();
  });
  void win.loadURL(rendererUrl);
  return win;
}
