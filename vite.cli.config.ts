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
  // The pure-JS libraries a command loads at every start are bundled in: as separate packages
  // (zod alone is 95 files) resolving, reading and compiling them took a good share of a short
  // command such as `custody add`. Native modules, Prisma and the libraries of rarer commands
  // stay in node_modules.
  ssr: { target: 'node', noExternal: ['zod', 'commander', 'canonicalize', 'csv-parse', 'minisearch', 'read', 'mute-stream', 'cli-progress'] },
  logLevel: 'warn',
});
