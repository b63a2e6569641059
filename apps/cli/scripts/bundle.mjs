// Bundles the CLI (dist/entry.js, as tsc built it, and everything it imports) into one classic
// script, dist/bundle/helmts.cjs, so that starting `helmts` reads a handful of files instead of
// resolving and loading ~460 (the ESM resolver's per-specifier package lookups and realpath calls
// were most of a `helmts run`; see apps/cli/bench/README.md). dist/bin.cjs runs the bundle through
// dist/code-cache.cjs when it is present and current, and falls back to dist/bin.js otherwise, so a
// plain `tsc -b` never runs stale code.
//
// Why one classic script and not ES modules: V8 can serialize the code of a classic script after it
// ran (`vm.Script#createCachedData()`), with every function the run compiled; Node's compile cache
// for modules is written when a module is compiled, before it runs, and holds only its top level
// (docs/PERFORMANCE.md). The file is one function expression,
// `(function (module, exports, require, __filename, __dirname) {"use strict"; ...})`, which the
// loader compiles with `vm.Script`, runs, and calls: the whole bundle runs in strict mode, as the
// ES-module bundle did (module code is strict, and esbuild put the CommonJS dependencies' factories
// inside it), so no code changes mode. It holds no dynamic `import()` (see `supported` below).
//
// Three things do not survive bundling as written, and are handled here:
// - `import.meta.url` names the bundle, not the file the code came from. Worker entry points and
//   asset paths are computed from it, so in every bundled workspace file it is replaced by that
//   file's own URL, found at run time from the package's location (the package is resolved along
//   a chain of dependencies from the CLI, as Node would from the CLI's directory).
// - `import.meta.resolve(x)` likewise resolves from that file's package.
// - Third-party code that loads files next to itself (wabt's wasm) or is only needed by a worker
//   (jco) stays external; the CLI lists those packages as its own dependencies.
// Node's built-in modules are loaded with `require`, not `import` (builtinPlugin below).
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cli = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(cli, 'dist', 'bundle');
const EXTERNAL = ['wabt', '@bytecodealliance/jco-transpile', 'pg-native', 'cloudflare:sockets'];

/** The workspace package that holds `file` (name and root), found by its nearest package.json. */
const packageCache = new Map();
function packageOf(file) {
  let dir = dirname(file);
  for (;;) {
    if (packageCache.has(dir)) return packageCache.get(dir);
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name) {
        const found = { name: pkg.name, root: dir, pkg };
        packageCache.set(dir, found);
        return found;
      }
    } catch {
      // no package.json here: go up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${file}`);
    dir = up;
  }
}

/**
 * A chain of package names from the CLI to `name`, each a dependency of the one before, so the run
 * time can resolve `name` the way Node would from inside its dependant (pnpm's layout is strict: a
 * package not declared by the CLI is not resolvable from the CLI's directory).
 */
