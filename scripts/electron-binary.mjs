// Is Electron's binary installed? Answered without downloading it: `require('electron')`
// would try to fetch it on first use (docs/architecture.md, "Where it runs"), which fails offline.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** @returns {{ ok: true, path: string } | { ok: false, reason: string }} */
export function electronBinary(root = process.cwd()) {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return { ok: false, reason: 'the electron package is not installed (run npm install)' };
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return { ok: false, reason: 'no binary under node_modules/electron: path.txt is missing' };
  const rel = readFileSync(pathFile, 'utf8').trim();
  const path = process.env.ELECTRON_OVERRIDE_DIST_PATH ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel) : join(pkg, 'dist', rel);
  if (!existsSync(path)) return { ok: false, reason: `its binary is missing (${path})` };
  return { ok: true, path };
}
