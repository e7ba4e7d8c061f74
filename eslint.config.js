// Lint, and the layering rule of docs/architecture.md (as VS Code enforces its
// common / node / electron-main / electron-browser layers), with the packages each layer may
// use from scripts/dependency-classes.mjs:
//   electron/shared   the IPC contract: no runtime, only `shared` packages (zod)
//   electron/core     plain Node: `node` and `shared` packages; never electron (not even
//                     through import() or require()), main, preload, cli, web or renderer
//   electron/cli      a thin adapter over core: as core
//   electron/main     Electron's main process: electron and `shared` packages, no `node`
//                     packages, and from core only what needs no database (named below,
//                     types aside): the database, keys and crypto live in core's worker
//   electron/web      the loopback web shell, beside main: as main, without electron, and from
//                     electron/main only the modules both shells share (named below), none of
//                     which imports electron; main never imports the web shell
//   electron/preload  electron and shared only
//   renderer          `browser` and `shared` packages and electron/shared only
// Tests and test support may also use `tooling` packages (vitest); main's tests may use core.
// The same modules are refused through import() and require(), not only `import`.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { classificationProblems, packagesOf } from './scripts/dependency-classes.mjs';
import { noSqlInHandlersRule, tableOwnersRule } from './scripts/table-owners.mjs';

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A package by exact name, with its subpaths (react-dom/client). */
const packagesRe = (names) => `^(${names.map(escape).join('|')})(/.*)?$`;
// Node built-ins by exact name (a folder named "path" is not the module) or with node:.
const BUILTINS_RE = `^(node:.*|${builtinModules.map(escape).join('|')})$`;
// electron/<layer>/ anywhere in the path, or a sibling layer reached with ../ (from inside electron/).
const layer = (...names) => `(^|/)electron/(${names.join('|')})/|^(\\.\\./)+(${names.join('|')})/`;
const RENDERER_RE = '(^|/)renderer/';
// What electron/main may take from core at run time: protocol types and constants, settings
// and the vault's location (the payload error formatter is in shared). Nothing that opens the database.
const MAIN_MAY_USE_FROM_CORE = ['api/protocol', 'api/settings', 'vault/location'];
const CORE_EXCEPT_FOR_MAIN_RE = (() => {
  const allowed = `(?!(${MAIN_MAY_USE_FROM_CORE.map(escape).join('|')})\\.ts$)`;
  return `(^|/)electron/core/${allowed}|^(\\.\\./)+core/${allowed}`;
})();

// What the web shell may take from electron/main at run time: the code both shells share (the
// core host, the CSP, validation, the session with auto-lock, static files). The rest of main
// (index, menu, dialogs) is Electron's own and imports electron.
const WEB_MAY_USE_FROM_MAIN = ['coreHost', 'csp', 'dispatch', 'session', 'staticFiles'];
const MAIN_EXCEPT_FOR_WEB_RE = (() => {
  const allowed = `(?!(${WEB_MAY_USE_FROM_MAIN.map(escape).join('|')})\\.ts$)`;
  return `(^|/)electron/main/${allowed}|^(\\.\\./)+main/${allowed}`;
})();

/** esquery cannot read "/" inside a regex literal: spell it \x2F. */
const selectorRe = (re) => `/${re.replace(/\\\//g, '/').replace(/\//g, '\\x2F')}/i`;

/**
 * One layer's import rules from a list of forbidden module regexes, each with its message:
 * static imports and exports (type imports too, unless allowTypeImports), and the same modules
 * through import() or require() with a literal name.
 */
function forbid(list) {
  return {
    'no-restricted-imports': 'off',
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: list.map(({ regex, message, allowTypeImports }) => ({ regex, message, ...(allowTypeImports ? { allowTypeImports } : {}) })) },
    ],
    'no-restricted-syntax': [
      'error',
      ...list.flatMap(({ regex, message }) => [
        { selector: `ImportExpression[source.value=${selectorRe(regex)}]`, message },
        { selector: `ImportExpression > TemplateLiteral.source[expressions.length=0][quasis.0.value.cooked=${selectorRe(regex)}]`, message },
        { selector: `CallExpression[callee.name="require"][arguments.0.value=${selectorRe(regex)}]`, message },
      ]),
    ],
  };
}

