// `npm run start:web`: the loopback web shell (electron/web, built to out/main/webShell.js: the
// IPC contract over HTTP on 127.0.0.1) for browsers and end-to-end tests. Builds the app first when its sources are newer than out/
// (or always with --build), then prints the address to open, token included.
//   --port N | CUSTODY_WEB_PORT     port (default: a free one)
//   CUSTODY_VAULT                   vault directory (default: the desktop app's)
//   CUSTODY_WEB_TOKEN               access token (default: a fresh random one per launch)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const OUTPUTS = ['out/main/webShell.js', 'out/main/coreWorker.js', 'out/renderer/index.html'];
const INPUTS = ['electron', 'renderer', 'prisma/migrations', 'electron.vite.config.ts', 'package.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return /\.test\.tsx?$/.test(path) ? 0 : st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) if (name !== 'node_modules' && name !== 'generated') max = Math.max(max, newest(join(path, name)));
  return max;
}

function needsBuild() {
  if (process.argv.includes('--build')) return true;
  if (!OUTPUTS.every((p) => existsSync(p))) return true;
  const built = Math.min(...OUTPUTS.map((p) => statSync(p).mtimeMs));
  return INPUTS.some((p) => newest(p) > built);
}

if (needsBuild()) {
  process.stderr.write('Building Custody (electron-vite build)…\n');
  try {
    // Build output goes to stderr so stdout carries only the address.
    execFileSync('npx', ['--no-install', 'electron-vite', 'build'], { stdio: ['ignore', process.stderr, 'inherit'] });
  } catch {
    console.error('custody: the build failed (see above); the web shell did not start');
    process.exit(1);
  }
}

await import(pathToFileURL(join(process.cwd(), 'out/main/webShell.js')).href);
