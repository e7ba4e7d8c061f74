// Builds the desktop app into out/ (docs/architecture.md, "Layers and what each may import"):
//   out/main/index.js        Electron main (ESM)
//   out/main/coreWorker.js   core's worker thread (keys, database, KDF, crypto)
//   out/main/webShell.js     the loopback web shell (electron/web: plain Node, no electron import),
//                            beside the worker it starts and sharing main's chunks (core host, validation)
//   out/preload/index.cjs    the contextBridge (CommonJS: sandboxed preloads cannot be ESM)
//   out/renderer/            the React renderer
// `electron-vite build` needs no Electron binary; `dev` and `preview` do.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

// Native modules and Prisma's runtime stay in node_modules (rebuilt for Electron when packaging).
const nativeAndPrisma = ['better-sqlite3', 'argon2', /^@prisma\//];

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      target: 'node20', // Electron 45 runs Node 22; the web shell also runs on Node 20
      sourcemap: true,
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve('electron/main/index.ts'),
          coreWorker: resolve('electron/core/api/worker.ts'),
          webShell: resolve('electron/web/index.ts'),
        },
        external: nativeAndPrisma,
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      sourcemap: true,
      // Sandboxed preloads can require only 'electron': everything else is bundled in.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('electron/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: resolve('out/renderer'),
      emptyOutDir: true,
      sourcemap: true,
      rollupOptions: { input: resolve('renderer/index.html') },
    },
  },
});
