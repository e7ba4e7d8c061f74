// `npm start`: builds and launches the desktop app (`npm start -- --dev` for the dev server
// with hot reload). Where Electron's binary cannot be had (no network to fetch it, as on the
// build machine of DESIGN.md section 7) it says so in one line and points to the web shell.
import { spawn, spawnSync } from 'node:child_process';
import { electronBinary } from './electron-binary.mjs';

const dev = process.argv.includes('--dev');

let binary = electronBinary();
let tried = false;
if (!binary.ok && !binary.reason.startsWith('the electron package')) {
  // First use: electron fetches its binary when required; give it that one chance, quietly.
  tried = true;
  const fetched = spawnSync(process.execPath, ['-e', "require('electron')"], { stdio: 'ignore', timeout: 180_000 });
  if (fetched.status === 0) binary = electronBinary();
}
if (!binary.ok) {
  const why = tried ? `${binary.reason}, and downloading it failed` : binary.reason;
  console.error(`Custody: cannot start the desktop app: Electron is not available here (${why}); run \`npm run start:web\` to use Custody in a browser instead.`);
  process.exit(1);
}

const child = spawn('npx', ['--no-install', 'electron-vite', dev ? 'dev' : 'preview'], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
