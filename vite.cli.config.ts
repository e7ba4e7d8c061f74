// Builds the `custody` command line (and the benchmark runner) for Node from the same
// TypeScript sources as the app; dependencies stay external (node_modules), core is bundled.
// Also core's worker thread (coreWorker.mjs), so main's tests run CoreHost over a real worker
// without an Electron build (electron/main/coreHost.test.ts; the app's own is out/main/coreWorker.js).
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    ssr: true,
    outDir: 'out/cli',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    minify: false,
    rollupOptions: {
      input: { custody: 'electron/cli/index.ts', bench: 'bench/index.ts', coreWorker: 'electron/core/api/worker.ts' },
      output: { format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs' },
    },
  },
  ssr: { target: 'node', noExternal: [] },
  logLevel: 'warn',
});
