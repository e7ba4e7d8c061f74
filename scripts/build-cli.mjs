// Builds the CLI bundle (out/cli: custody.mjs, bench.mjs, coreWorker.mjs) so that a build never
// pulls the files from under a process that is running them: each build goes to a folder of
// its own (out/cli-builds/<id>), and out/cli is a symbolic link switched to it by one rename,
// which is atomic. A process that started on the previous build keeps loading its chunks from
// that build's folder (Node resolves the link when it loads custody.mjs). Two test runs in one
// checkout may therefore build at the same time; the last one to finish wins, both are whole.
//
// Unless forced, nothing is built when no source is newer than the current build: the sources
// are everything the bundle is made of (electron/, bench/, the migrations under prisma/, the
// build config and the dependencies' lock file). Folders count too, so a deleted or renamed
// file makes the build stale as well.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const paths = (root) => ({ out: join(root, 'out'), link: join(root, 'out', 'cli'), builds: join(root, 'out', 'cli-builds') });
/** Written into each build: when its build started (sources changed later make it stale). */
const STAMP = '.built-from';
const SOURCES = ['electron', 'bench', 'prisma', 'vite.cli.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json'];
/** Older builds are removed once they are this old and not one of the two newest (a long test run may still use one). */
const KEEP_MS = 60 * 60 * 1000;

/** The newest modification time under `path` (files and folders), in ms. */
function newestUnder(path) {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  let newest = st.mtimeMs;
  // Test files are not in the bundle.
  if (st.isDirectory()) for (const name of readdirSync(path)) if (!/\.test\.tsx?$/.test(name)) newest = Math.max(newest, newestUnder(join(path, name)));
  return newest;
}

export function sourcesNewest(root = ROOT) {
  return Math.max(...SOURCES.map((s) => newestUnder(join(root, s))));
}

/** Whether out/cli is a whole build made after every source's last change. */
export function isFresh(root = ROOT) {
  try {
    const built = Number(readFileSync(join(root, 'out', 'cli', STAMP), 'utf8'));
    return Number.isFinite(built) && existsSync(join(root, 'out', 'cli', 'custody.mjs')) && sourcesNewest(root) < built;
  } catch {
    return false;
  }
}

/** Points out/cli at `target` (a folder in out/cli-builds) with one atomic rename. */
export function switchLink(root, target) {
  const { out, link, builds } = paths(root);
  const st = lstatSync(link, { throwIfNoEntry: false });
  // A folder from before builds were linked: moved aside once (not atomic, only this one time).
  if (st && !st.isSymbolicLink()) renameSync(link, join(builds, `previous-${process.pid}-${Date.now()}`));
  const tmp = join(out, `.cli-link-${process.pid}-${Date.now()}`);
  symlinkSync(join('cli-builds', target), tmp);
  renameSync(tmp, link);
}

function removeOldBuilds(root, current) {
  const { builds } = paths(root);
  const all = readdirSync(builds)
    .map((name) => ({ name, at: statSync(join(builds, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const [i, b] of all.entries()) {
    if (b.name === current || i < 2 || Date.now() - b.at < KEEP_MS) continue;
    rmSync(join(builds, b.name), { recursive: true, force: true });
  }
}

/** Builds the CLI unless it is fresh (or always, with force). Returns whether it built. */
export function buildCli({ force = false, env = process.env } = {}) {
  if (!force && isFresh()) return false;
  const { builds } = paths(ROOT);
  mkdirSync(builds, { recursive: true });
  const id = `${Date.now()}-${process.pid}`;
  const dir = join(builds, id);
  const started = Date.now();
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'vite.cli.config.ts', '--outDir', dir], { cwd: ROOT, stdio: 'inherit', env });
  // Sources saved while the build ran are newer than this: the next run builds again.
  writeFileSync(join(dir, STAMP), String(started));
  switchLink(ROOT, id);
  removeOldBuilds(ROOT, id);
  return true;
}
