// Every TCB package README's "Public API" table must name exactly what the package exports
// (issue #23 item 5): a name the README lists but no entry point exports is a stale doc, and an
// export the README omits is public surface an auditor would not know to read. The table's first
// column is read; each backticked bare identifier (`verifyReceipt`, `verifyReceipt(receipt, keys)`)
// counts, member spellings (`registry.append(…)`, `ProofGraph#appendReceipt`) document methods and
// are skipped. Every subpath entry point must export a subset of `.` (so `.` stays the whole,
// compatible surface) and must be listed in the README's "Entry points" line.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface TcbPackage {
  readonly name: string;
  readonly dir: string;
  readonly entries: Record<string, string>;
}

function tcbPackages(): TcbPackage[] {
  const out: TcbPackage[] = [];
  for (const name of readdirSync(join(ROOT, 'packages')).sort()) {
    const dir = join(ROOT, 'packages', name);
    let manifest: { helm?: { tcb?: boolean }; exports?: Record<string, unknown> };
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.helm?.tcb !== true) continue;
    const entries: Record<string, string> = {};
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (subpath === './package.json' || typeof target !== 'object' || target === null) continue;
      const js = (target as { import?: string }).import;
      if (typeof js === 'string') entries[subpath] = join(dir, js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
    }
    out.push({ name: `@helm/${name}`, dir, entries });
  }
  return out;
}

const packages = tcbPackages();

function exportedNames(files: readonly string[]): Map<string, Set<string>> {
  const program = ts.createProgram([...files], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, Set<string>>();
  for (const file of files) {
    const sf = program.getSourceFile(file);
    const symbol = sf && checker.getSymbolAtLocation(sf);
    out.set(file, new Set(symbol ? checker.getExportsOfModule(symbol).map((s) => s.name) : []));
  }
  return out;
}

/** The README section from `## Public API…` to the next `## ` heading. */
function publicApiSection(readme: string): string {
  const start = readme.search(/^## Public API/m);
  if (start < 0) return '';
  const rest = readme.slice(start + 3);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Names in the first column of every table row of the section. */
export function documentedNames(section: string): Set<string> {
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const first = line.slice(1).split(/(?<!\\)\|/)[0] ?? '';
    for (const m of first.matchAll(/`([^`]+)`/g)) {
      const token = (m[1] as string).trim();
      const name = /^(?:new\s+)?([A-Za-z_$][\w$]*)(?:\s*[(<].*)?(?:\s*→.*)?$/.exec(token)?.[1];
      if (name !== undefined) names.add(name);
    }
  }
  return names;
}

describe('TCB README export tables match the entry points', () => {
  const all = exportedNames(packages.flatMap((p) => Object.values(p.entries)));

  it('finds the eight TCB packages, each with a `.` entry point', () => {
    expect(packages.map((p) => p.name)).toHaveLength(8);
    for (const p of packages) expect(p.entries['.'], p.name).toBeDefined();
  });

  for (const pkg of packages) {
    it(`${pkg.name}: names in the Public API table = names exported by "."`, () => {
      const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
      const documented = documentedNames(publicApiSection(readme));
      const exported = all.get(pkg.entries['.'] as string) as Set<string>;
      const header = documented.has('Name') ? ['Name'] : [];
      for (const h of header) documented.delete(h);
      expect({ missingFromReadme: [...exported].filter((n) => !documented.has(n)).sort() }).toEqual({
        missingFromReadme: [],
      });
      expect({ notExported: [...documented].filter((n) => !exported.has(n)).sort() }).toEqual({
        notExported: [],
      });
    });

    it(`${pkg.name}: every subpath exports a subset of "." and is named in the README`, () => {
      const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
      const root = all.get(pkg.entries['.'] as string) as Set<string>;
      for (const [subpath, file] of Object.entries(pkg.entries)) {
        if (subpath === '.') continue;
        const extra = [...(all.get(file) as Set<string>)].filter((n) => !root.has(n));
        expect({ subpath, extra }).toEqual({ subpath, extra: [] });
        expect(readme, `${pkg.name}${subpath.slice(1)} is not named in the README`).toContain(
          `\`${pkg.name}${subpath.slice(1)}\``,
        );
      }
    });
  }

  it('reads names from the first column only, skipping member spellings', () => {
    const section = [
      '| Name | What |',
      '|---|---|',
      '| `verifyReceipt(receipt, keys)`, `ChainHead` | `notThis` |',
      '| `registry.append(env)` / `ProofGraph#appendReceipt` / `new TrustRegistry(x)` | y |',
      '| `createExecutor(options)` → `Executor` | z |',
    ].join('\n');
    expect([...documentedNames(section)].sort()).toEqual([
      'ChainHead',
      'Executor',
      'Name',
      'TrustRegistry',
      'createExecutor',
      'verifyReceipt',
    ]);
  });
});
