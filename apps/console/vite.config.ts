// The console bundle: plain TypeScript, bundled by Vite for browsers (the `browser` export
// condition, so @helm/crypto resolves to its noble/no-node entry). Deterministic: no timestamps,
// content-hashed names, one fixed base (/console/, where `helmts serve` mounts it).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const stub = fileURLToPath(new URL('./src/node-stub.ts', import.meta.url));

export default defineConfig({
  base: '/console/',
  resolve: {
    // @helm/evidencepack and @helm/parallel-verify (not TCB) also read files and start worker
    // threads; the console only verifies bytes in memory with workers: 0, so those paths are never
    // taken. Their node built-ins are replaced by a module whose every export throws, so a path
    // that did reach one fails closed instead of loading.
    alias: [
      { find: /^node:(fs|os|worker_threads|crypto)$/, replacement: stub },
      // @helm/trust's TUF client (tree-shaken out: the verifier imports only its registry) names
      // these too; the same stub keeps the build quiet and fails closed if ever reached.
      { find: /^(crypto|util)$/, replacement: stub },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2023',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 2000,
  },
});
