// The CLI build used by every test run (build-cli.mjs): a run reuses a build newer than all
// sources, rebuilds when a source changed, was added or was deleted, and switches out/cli to
// a new build without touching the folder an earlier run is still using.
import { afterEach, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFresh, switchLink } from './build-cli.mjs';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

const T0 = new Date('2026-01-01T00:00:00Z');
const later = (s: number) => new Date(T0.getTime() + s * 1000);

/** A checkout with sources all dated T0 and a build stamped `builtAt`. */
function checkout(builtAt: Date): string {
  const r = mkdtempSync(join(tmpdir(), 'custody-build-'));
  for (const dir of ['electron/core', 'bench', 'prisma/migrations/0001_init']) mkdirSync(join(r, dir), { recursive: true });
  const files = ['electron/core/a.ts', 'electron/core/b.ts', 'bench/index.ts', 'prisma/migrations/0001_init/migration.sql', 'package.json'];
  for (const f of files) writeFileSync(join(r, f), 'x');
  for (const p of [...files, 'electron/core', 'electron', 'bench', 'prisma/migrations/0001_init', 'prisma/migrations', 'prisma']) utimesSync(join(r, p), T0, T0);
  const build = join(r, 'out/cli-builds/one');
  mkdirSync(build, { recursive: true });
  writeFileSync(join(build, 'custody.mjs'), 'build one');
  writeFileSync(join(build, '.built-from'), String(builtAt.getTime()));
  switchLink(r, 'one');
  return r;
}

test('a build newer than every source is reused; a changed, added or deleted source makes it stale', () => {
  root = checkout(later(10));
  expect(isFresh(root)).toBe(true);

  utimesSync(join(root, 'electron/core/a.ts'), later(20), later(20));
  expect(isFresh(root)).toBe(false);
  utimesSync(join(root, 'electron/core/a.ts'), T0, T0);
  expect(isFresh(root)).toBe(true);

  // A deleted file leaves only its folder's time behind.
  unlinkSync(join(root, 'electron/core/b.ts'));
  utimesSync(join(root, 'electron/core'), later(20), later(20));
  expect(isFresh(root)).toBe(false);
  utimesSync(join(root, 'electron/core'), T0, T0);

  // A new migration is part of the bundle.
  mkdirSync(join(root, 'prisma/migrations/0002_more'));
  writeFileSync(join(root, 'prisma/migrations/0002_more/migration.sql'), 'y');
  expect(isFresh(root)).toBe(false);
});

test('a build whose stamp is missing (interrupted) or older than a source is not reused', () => {
  root = checkout(later(10));
  unlinkSync(join(root, 'out/cli/.built-from'));
  expect(isFresh(root)).toBe(false);
  rmSync(root, { recursive: true, force: true });
  root = checkout(T0);
  expect(isFresh(root)).toBe(false);
});

test('switching to a new build replaces the link in one step and leaves the earlier build whole', () => {
  root = checkout(later(10));
  const before = realpathSync(join(root, 'out/cli/custody.mjs'));
  const two = join(root, 'out/cli-builds/two');
  mkdirSync(two);
  writeFileSync(join(two, 'custody.mjs'), 'build two');
  switchLink(root, 'two');
  expect(readlinkSync(join(root, 'out/cli'))).toBe(join('cli-builds', 'two'));
  expect(readFileSync(join(root, 'out/cli/custody.mjs'), 'utf8')).toBe('build two');
  // A process that resolved the link before still reads its own build.
  expect(readFileSync(before, 'utf8')).toBe('build one');
});

test('an out/cli folder from before links is moved aside once, then replaced by the link', () => {
  root = mkdtempSync(join(tmpdir(), 'custody-build-'));
  mkdirSync(join(root, 'out/cli'), { recursive: true });
  writeFileSync(join(root, 'out/cli/custody.mjs'), 'old layout');
  mkdirSync(join(root, 'out/cli-builds/new'), { recursive: true });
  writeFileSync(join(root, 'out/cli-builds/new/custody.mjs'), 'new');
  switchLink(root, 'new');
  expect(readFileSync(join(root, 'out/cli/custody.mjs'), 'utf8')).toBe('new');
});