function chainTo(name) {
  const start = packageOf(join(cli, 'package.json'));
  const queue = [[start.root, []]];
  const seen = new Set([start.root]);
  while (queue.length > 0) {
    const [root, chain] = queue.shift();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const require = createRequire(join(root, 'package.json'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      // Where Node would find the package (its exports may not expose package.json).
      const depRoot = (require.resolve.paths(dep) ?? [])
        .map((dir) => join(dir, dep))
        .find((dir) => existsSync(join(dir, 'package.json')));
      if (depRoot === undefined) continue;
      if (dep === name) return [...chain, dep];
      if (!seen.has(depRoot) && dep.startsWith('@helm/')) {
        seen.add(depRoot);
        queue.push([depRoot, [...chain, dep]]);
      }
    }
  }
  throw new Error(`${name} is not a (transitive) dependency of @helm/cli: the bundle could not locate it`);
}

/** The file a package's "." export names (what resolving the bare name gives), relative to its root. */
function mainOf(found) {
  const dot = found.pkg.exports?.['.'];
  const target = typeof dot === 'string' ? dot : (dot?.import ?? dot?.default);
  if (typeof target !== 'string') throw new Error(`${found.name} has no "." export`);
  return join(found.root, target);
}

const toPosix = (p) => p.split(sep).join('/');

const metaPlugin = {
  name: 'helm-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (args.path.includes(`${sep}node_modules${sep}`)) {
        // Third-party code is mapped to the JavaScript it ships, not through its own maps: those
        // often name sources the package does not ship.
        const contents = source.replace(/^\/\/# sourceMappingURL=.*$/gm, '');
        return { contents, loader: 'js', resolveDir: dirname(args.path) };
      }
      if (!source.includes('import.meta')) return undefined;
      const found = packageOf(args.path);
      let base;
      if (found.root === cli) {
        // The CLI's own files ship next to the bundle: relative to the bundle's directory.
        base = `new URL(${JSON.stringify(`${toPosix(relative(out, dirname(args.path)))}/`)}, __helmBundleUrl)`;
      } else {
        const main = mainOf(found);
        const rel = toPosix(relative(dirname(main), dirname(args.path)));
        base = `new URL(${JSON.stringify(`${rel === '' ? '.' : rel}/`)}, __helmPackageUrl(${JSON.stringify(chainTo(found.name))}))`;
      }
      const fileUrl = `new URL(${JSON.stringify(args.path.split(sep).pop())}, ${base}).href`;
      const contents = source
        .replaceAll('import.meta.url', `(${fileUrl})`)
        .replaceAll('import.meta.resolve(', `__helmResolveFrom(${fileUrl}, `);
      const code = source.split('\n').filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line));
      if (code.some((line) => /import\.meta\.(?!url\b|resolve\()/.test(line)))
        throw new Error(`${args.path}: an import.meta use the bundle does not handle`);
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Built-in modules by `require`, not ESM `import`. Node builds the ESM namespace of a built-in by
 * reading every export, which runs every lazy getter: `import … from 'node:fs'` loads fs/promises
 * and readline, `node:util` parseArgs and the diff engine, `node:crypto` webcrypto. Each built-in
 * the bundled code imports becomes a small CommonJS module instead, whose exports object has no
 * own keys and the built-in as its prototype: esbuild's interop (`__toESM`) builds the namespace it
 * hands each importer on that same prototype and copies no own keys (copying a getter per export
 * per importing file cost as much as the namespaces did), so `import { readFileSync } from
 * 'node:fs'` becomes a property read on the real module at the use site. Same objects, same
 * functions; `require` is the banner's. Exports that are functions or instances (`node:events`,
 * `node:stream`, `node:module`, `node:assert`: a class or a function; `node:process`: an emitter
 * whose methods use `this`) are handed over as they are.
 * Built-ins that are expensive to load and used only inside functions `run` does not call
 * (worker_threads and child_process: ~16 M instructions, ~15 ms of CPU at this machine's load;
 * net, http, …) are required on the first property read, through a proxy prototype.
 * Pinned by test/startup.test.ts (what `run` loads; the bundle's sandboxed call, verify workers).
 * Third-party CommonJS code already requires built-ins and is left as is.
 */
const LAZY_BUILTINS = new Set([
  'node:worker_threads',
  'node:child_process',
  'node:http',
  'node:https',
  'node:http2',
  'node:net',
  'node:tls',
  'node:dgram',
  'node:zlib',
  'node:util',
]);

function builtinModuleSource(specifier) {
  const req = `require(${JSON.stringify(specifier)})`;
  if (LAZY_BUILTINS.has(specifier))
    return `let m;\nmodule.exports = Object.create(new Proxy(Object.create(null), {\n  get: (_, key) => (m ??= ${req})[key],\n  has: (_, key) => key in (m ??= ${req}),\n}));`;
  return `const m = ${req};\nmodule.exports = typeof m === 'function' || m === process ? m : Object.create(m);`;
}

const builtinPlugin = {
  name: 'helm-builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      // A dynamic `import('node:os')` stays Node's own: split into a chunk of its own, a shim would
      // only `export default` the module, and `const { tmpdir } = await import(...)` would read
      // undefined (replay --reexecute did).
      if (args.kind === 'require-call' || args.kind === 'dynamic-import' || args.namespace === 'helm-builtin')
        return { path: args.path, external: true };
      return {
        path: args.path.startsWith('node:') ? args.path : `node:${args.path}`,
        namespace: 'helm-builtin',
      };
    });
    b.onLoad({ filter: /.*/, namespace: 'helm-builtin' }, (args) => ({
      contents: builtinModuleSource(args.path),
      loader: 'js',
    }));
  },
};