const node = (why) => ({ regex: BUILTINS_RE, message: `${why}: no Node built-ins.` });
const pkgs = (cls, why) => ({ regex: packagesRe(packagesOf(cls)), message: `${why}: no ${cls} packages (scripts/dependency-classes.mjs).` });
const layers = (why, ...names) => ({ regex: layer(...names), message: `${why}: not electron/{${names.join(',')}}.` });
const renderer = (why) => ({ regex: RENDERER_RE, message: `${why}: not the renderer.` });
const webFromMain = {
  regex: MAIN_EXCEPT_FOR_WEB_RE,
  message: `the web shell shares only what both shells use from electron/main (${WEB_MAY_USE_FROM_MAIN.map((m) => `${m}.ts`).join(', ')}), never Electron's own modules (types aside).`,
  allowTypeImports: true,
};

const TESTS = ['**/*.test.ts', '**/*.test.tsx', '**/*.test-helper.ts', '**/testing/**'];

/**
 * Custody's own rules: dependency-classes reports, on scripts/dependency-classes.mjs, package.json
 * dependencies it does not classify; table-owners and no-sql-in-handlers (scripts/table-owners.mjs) keep
 * each table to its module and SQL out of the API handlers.
 */
const custodyPlugin = {
  rules: {
    'dependency-classes': {
      meta: { type: 'problem', schema: [{ type: 'object', properties: { packageJson: { type: 'string' } }, additionalProperties: false }] },
      create(context) {
        return {
          Program(program) {
            const file = context.options[0]?.packageJson ?? 'package.json';
            for (const message of classificationProblems(JSON.parse(readFileSync(file, 'utf8')))) context.report({ node: program, message });
          },
        };
      },
    },
    'table-owners': tableOwnersRule,
    'no-sql-in-handlers': noSqlInHandlersRule,
  },
};

