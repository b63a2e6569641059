// `node --import ./ts-resolve.mjs script.ts`: lets a plain Node process run workspace sources the
// way vitest does (tests only) — `@helm/<pkg>` resolves to packages/<pkg>/src/index.ts and a
// relative `.js` specifier with no such file resolves to the `.ts` beside it.
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

const packages = new URL('../../../', import.meta.url);

registerHooks({
  resolve(specifier, context, next) {
    const workspace = /^@helm\/([a-z-]+)$/.exec(specifier);
    if (workspace !== null) return next(new URL(`${workspace[1]}/src/index.ts`, packages).href, context);
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.startsWith('file:')) {
      const js = new URL(specifier, context.parentURL);
      const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (!existsSync(fileURLToPath(js)) && existsSync(fileURLToPath(ts))) return next(ts.href, context);
    }
    return next(specifier, context);
  },
});