/**
 * Workspace packages whose module graph a bundled command initialises only when it first uses one
 * of their exports. `@helm/runtime-sandbox` (the WebAssembly sandbox: its top level locates its
 * worker entry points through the package resolver) was ~12% of a warm `helmts run` of a function
 * tool, which never touches it. An `import` of such a package from bundled code gets, instead of the
 * package, a CommonJS module whose exports object has no own keys and a proxy as its prototype (as
 * for the lazy built-ins above): esbuild's interop turns each named import into a property read at
 * the use site, and the first read runs the package's (bundled, esbuild-wrapped) module graph.
 * Sound only while no bundled module reads one of its exports at its own top level, re-exports it
 * with `export *` (esbuild copies own keys: there are none) or enumerates its namespace: the build
 * fails on `export *` from such a package; test/startup.test.ts pins that a `run` of a function tool
 * leaves it uninitialised and that the bundle's sandboxed call works.
 */
const LAZY_PACKAGES = new Set(['@helm/runtime-sandbox']);

function lazyPackageSource(file) {
  return `let m;\nconst load = () => (m ??= require(${JSON.stringify(file.startsWith('.') ? file : `./${file}`)}));\nmodule.exports = Object.create(new Proxy(Object.create(null), {\n  get: (_, key) => load()[key],\n  has: (_, key) => key in load(),\n}));`;
}

const lazyPackagePlugin = {
  name: 'helm-lazy-packages',
  setup(b) {
    b.onResolve({ filter: /^@helm\/[a-z-]+$/ }, async (args) => {
      if (!LAZY_PACKAGES.has(args.path) || args.pluginData?.real || args.kind !== 'import-statement')
        return undefined;
      const real = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { real: true },
      });
      if (real.errors.length > 0) return { errors: real.errors };
      const source = readFileSync(args.importer, 'utf8');
      if (new RegExp(`export\\s*\\*\\s*(as\\s+\\w+\\s*)?from\\s*['"]${args.path}['"]`).test(source))
        throw new Error(`${args.importer}: export * from ${args.path}, which the bundle loads lazily`);
      // Named relative to the CLI, so no path of the build machine is in the bundle or its map.
      return { path: toPosix(relative(cli, real.path)), namespace: 'helm-lazy' };
    });
    b.onLoad({ filter: /.*/, namespace: 'helm-lazy' }, (args) => ({
      contents: lazyPackageSource(args.path),
      loader: 'js',
      resolveDir: cli,
    }));
  },
};

// The script is one function expression (see the top of this file); its parameters are what a
// CommonJS module gets, filled in by dist/code-cache.cjs. Then the helpers the rewritten files call.
// Workspace packages export "." with a "default" condition equal to "import", so `require.resolve`
// finds the file `import.meta.resolve` would.
const banner = `(function (module, exports, require, __filename, __dirname) {"use strict";
const __helmBundleUrl = require('node:url').pathToFileURL(__filename).href;
const __helmPackageUrls = new Map();
function __helmPackageUrl(chain) {
  const key = chain.join(' ');
  let url = __helmPackageUrls.get(key);
  if (url === undefined) {
    const from = chain.length === 1 ? require : require('node:module').createRequire(__helmPackageUrl(chain.slice(0, -1)));
    url = require('node:url').pathToFileURL(from.resolve(chain[chain.length - 1])).href;
    __helmPackageUrls.set(key, url);
  }
  return url;
}
function __helmResolveFrom(from, specifier) {
  return require('node:url').pathToFileURL(require('node:module').createRequire(from).resolve(specifier)).href;
}`;

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { helmts: join(cli, 'dist', 'entry.js') },
  outdir: out,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  outExtension: { '.js': '.cjs' },
  external: EXTERNAL,
  // What is still imported dynamically (Node built-ins, wabt) becomes `require` wrapped in
  // esbuild's ESM interop: a `vm.Script` can `import()` only through a callback Node gates behind
  // --experimental-vm-modules, or its main-context loader, which prints an ExperimentalWarning.
  supported: { 'dynamic-import': false },
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  banner: { js: banner },
  footer: { js: '})' },
  plugins: [builtinPlugin, lazyPackagePlugin, metaPlugin],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
});

