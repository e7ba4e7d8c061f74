// Which packages each layer may use, in one place (as Signal Desktop classifies its
// dependencies). Every dependency and devDependency of package.json has exactly one class
// here; eslint.config.js turns the classes into per-layer import rules, and reports on this
// file any package.json dependency missing here (and any entry package.json no longer has).
//   node      runs in Node only: core, the CLI and core's worker (database drivers, native
//             modules, the KDF, PDF and crypto). Never the renderer, the preload or shared;
//             not Electron's main either: the database and the crypto stay off its UI thread.
//   browser   the renderer's UI libraries (bundled into out/renderer).
//   shared    both sides: the schema library the IPC contract (electron/shared) is written in.
//   electron  the Electron runtime: electron/main and electron/preload only.
//   tooling   builds, tests, lint and types: scripts, configs, e2e and tests, never app code.

export const CLASSES = /** @type {const} */ (['node', 'browser', 'shared', 'electron', 'tooling']);

/** @type {Record<string, (typeof CLASSES)[number]>} */
export const DEPENDENCY_CLASSES = {
  '@pdf-lib/fontkit': 'node',
  '@prisma/adapter-better-sqlite3': 'node',
  '@prisma/adapter-pg': 'node',
  '@prisma/client': 'node',
  '@signpdf/signpdf': 'node',
  'age-encryption': 'node',
  argon2: 'node',
  'better-sqlite3': 'node',
  canonicalize: 'node',
  'cli-progress': 'node',
  commander: 'node',
  'csv-parse': 'node',
  fflate: 'node',
  minisearch: 'node',
  'node-forge': 'node',
  'pdf-lib': 'node',
  pg: 'node',
  read: 'node',

  zod: 'shared',

  '@tanstack/react-virtual': 'browser',
  react: 'browser',
  'react-dom': 'browser',
  zustand: 'browser',

  electron: 'electron',

  '@doyensec/electronegativity': 'tooling',
  '@eslint/js': 'tooling',
  '@playwright/test': 'tooling',
  '@types/better-sqlite3': 'tooling',
  '@types/cli-progress': 'tooling',
  '@types/node': 'tooling',
  '@types/node-forge': 'tooling',
  '@types/pg': 'tooling',
  '@types/react': 'tooling',
  '@types/react-dom': 'tooling',
  '@vitejs/plugin-react': 'tooling',
  'commander-v5': 'tooling',
  'electron-builder': 'tooling',
  'electron-vite': 'tooling',
  eslint: 'tooling',
  prisma: 'tooling',
  typescript: 'tooling',
  'typescript-eslint': 'tooling',
  vite: 'tooling',
  vitest: 'tooling',
};

/** The packages of the given classes, sorted. */
export function packagesOf(...classes) {
  return Object.keys(DEPENDENCY_CLASSES)
    .filter((name) => classes.includes(DEPENDENCY_CLASSES[name]))
    .sort();
}

/** What is wrong with the classification against a package.json object (empty: nothing). */
export function classificationProblems(pkg, classes = DEPENDENCY_CLASSES) {
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
  const problems = [];
  for (const name of [...declared].sort()) {
    if (!Object.hasOwn(classes, name)) problems.push(`package.json dependency "${name}" has no class in scripts/dependency-classes.mjs (${CLASSES.join(' | ')})`);
    else if (!CLASSES.includes(classes[name])) problems.push(`"${name}" has an unknown class "${classes[name]}" (${CLASSES.join(' | ')})`);
  }
  for (const name of Object.keys(classes).sort()) if (!declared.has(name)) problems.push(`"${name}" is classified but package.json does not depend on it`);
  return problems;
}
