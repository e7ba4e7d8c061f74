// Lint, and the layering rule of DESIGN.md section 2 (as VS Code enforces its
// common / node / electron-main / electron-browser layers):
//   electron/shared  imports no runtime (no node:, electron, react)
//   electron/core    never imports electron, main, preload, cli or renderer
//   electron/preload imports only electron and shared
//   renderer         imports only electron/shared (and browser packages)
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process', 'worker_threads', 'stream', 'net', 'http'];
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const layer = (group, message) => ({ group, message });

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
    files: ['electron/core/**/*.ts'],
    ignores: ['electron/core/**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: ['electron/shared/**/*.ts'],
    rules: restrict([
      layer(nodeBuiltins, 'electron/shared is the IPC contract: it imports no runtime.'),
      layer(['electron', 'electron/*', 'react', 'react-dom', '**/core/**', '**/main/**', '**/preload/**', '**/cli/**', '**/renderer/**'], 'electron/shared imports nothing but schema libraries.'),
    ]),
  },
  {
    files: ['electron/core/**/*.ts'],
    rules: restrict([
      layer(['electron', 'electron/*', 'react', 'react-dom', '**/main/**', '**/preload/**', '**/cli/**', '**/renderer/**'], 'electron/core is plain Node: no electron, no adapters, no UI.'),
    ]),
  },
  {
    files: ['electron/cli/**/*.ts'],
    rules: restrict([layer(['electron', 'electron/*', '**/main/**', '**/preload/**', '**/renderer/**'], 'the CLI is a thin adapter over core.')]),
  },
  {
    files: ['electron/preload/**/*.ts'],
    rules: restrict([layer([...nodeBuiltins, '**/core/**', '**/main/**', '**/cli/**', '**/renderer/**'], 'preload exposes the shared contract and nothing else.')]),
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: restrict([
      layer([...nodeBuiltins, 'electron', 'electron/*', '**/electron/core/**', '**/electron/main/**', '**/electron/preload/**', '**/electron/cli/**'], 'the renderer imports only electron/shared.'),
    ]),
  },
);
