// Every TCB package README carries an "Exports" table (issue #23 item 5): one row per entry point
// of package.json `exports`, listing its value and type names. This test recomputes the names with
// the TypeScript compiler and fails when the table and the code differ in either direction: a name
// listed but not exported is a stale doc, a name exported but not listed is public surface an
// auditor would not know to read. It also keeps `.` the whole, compatible surface: every subpath
// exports a subset of `.`, and every entry point has the three conditions (types, import, default).
// The exception is SEPARATE_ENTRIES: subpaths kept out of `.` so that importing the package does not
// load their dependencies; their names are not in `.`, and `.` does not reach their modules.
// Regenerate the tables with `node scripts/readme-exports.mjs --write`. Last, the verifier entry
// points (`./verify`, `@helm/crypto/envelope-open`, `@helm/crypto/ed25519`) must hold no signing
// code in their static import closure: a verifier imports only what verification runs.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BEGIN = '<!-- exports:begin';
const END = '<!-- exports:end -->';

interface TcbPackage {
  readonly name: string;
  readonly dir: string;
  readonly manifestExports: Record<string, unknown>;
  readonly entries: Record<string, string>;
}

function tcbPackages(): TcbPackage[] {
  const out: TcbPackage[] = [];
  for (const name of readdirSync(join(ROOT, 'packages')).sort()) {
    const dir = join(ROOT, 'packages', name);
    let manifest: { name: string; helm?: { tcb?: boolean }; exports?: Record<string, unknown> };
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.helm?.tcb !== true) continue;
    const entries: Record<string, string> = {};
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const js = (target as { import?: unknown } | null)?.import;
      if (subpath === './package.json' || typeof js !== 'string') continue;
      entries[subpath] = join(dir, js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
    }
    out.push({ name: manifest.name, dir, manifestExports: manifest.exports ?? {}, entries });
  }
  return out;
}

interface Names {
  readonly values: string[];
  readonly types: string[];
}

function exportedNames(files: readonly string[]): Map<string, Names> {
  const program = ts.createProgram([...files], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, Names>();
  for (const file of files) {
    const sf = program.getSourceFile(file);
    const module = sf && checker.getSymbolAtLocation(sf);
    const names: Names = { values: [], types: [] };
    for (const symbol of module ? checker.getExportsOfModule(module) : []) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? names.values : names.types).push(symbol.name);
    }
    names.values.sort();
    names.types.sort();
    out.set(file, names);
  }
  return out;
}

/** The rows of the README's generated Exports table: entry point → listed values and types. */
export function exportTable(readme: string): Map<string, Names> {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  const rows = new Map<string, Names>();
  if (start < 0 || end < start) return rows;
  const names = (cell: string): string[] =>
    [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string).sort();
  for (const line of readme.slice(start, end).split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `entry` | values | types |  →  ['', entry, values, types, '']
    if (cells.length !== 5 || !cells[1]?.startsWith('`@')) continue;
    rows.set((cells[1] as string).slice(1, -1), {
      values: names(cells[2] ?? ''),
      types: names(cells[3] ?? ''),
    });
  }
  return rows;
}

const packages = tcbPackages();
const exported = exportedNames(packages.flatMap((p) => Object.values(p.entries)));

/**
 * Subpaths that are not part of `.`: `@helm/trust`'s TUF client (tuf-js models) and Sigstore / SLSA
 * verifiers (`@sigstore/*`), which a process reading its trust registry never runs (issue #23).
 */
const SEPARATE_ENTRIES: Readonly<Record<string, readonly string[]>> = {
  '@helm/trust': ['./sigstore', './tuf'],
};

