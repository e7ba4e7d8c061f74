import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let override: string | undefined;

/** Packaged apps set this to their resources folder (Electron: process.resourcesPath). */
export function setResourcesDir(dir: string): void {
  override = dir;
}

/**
 * The project's resources/ folder: the override, else the nearest `resources/` above this
 * module (the source tree, or a bundle under out/), so it works wherever the code was built to.
 */
export function resourcesDir(): string {
  if (override) return override;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'resources', 'fonts'))) return join(dir, 'resources');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(process.cwd(), 'resources');
}
