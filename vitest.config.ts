import { defineConfig } from 'vitest/config';

// Unit and integration tests for core, shared, main adapters and CLI.
// Each test uses its own temporary vault directory, so files run in parallel.
export default defineConfig({
  test: {
    include: ['electron/**/*.test.ts', 'renderer/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['scripts/vitest-global-setup.mjs'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