describe('TCB README export tables = entry point exports', () => {
  it('finds the eight TCB packages, each with a `.` entry point', () => {
    expect(packages).toHaveLength(8);
    for (const p of packages) expect(p.entries['.'], p.name).toBeDefined();
  });

  for (const pkg of packages) {
    it(`${pkg.name}: every entry point's row lists exactly its exported values and types`, () => {
      const table = exportTable(readFileSync(join(pkg.dir, 'README.md'), 'utf8'));
      const expected = new Map(
        Object.entries(pkg.entries).map(([sub, file]) => [`${pkg.name}${sub.slice(1)}`, exported.get(file)]),
      );
      expect(Object.fromEntries(table)).toEqual(Object.fromEntries(expected));
    });

    it(`${pkg.name}: subpaths export subsets of "." and every entry has types, import and default`, () => {
      const root = exported.get(pkg.entries['.'] as string) as Names;
      const rootNames = new Set([...root.values, ...root.types]);
      const separate = SEPARATE_ENTRIES[pkg.name] ?? [];
      for (const [subpath, file] of Object.entries(pkg.entries)) {
        const own = exported.get(file) as Names;
        const names = [...own.values, ...own.types];
        if (separate.includes(subpath)) {
          expect({ subpath, inRoot: names.filter((n) => rootNames.has(n)) }).toEqual({ subpath, inRoot: [] });
        } else {
          expect({ subpath, extra: names.filter((n) => !rootNames.has(n)) }).toEqual({ subpath, extra: [] });
        }
        // A `browser` condition is the same surface for bundlers (@helm/crypto's browser entry,
        // whose names its own test holds to the `.` entry's); the three Node conditions are required.
        const conditions = Object.keys(pkg.manifestExports[subpath] as object).filter((c) => c !== 'browser');
        expect(conditions.sort(), subpath).toEqual(['default', 'import', 'types']);
      }
    });
  }

  it('an omitted, an extra and a misfiled name are each a difference (the check can fail)', () => {
    const readme = (row: string): string =>
      `${BEGIN} x -->\n| entry point | values | types |\n${row}\n${END}`;
    const good = exportTable(readme('| `@helm/x` | `a`, `b` | `T` |')).get('@helm/x');
    expect(good).toEqual({ values: ['a', 'b'], types: ['T'] });
    for (const row of [
      '| `@helm/x` | `a` | `T` |',
      '| `@helm/x` | `a`, `b`, `c` | `T` |',
      '| `@helm/x` | `a` | `T`, `b` |',
    ]) {
      expect(exportTable(readme(row)).get('@helm/x')).not.toEqual(good);
    }
    expect(exportTable('no table').size).toBe(0);
  });
});

/** The static import closure (type-only imports included: an auditor reads them) of `start`. */
export function importClosure(
  start: string,
  resolveWorkspace: (specifier: string) => string | undefined,
): string[] {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    for (const stmt of source.statements) {
      if (!(ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) || !stmt.moduleSpecifier) continue;
      const spec = (stmt.moduleSpecifier as ts.StringLiteral).text;
      const target = spec.startsWith('.')
        ? resolve(dirname(file), spec.replace(/\.js$/, '.ts'))
        : resolveWorkspace(spec);
      if (target) stack.push(target);
    }
  }
  return [...seen].sort();
}

describe('separate entry points stay out of the root entry point', () => {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const resolveWorkspace = (specifier: string): string | undefined => {
    const m = /^(@helm\/[^/]+)(\/.*)?$/.exec(specifier);
    return m ? byName.get(m[1] as string)?.entries[m[2] ? `.${m[2]}` : '.'] : undefined;
  };
  for (const [name, subpaths] of Object.entries(SEPARATE_ENTRIES)) {
    it.each(subpaths)(`${name} does not reach the modules of %s`, (subpath) => {
      const root = importClosure(resolveWorkspace(name) as string, resolveWorkspace);
      const own = importClosure(resolveWorkspace(`${name}${subpath.slice(1)}`) as string, resolveWorkspace);
      // Shared modules (errors, the crypto they both use) are fine; the entry's own directory is not.
      const dir = dirname(resolveWorkspace(`${name}${subpath.slice(1)}`) as string);
      const ownDir = join(dir, subpath.slice(2));
      expect(
        own.some((f) => f.startsWith(ownDir)),
        'the check can fail',
      ).toBe(true);
      expect(root.filter((f) => f.startsWith(ownDir)).map((f) => f.slice(ROOT.length + 1))).toEqual([]);
    });
  }
});

/** The modules that sign: every signing path of the TCB goes through one of them. */
const SIGNING_MODULES = [
  'packages/crypto/src/envelope-sign.ts',
  'packages/crypto/src/ed25519-sign.ts',
  'packages/crypto/src/internal/backend-node-sign.ts',
].map((f) => join(ROOT, f));

describe('verifier entry points hold no signing code', () => {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const resolveWorkspace = (specifier: string): string | undefined => {
    const m = /^(@helm\/[^/]+)(\/.*)?$/.exec(specifier);
    return m ? byName.get(m[1] as string)?.entries[m[2] ? `.${m[2]}` : '.'] : undefined;
  };
  const verifiers = [
    '@helm/receipts/verify',
    '@helm/proofgraph/verify',
    '@helm/trust/verify',
    '@helm/crypto/envelope-open',
    '@helm/crypto/envelope',
    '@helm/crypto/ed25519',
  ];

  it.each(verifiers)('%s', (entry) => {
    const start = resolveWorkspace(entry);
    expect(start, entry).toBeDefined();
    const closure = importClosure(start as string, resolveWorkspace);
    expect(closure.filter((f) => SIGNING_MODULES.includes(f)).map((f) => f.slice(ROOT.length + 1))).toEqual(
      [],
    );
  });

  it('the check can fail: the root entry points reach the signing modules', () => {
    for (const entry of ['@helm/crypto', '@helm/trust', '@helm/proofgraph']) {
      const closure = importClosure(resolveWorkspace(entry) as string, resolveWorkspace);
      expect(
        closure.some((f) => SIGNING_MODULES.includes(f)),
        entry,
      ).toBe(true);
    }
  });
});