const SHARED = 'electron/shared is the IPC contract: it imports no runtime, only schema libraries';
const CORE = 'electron/core is plain Node: no electron, no adapters, no UI';
const CLI = 'the CLI is a thin adapter over core';
const MAIN = 'electron/main keeps the UI thread free: the database, keys and crypto run in core\u2019s worker';
const WEB = 'the web shell is plain Node beside main: it hosts core\u2019s worker like main does';
const PRELOAD = 'preload exposes the shared contract and nothing else';
const RENDERER = 'the renderer imports only electron/shared and browser packages';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'electron/core/db/generated/**', 'electron/core/sync/generated/**', 'test-results/**', 'playwright-report/**', 'artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', performance: 'readonly', fetch: 'readonly', AbortController: 'readonly', crypto: 'readonly', window: 'readonly', document: 'readonly', navigator: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS helper scripts (a require hook) are CommonJS on purpose.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['electron/core/**/*.ts'],
    ignores: ['electron/core/**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // An uncategorised dependency is a lint error, reported where it is fixed.
    files: ['scripts/dependency-classes.mjs'],
    plugins: { custody: custodyPlugin },
    rules: { 'custody/dependency-classes': 'error' },
  },
  {
    // One owner per table: only the owner module names it in SQL or Prisma (scripts/table-owners.mjs).
    files: ['electron/**/*.ts', 'renderer/**/*.{ts,tsx}'],
    ignores: TESTS,
    plugins: { custody: custodyPlugin },
    rules: { 'custody/table-owners': 'error' },
  },
  {
    files: ['electron/core/api/**/*.ts'],
    ignores: TESTS,
    plugins: { custody: custodyPlugin },
    rules: { 'custody/no-sql-in-handlers': 'error' },
  },
  {
    files: ['electron/shared/**/*.ts'],
    rules: forbid([node(SHARED), pkgs('node', SHARED), pkgs('browser', SHARED), pkgs('electron', SHARED), pkgs('tooling', SHARED), layers(SHARED, 'core', 'main', 'web', 'preload', 'cli'), renderer(SHARED)]),
  },
  {
    files: ['electron/shared/**/*.test.ts'],
    rules: forbid([node(SHARED), pkgs('node', SHARED), pkgs('browser', SHARED), pkgs('electron', SHARED), layers(SHARED, 'core', 'main', 'web', 'preload', 'cli'), renderer(SHARED)]),
  },
  {
    files: ['electron/core/**/*.ts'],
    ignores: TESTS,
    rules: forbid([pkgs('electron', CORE), pkgs('browser', CORE), pkgs('tooling', CORE), layers(CORE, 'main', 'web', 'preload', 'cli'), renderer(CORE)]),
  },
  {
    files: TESTS.map((t) => `electron/core/${t}`),
    rules: forbid([pkgs('electron', CORE), pkgs('browser', CORE), layers(CORE, 'main', 'web', 'preload', 'cli'), renderer(CORE)]),
  },
  {
    files: ['electron/cli/**/*.ts'],
    ignores: TESTS,
    rules: forbid([pkgs('electron', CLI), pkgs('browser', CLI), pkgs('tooling', CLI), layers(CLI, 'main', 'web', 'preload'), renderer(CLI)]),
  },
  {
    files: TESTS.map((t) => `electron/cli/${t}`),
    rules: forbid([pkgs('electron', CLI), pkgs('browser', CLI), layers(CLI, 'main', 'web', 'preload'), renderer(CLI)]),
  },
  {
    files: ['electron/main/**/*.ts'],
    ignores: TESTS,
    rules: forbid([
      pkgs('node', MAIN),
      pkgs('browser', MAIN),
      pkgs('tooling', MAIN),
      { regex: CORE_EXCEPT_FOR_MAIN_RE, message: `${MAIN}: from electron/core only ${MAIN_MAY_USE_FROM_CORE.map((m) => `${m}.ts`).join(', ')} (and types).`, allowTypeImports: true },
      layers(MAIN, 'web', 'preload', 'cli'),
      renderer(MAIN),
    ]),
  },
  {
    files: TESTS.map((t) => `electron/main/${t}`),
    rules: forbid([pkgs('browser', MAIN), layers(MAIN, 'web', 'preload', 'cli'), renderer(MAIN)]),
  },
  {
    files: ['electron/web/**/*.ts'],
    ignores: TESTS,
    rules: forbid([
      pkgs('electron', WEB),
      pkgs('node', WEB),
      pkgs('browser', WEB),
      pkgs('tooling', WEB),
      { regex: CORE_EXCEPT_FOR_MAIN_RE, message: `${WEB}: from electron/core only ${MAIN_MAY_USE_FROM_CORE.map((m) => `${m}.ts`).join(', ')} (and types).`, allowTypeImports: true },
      webFromMain,
      layers(WEB, 'preload', 'cli'),
      renderer(WEB),
    ]),
  },
  {
    files: TESTS.map((t) => `electron/web/${t}`),
    rules: forbid([pkgs('electron', WEB), pkgs('browser', WEB), webFromMain, layers(WEB, 'preload', 'cli'), renderer(WEB)]),
  },
  {
    files: ['electron/preload/**/*.ts'],
    rules: forbid([node(PRELOAD), pkgs('node', PRELOAD), pkgs('browser', PRELOAD), pkgs('tooling', PRELOAD), layers(PRELOAD, 'core', 'main', 'web', 'cli'), renderer(PRELOAD)]),
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    ignores: TESTS,
    rules: forbid([node(RENDERER), pkgs('node', RENDERER), pkgs('electron', RENDERER), pkgs('tooling', RENDERER), layers(RENDERER, 'core', 'main', 'web', 'preload', 'cli')]),
  },
  {
    files: TESTS.map((t) => `renderer/${t}`),
    rules: forbid([node(RENDERER), pkgs('node', RENDERER), pkgs('electron', RENDERER), layers(RENDERER, 'core', 'main', 'web', 'preload', 'cli')]),
  },
);
