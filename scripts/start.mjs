// `npm start`: Custody on every machine.
//   - Where Electron's binary can be had: builds and launches the desktop app
//     (`npm start -- --dev` for the dev server with hot reload).
//   - Otherwise (or with --web): serves the same app, on the same vault, through the loopback
//     web shell (scripts/start-web.mjs, which builds out/ first when it is missing or stale),
//     prints its address, opens it in the default browser when there is one, and runs until
//     Ctrl+C, which locks the vault before the process ends. One line says why it is not the
//     desktop shell.
// Options for the web shell: --port N (default: a free one), --no-open (or BROWSER=none: print
// the address only); BROWSER=<command> opens the page with that command instead.
// CUSTODY_VAULT chooses another vault directory, as for the desktop app.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electron-binary.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const dev = args.includes('--dev');
const forceWeb = args.includes('--web');

if (forceWeb) {
  startWeb('--web was given');
} else {
  let binary = electronBinary(root);
  let tried = false;
  if (!binary.ok && !binary.reason.startsWith('the electron package')) {
    // First use: electron fetches its binary when required; give it that one chance.
    tried = true;
    process.stderr.write("Custody: fetching Electron's binary (first run)…\n");
    const fetched = spawnSync(process.execPath, ['-e', "require('electron')"], { cwd: root, stdio: 'ignore', timeout: 180_000 });
    if (fetched.status === 0) binary = electronBinary(root);
  }
  if (binary.ok) startDesktop();
  else startWeb(`Electron's binary is not available here (${binary.reason}${tried ? ', and fetching it failed' : ''})`);
}

function startDesktop() {
  const child = spawn('npx', ['--no-install', 'electron-vite', dev ? 'dev' : 'preview'], { cwd: root, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function startWeb(why) {
  process.stderr.write(`Custody: not the desktop app: ${why}; serving the same app (same vault) to your browser instead.\n`);
  const passThrough = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') passThrough.push(args[i], args[++i] ?? '');
    else if (args[i].startsWith('--port=') || args[i] === '--build') passThrough.push(args[i]);
  }
  const open = !args.includes('--no-open') && process.env.BROWSER !== 'none';
  // Build messages and errors go straight to the terminal; stdout is read for the address.
  const child = spawn(process.execPath, [join(root, 'scripts', 'start-web.mjs'), ...passThrough], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let launchDir;
  let pending = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    pending += chunk.toString('utf8');
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const address = /^Open (http:\/\/\S+)$/.exec(line)?.[1];
      if (address && open && !launchDir) launchDir = openInBrowser(address);
    }
  });

  // Ctrl+C reaches the whole process group; a signal sent to this process alone is passed on.
  // The web shell locks the vault on either, once, and exits; this process follows it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }
  child.on('exit', (code, signal) => {
    if (launchDir) rmSync(launchDir, { recursive: true, force: true });
    process.exit(code ?? (signal === 'SIGINT' ? 130 : 1));
  });
}

/** Whether `command` is an executable on PATH. */
function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** The command that opens a file in the default browser here, or null when there is none. */
function opener() {
  const browser = process.env.BROWSER;
  if (browser) return { command: browser, args: [] };
  if (process.platform === 'darwin') return { command: 'open', args: [] };
  // start's first quoted argument is a window title; cmd needs the quotes verbatim.
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'], quote: true };
  // Without a display xdg-open would start a text browser in this terminal.
  // (On Linux /usr/bin/open is often openvt, so never that.)
  if ((process.env.DISPLAY || process.env.WAYLAND_DISPLAY) && onPath('xdg-open')) return { command: 'xdg-open', args: [] };
  return null;
}

/**
 * Opens the address in the default browser, if there is one; never fails. The browser gets a
 * private file that forwards to the address, not the address itself: its token would
 * otherwise sit in the browser's command line, which other local users can read.
 * Returns the directory of that file (removed at exit).
 */
function openInBrowser(address) {
  const how = opener();
  if (!how) {
    process.stderr.write('Custody: no browser to open here; open the address above in one.\n');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'custody-start-')); // mode 0700
  const file = join(dir, 'open-custody.html');
  const attr = address.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  writeFileSync(file, `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${attr}"><title>Custody</title><a href="${attr}">Open Custody</a>\n`, { mode: 0o600 });
  try {
    const child = spawn(how.command, [...how.args, how.quote ? `"${file}"` : file], { stdio: 'ignore', detached: true, windowsVerbatimArguments: !!how.quote });
    child.on('error', () => process.stderr.write(`Custody: could not start ${how.command}; open the address above in a browser.\n`));
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`Custody: ${how.command} could not open a browser; open the address above in one.\n`);
    });
    child.unref();
    process.stderr.write('Custody: opening it in your default browser.\n');
  } catch {
    process.stderr.write('Custody: could not open a browser; open the address above in one.\n');
  }
  return dir;
}
