// The console bundle: plain TypeScript, bundled by Vite for browsers (the `browser` export
// condition, so @helm/crypto and @helm/evidencepack resolve to their browser entries, which import
// no Node built-in and use no Buffer). Any Node built-in in the module graph fails the build
// (browser-only.ts). Deterministic: no timestamps, content-hashed names, one fixed base
// (/console/, where `helmts serve` mounts it). Written into @helm/server's `dist/console/`: that
// package ships it (its `files` has `dist`), so an npm-installed `helmts serve` serves it too.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { browserOnly } from './browser-only.ts';

export default defineConfig({
  base: '/console/',
  plugins: [browserOnly()],
  build: {
    outDir: fileURLToPath(new URL('../server/dist/console/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2023',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 2000,
  },
});
