// Rule `unused-dependency`: a workspace package (TCB or not) declares an internal (`@helm/*`
// workspace) dependency it never imports. Such an edge is not harmless: it is installed for every
// consumer, it widens what an auditor has to assume the package can reach, and it hides the real
// layering (issue #17 §4 found guardian declaring proofgraph/receipts/trust and using none).
//
// Runtime dependencies (`dependencies`, `peerDependencies`, `optionalDependencies`) must be
// referenced from `src/` or from the declarations emitted to `dist/` — the code that ships. Dev dependencies must be referenced from anywhere
// in the package folder (tests, benches, configs). A reference is any module reference the AST
// shows: static or type-only import/export, `import()`, `require()`, `import x = require()`,
// `typeof import()` in a type, and `import.meta.resolve()` / `require.resolve()` with a literal
// specifier. A name in a comment or a string elsewhere is not a reference.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { analyzeSource } from './analyze.js';
import { jsonLine } from './json-locate.js';
import type { Violation } from './types.js';
import {
  type DependencyKind,
  packageNameOf,
  RUNTIME_DEPENDENCY_KINDS,
  readText,
  SOURCE_EXTENSIONS,
  toPosix,
  type Workspace,
  type WorkspacePackage,
} from './workspace.js';

/** Folders of a package that hold no source of its own (build output, installs, reports). */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);

/**
 * Source files of the package in `dir`: what ships (`src/`, and the declarations emitted to
 * `dist/`) and the rest (tests, benches, configs); absolute paths.
 */
function sourceFiles(dir: string): { src: string[]; other: string[] } {
  const src: string[] = [];
  const other: string[] = [];
  const walk = (abs: string, inSrc: boolean): void => {
    if (!existsSync(abs)) return;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const path = join(abs, entry.name);
      if (entry.isDirectory()) {
        if (SKIPPED_DIRS.has(entry.name) || entry.name.startsWith('.')) continue;
        walk(path, inSrc || (abs === dir && entry.name === 'src'));
      } else if (SOURCE_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        (inSrc ? src : other).push(path);
      }
    }
  };
  walk(dir, false);
  // Emitted declarations can name a package the sources never import (an inferred type printed as
  // `import("@helm/x").T`); consumers' type checks then need the dependency, so they count as use.
  const emitted = (abs: string): void => {
    if (!existsSync(abs)) return;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const path = join(abs, entry.name);
      if (entry.isDirectory()) emitted(path);
      else if (/\.d\.[cm]?ts$/.test(entry.name)) src.push(path);
    }
  };
  emitted(join(dir, 'dist'));
  return { src: src.sort(), other: other.sort() };
}

/** Workspace package names referenced by `files`. */
function referencedPackages(files: readonly string[], workspace: Workspace): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    for (const imp of analyzeSource(file, readText(file)).imports) {
      if (imp.specifier.startsWith('.') || imp.specifier.startsWith('/')) continue;
      const name = packageNameOf(imp.specifier);
      if (workspace.byName.has(name)) names.add(name);
    }
  }
  return names;
}

function internalDeclared(
  pkg: WorkspacePackage,
  workspace: Workspace,
  kinds: readonly DependencyKind[],
): Array<{ dep: string; kind: DependencyKind }> {
  const out: Array<{ dep: string; kind: DependencyKind }> = [];
  for (const kind of kinds) {
    for (const dep of Object.keys(pkg.manifest[kind] ?? {})) {
      if (workspace.byName.has(dep) && dep !== pkg.name) out.push({ dep, kind });
    }
  }
  return out;
}

/** Every declared-but-unreferenced internal dependency edge of every workspace package. */
export function unusedInternalDependencies(workspace: Workspace): Violation[] {
  const violations: Violation[] = [];
  for (const pkg of workspace.packages) {
    const runtime = internalDeclared(pkg, workspace, RUNTIME_DEPENDENCY_KINDS);
    const dev = internalDeclared(pkg, workspace, ['devDependencies']);
    if (runtime.length === 0 && dev.length === 0) continue;
    const files = sourceFiles(pkg.absDir);
    const fromSrc = referencedPackages(files.src, workspace);
    const fromOther = referencedPackages(files.other, workspace);
    const manifestFile = `${toPosix(relative(workspace.root, pkg.absDir))}/package.json`;
    const report = (dep: string, kind: DependencyKind, message: string): void => {
      violations.push({
        rule: 'unused-dependency',
        package: pkg.name,
        file: manifestFile,
        line: jsonLine(pkg.manifestText, [kind, dep]),
        column: 1,
        message,
      });
    };
    for (const { dep, kind } of runtime) {
      if (fromSrc.has(dep)) continue;
      report(
        dep,
        kind,
        fromOther.has(dep)
          ? `declares ${dep} in ${kind}, but only files outside src/ (tests, benches) reference it: move it to devDependencies`
          : `declares ${dep} in ${kind}, but nothing that ships (src/, emitted declarations) references it: remove the dependency`,
      );
    }
    for (const { dep, kind } of dev) {
      if (fromSrc.has(dep) || fromOther.has(dep)) continue;
      report(dep, kind, `declares ${dep} in ${kind}, but no file of the package references it: remove it`);
    }
  }
  return violations;
}
