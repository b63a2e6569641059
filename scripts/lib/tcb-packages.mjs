// The workspace facts both TCB scripts need (tcb-metrics.mjs, readme-exports.mjs): which packages
// are TCB, each package's entry points as source files, and the names each entry point exports
// as the TypeScript compiler sees them.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const ts = require('typescript');

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** package.json `exports` subpath → source file (dist/x.js → src/x.ts). */
export function entryPoints(pkgDir) {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const entries = {};
  for (const [subpath, target] of Object.entries(manifest.exports ?? { '.': manifest.main })) {
    if (subpath === './package.json') continue;
    const js = typeof target === 'string' ? target : (target?.import ?? target?.default);
    if (typeof js !== 'string') continue;
    entries[subpath] = join(pkgDir, js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
  }
  return entries;
}

/** The TCB packages (`"helm": {"tcb": true}`), sorted by folder: `{folder, name, dir, entries}`. */
export function tcbPackages() {
  const out = [];
  for (const folder of readdirSync(join(ROOT, 'packages')).sort()) {
    const dir = join(ROOT, 'packages', folder);
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.helm?.tcb === true)
      out.push({ folder, name: manifest.name, dir, entries: entryPoints(dir) });
  }
  return out;
}

/**
 * For each source file, the names it exports: `{values, types}` (values include classes; an alias
 * counts as what it names), each sorted case-insensitively.
 */
export function exportedNames(files) {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const order = (a, b) =>
    a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;
  const out = new Map();
  for (const file of files) {
    const sf = program.getSourceFile(file);
    const module = sf && checker.getSymbolAtLocation(sf);
    const values = [];
    const types = [];
    for (const symbol of module ? checker.getExportsOfModule(module) : []) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
    }
    out.set(file, { values: values.sort(order), types: types.sort(order) });
  }
  return out;
}
