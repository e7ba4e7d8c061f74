// Builds the `custody` command line (and the benchmark runner) for Node from the same
// TypeScript sources as the app; dependencies stay external (node_modules), core is bundled.
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
      input: { custody: 'electron/cli/index.ts', bench: 'bench/index.ts' },
      output: { format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs' },
    },
  },
  ssr: { target: 'node', noExternal: [] },
  logLevel: 'warn',
});