// ASCII only. esbuild escapes non-ASCII characters in code (charset 'ascii') but keeps them in the
// comments it carries over (an em dash in `// Gate 0–4`), and one such character makes V8 hold the
// whole chunk as a two-byte string: twice the memory, and Node's compile cache then hashes it via a
// UTF-8 re-encoding of the source on every start (~46 M instructions, 7% of a `helmts run`,
// docs/PERFORMANCE.md). Each non-ASCII character of a comment line becomes '?' ('??' outside the
// BMP), so every UTF-16 column — what the source maps count — stays where it was. A non-ASCII
// character anywhere else fails the build instead of being rewritten.
for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.cjs'))) {
  const path = join(process.cwd(), file);
  const source = readFileSync(path, 'utf8');
  if (/^[\x00-\x7f]*$/.test(source)) continue;
  const lines = source.split('\n').map((line, i) => {
    if (/^[\x00-\x7f]*$/.test(line)) return line;
    if (!/^\s*(\/\/|\/\*|\*)/.test(line))
      throw new Error(`${file}:${i + 1}: a non-ASCII character outside a comment line`);
    return line.replace(/[^\x00-\x7f]/gu, (c) => (c.length === 2 ? '??' : '?'));
  });
  writeFileSync(path, lines.join('\n'));
}

// No `import(` is left for the loader to fail on at run time (see `supported` above).
for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.cjs'))) {
  const at = readFileSync(join(process.cwd(), file), 'utf8').search(/\bimport\(/);
  if (at !== -1) throw new Error(`${file}: a dynamic import() at offset ${at}; vm.Script cannot run it`);
}

// Source maps: the bundle's maps lead to the TypeScript sources (esbuild follows tsc's maps). The
// CLI's own sources ship in its package (src/), as before; every other source (the workspace
// packages and third-party code compiled in) is embedded in the map, because where those files sit
// in an installation is not known here.
for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.cjs'))) {
  const mapPath = `${join(process.cwd(), file)}.map`;
  const map = JSON.parse(readFileSync(mapPath, 'utf8'));
  map.sourcesContent = map.sources.map((source) => {
    // builtinPlugin's generated modules have no file anywhere: the map carries their text
    if (source.startsWith('helm-builtin:')) return builtinModuleSource(source.slice('helm-builtin:'.length));
    if (source.startsWith('helm-lazy:')) return lazyPackageSource(source.slice('helm-lazy:'.length));
    const abs = join(out, source);
    return abs.startsWith(`${join(cli, 'src')}${sep}`) ? null : readFileSync(abs, 'utf8');
  });
  writeFileSync(mapPath, JSON.stringify(map));
}

// What the bundle was built from, so dist/bin.cjs can tell a stale bundle (a later `tsc -b`) and
// fall back to dist/bin.js. Only workspace files are listed: in an installed package the list is
// absent (not published) and the bundle is used as is.
const inputs = Object.keys(result.metafile.inputs)
  .filter((p) => !p.startsWith('helm-builtin:') && !p.startsWith('helm-lazy:'))
  .map((p) => join(process.cwd(), p))
  .filter((p) => !p.includes(`${sep}node_modules${sep}`))
  .map((p) => [toPosix(relative(out, p)), statSync(p).mtimeMs]);
writeFileSync(join(out, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
