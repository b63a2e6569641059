// A Vite/Rollup plugin that fails the build on any import of a Node built-in (`node:fs`, `fs`,
// `worker_threads`, …): the console's module graph must be browser code only. Vite would otherwise
// replace such an import with an empty module and warn, and the page would fail only when a path
// reaching it runs. @helm/crypto and @helm/evidencepack come in through their `browser` export
// conditions, whose graphs have none (test/browser-build.test.ts plants one to see this fail).
import { builtinModules } from 'node:module';
import type { Plugin } from 'vite';

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export function isNodeBuiltin(id: string): boolean {
  return id.startsWith('node:') || BUILTINS.has(id) || BUILTINS.has(id.split('/')[0] as string);
}

export function browserOnly(): Plugin {
  return {
    name: 'helm-browser-only',
    enforce: 'pre',
    resolveId(source, importer) {
      if (isNodeBuiltin(source))
        this.error(`Node built-in '${source}' imported by ${importer ?? 'the entry'}: not browser code`);
      return null;
    },
  };
}
