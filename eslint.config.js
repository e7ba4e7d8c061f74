// Lint, and the layering rule of DESIGN.md section 2 (as VS Code enforces its
// common / node / electron-main / electron-browser layers):
//   electron/shared  imports no runtime (no node:, electron, react)
//   electron/core    never imports electron, main, preload, cli or renderer
//   electron/preload imports only electron and shared
//   renderer         imports only electron/shared (and browser packages)
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Exact module names for Node built-ins (a folder named "path" is not the module), a regex
// for node: and electron specifiers, and regexes over relative paths for the layers.
const NODE = ['fs', 'fs/promises', 'path', 'crypto', 'os', 'child_process', 'worker_threads', 'stream', 'net', 'http', 'https', 'url', 'util'];
const rule = (message, { names = [], regexes = [] }) => ({
  'no-restricted-imports': ['error', { paths: names.map((name) => ({ name, message })), patterns: regexes.map((regex) => ({ regex, message })) }],
});
const NODE_RE = '^node:';
const ELECTRON_RE = '^electron(/.*)?$';
const REACT_RE = '^react(-dom)?(/.*)?$';
// electron/<layer>/ anywhere in the path, or a sibling layer reached with ../ (from inside electron/).
const layer = (...names) => `(^|/)electron/(${names.join('|')})/|^(\\.\\./)+(${names.join('|')})/`;

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
    files: ['electron/shared/**/*.ts'],
    rules: rule('electron/shared is the IPC contract: it imports no runtime, only schema libraries.', {
      names: NODE,
      regexes: [NODE_RE, ELECTRON_RE, REACT_RE, layer('core', 'main', 'preload', 'cli'), '(^|/)renderer/'],
    }),
  },
  {
    files: ['electron/core/**/*.ts'],
    rules: rule('electron/core is plain Node: no electron, no adapters, no UI.', { regexes: [ELECTRON_RE, REACT_RE, layer('main', 'preload', 'cli'), '(^|/)renderer/'] }),
  },
  {
    files: ['electron/cli/**/*.ts'],
    rules: rule('the CLI is a thin adapter over core.', { regexes: [ELECTRON_RE, layer('main', 'preload'), '(^|/)renderer/'] }),
  },
  {
    files: ['electron/preload/**/*.ts'],
    rules: rule('preload exposes the shared contract and nothing else.', { names: NODE, regexes: [NODE_RE, layer('core', 'main', 'cli'), '(^|/)renderer/'] }),
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: rule('the renderer imports only electron/shared.', { names: NODE, regexes: [NODE_RE, ELECTRON_RE, layer('core', 'main', 'preload', 'cli')] }),
  },
);
