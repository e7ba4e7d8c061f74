// `npm run typecheck`: every TypeScript project of the repository, each with its runtime's
// types (tsconfig.base.json lists them): the Node side without DOM, the renderer without Node.
// Runs them all, then exits non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const PROJECTS = ['tsconfig.json', 'renderer/tsconfig.json', 'renderer/tsconfig.test.json', 'electron/preload/tsconfig.json', 'e2e/tsconfig.json'];

function typecheck() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const failed = [];
  for (const project of PROJECTS) {
    process.stdout.write(`tsc -p ${project}\n`);
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) failed.push(project);
  }
  if (failed.length) {
    process.stdout.write(`typecheck failed in ${failed.join(', ')}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) typecheck();
