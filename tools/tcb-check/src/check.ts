import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { analyzeSource, type FileAnalysis, WIRE_RULES_MODULE } from './analyze.js';
import { builtinName, IO_OR_CODE_BUILTINS, SAFE_BUILTINS } from './builtins.js';
import { checkPackageGate, checkSharedGate, type GateConfig } from './coverage-gate.js';
import { TcbCheckError } from './errors.js';
import { cycleThrough, stronglyConnected } from './graph.js';
import { jsonLine } from './json-locate.js';
import { Lockfile } from './lockfile.js';
import { type PackagePolicy, type Policy, parsePolicy } from './policy.js';
import type { RuleId, Violation } from './types.js';
import { unusedInternalDependencies } from './unused-deps.js';
import {
  listSourceFiles,
  packageNameOf,
  readText,
  readWorkspace,
  runtimeDependencies,
  toPosix,
  type Workspace,
  type WorkspacePackage,
} from './workspace.js';

export const POLICY_FILE = 'TCB_POLICY.md';
export const LOCK_FILE = 'pnpm-lock.yaml';
const POLICY_PKG = '(policy)';

export interface SourceFileResult {
  /** Relative to the workspace root. */
  readonly file: string;
  readonly absFile: string;
  readonly text: string;
  readonly analysis: FileAnalysis;
}

export interface TcbPackageResult {
  readonly key: string;
  readonly pkg: WorkspacePackage;
  readonly policy: PackagePolicy | undefined;
  readonly files: readonly SourceFileResult[];
  /** Workspace packages the sources import (name → true when at least one import is not type-only). */
  readonly internalImports: ReadonlyMap<string, boolean>;
  readonly externalImports: ReadonlySet<string>;
  readonly builtinImports: ReadonlySet<string>;
  readonly gate: GateConfig;
}

export interface CheckResult {
  readonly root: string;
  readonly policy: Policy;
  readonly workspace: Workspace;
  readonly lockfile: Lockfile;
  readonly packages: readonly TcbPackageResult[];
  readonly violations: readonly Violation[];
  /** Findings that do not fail the check (e.g. an allowlisted dependency nobody declares yet). */
  readonly warnings: readonly Violation[];
}

export { packageNameOf };

/** Workspace root: the nearest ancestor of `start` holding pnpm-workspace.yaml and TCB_POLICY.md. */
export function findRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, POLICY_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new TcbCheckError('workspace', `no ${POLICY_FILE} + pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
}

function keyOf(name: string): string | undefined {
  return name.startsWith('@helm/') ? name.slice('@helm/'.length) : undefined;
}

export function runCheck(root: string): CheckResult {
  const policyPath = join(root, POLICY_FILE);
  if (!existsSync(policyPath)) throw new TcbCheckError('policy', `${POLICY_FILE} not found in ${root}`);
  const policyText = readText(policyPath);
  const policy = parsePolicy(policyText);
  const workspace = readWorkspace(root);
  const lockPath = join(root, LOCK_FILE);
  if (!existsSync(lockPath)) throw new TcbCheckError('lockfile', `${LOCK_FILE} not found in ${root}`);
  const lockfile = new Lockfile(readText(lockPath));

  const violations: Violation[] = [];
  const warnings: Violation[] = [];
  const rel = (abs: string): string => toPosix(relative(root, abs));
  const add = (rule: RuleId, pkg: string, file: string, line: number, message: string, column = 1): void => {
    violations.push({ rule, package: pkg, file, line, column, message });
  };
  const policyLine = (path: readonly string[]): number =>
    jsonLine(policy.source.text, path, policy.source.lineOffset);

  // ---- policy ↔ workspace consistency ----
  const tcbByKey = new Map<string, WorkspacePackage>();
  for (const pkg of workspace.packages) {
    if (!pkg.tcb) continue;
    const key = keyOf(pkg.name);
    if (key === undefined || !(key in policy.packages)) {
      add(
        'policy',
        pkg.name,
        `${pkg.dir}/package.json`,
        jsonLine(pkg.manifestText, ['helm']),
        `${pkg.name} is marked TCB ("helm": {"tcb": true}) but has no entry in the ${POLICY_FILE} policy`,
      );
      continue;
    }
    tcbByKey.set(key, pkg);
  }
  for (const [key, entry] of Object.entries(policy.packages)) {
    const pkg = workspace.byName.get(`@helm/${key}`);
    if (!pkg?.tcb) {
      add(
        'policy',
        POLICY_PKG,
        POLICY_FILE,
        policyLine(['packages', key]),
        pkg
          ? `@helm/${key} is in the policy but its package.json is not marked "helm": {"tcb": true}`
          : `@helm/${key} is in the policy but no workspace package has that name`,
      );
    }
    for (const dep of entry.internal) {
      if (!(dep in policy.packages)) {
        add(
          'policy',
          POLICY_PKG,
          POLICY_FILE,
          policyLine(['packages', key, 'internal']),
          `@helm/${key} may import "${dep}", which is not a TCB package of the policy`,
        );
      } else if (dep === key) {
        add(
          'policy',
          POLICY_PKG,
          POLICY_FILE,
          policyLine(['packages', key, 'internal']),
          `@helm/${key} lists itself as an internal dependency`,
        );
      }
    }
  }
  // The allowed edges themselves must be a layering (acyclic).
  const policyEdges = new Map<string, Set<string>>();
  for (const [key, entry] of Object.entries(policy.packages)) policyEdges.set(key, new Set(entry.internal));
  for (const comp of stronglyConnected(Object.keys(policy.packages), policyEdges)) {
    if (comp.length < 2) continue;
    const first = comp[0] as string;
    add(
      'cycle',
      POLICY_PKG,
      POLICY_FILE,
      policyLine(['packages', first, 'internal']),
      `the policy's allowed edges contain a cycle: ${cycleThrough(first, new Set(comp), policyEdges).join(' → ')}`,
    );
  }

  // ---- coverage gate shared by everyone ----
  const shared = checkSharedGate(root, policy.coverageThreshold);
  for (const f of shared.findings) add('coverage-gate', POLICY_PKG, rel(f.file), f.line, f.message);

  // ---- per TCB package ----
  const results: TcbPackageResult[] = [];
  /** Edges for the cycle check, with where each edge is declared. */
  const depEdges = new Map<string, Set<string>>();
  const edgeSite = new Map<string, { file: string; line: number; column: number }>();
  const addEdge = (from: string, to: string, site: { file: string; line: number; column: number }): void => {
    if (from === to) return;
    const set = depEdges.get(from) ?? new Set<string>();
    set.add(to);
    depEdges.set(from, set);
    if (!edgeSite.has(`${from}\0${to}`)) edgeSite.set(`${from}\0${to}`, site);
  };
  for (const pkg of workspace.packages) {
    const manifestFile = `${pkg.dir}/package.json`;
    for (const [dep, { kind }] of runtimeDependencies(pkg.manifest)) {
      if (workspace.byName.has(dep)) {
        addEdge(pkg.name, dep, {
          file: manifestFile,
          line: jsonLine(pkg.manifestText, [kind, dep]),
          column: 1,
        });
      }
    }
  }

  for (const [key, pkg] of [...tcbByKey].sort(([a], [b]) => a.localeCompare(b))) {
    const entry = policy.packages[key] as PackagePolicy;
    const manifestFile = `${pkg.dir}/package.json`;
    const declared = runtimeDependencies(pkg.manifest);
    const locked = lockfile.importer(pkg.dir);

    // Declared dependencies.
    for (const [dep, { spec, kind }] of declared) {
      const line = jsonLine(pkg.manifestText, [kind, dep]);
      const target = workspace.byName.get(dep);
      if (target) {
        const tkey = keyOf(dep);
        if (!target.tcb) {
          add('non-tcb-import', pkg.name, manifestFile, line, `depends on non-TCB workspace package ${dep}`);
        } else if (tkey === undefined || !entry.internal.includes(tkey)) {
          add(
            'internal-edge',
            pkg.name,
            manifestFile,
            line,
            `depends on ${dep}, which is not an allowed edge (allowed: ${entry.internal.join(', ') || 'none'})`,
          );
        }
        continue;
      }
      const allowed = entry.external[dep];
      if (!allowed) {
        add(
          'external-dependency',
          pkg.name,
          manifestFile,
          line,
          `dependency ${dep}@${spec} is not on the package's allowlist in ${POLICY_FILE}`,
        );
        continue;
      }
      if (spec !== allowed.version) {
        add(
          'external-version',
          pkg.name,
          manifestFile,
          line,
          `${dep}: package.json declares "${spec}" but ${POLICY_FILE} allowlists exactly ${allowed.version}`,
        );
      }
      const lock = locked.get(dep);
      if (!lock || lock.kind === 'devDependencies') {
        add(
          'external-version',
          pkg.name,
          POLICY_FILE,
          policyLine(['packages', key, 'external', dep, 'version']),
          `${dep}: ${LOCK_FILE} resolves no version for ${pkg.dir} (run pnpm install)`,
        );
      } else if (lock.version !== allowed.version) {
        add(
          'external-version',
          pkg.name,
          POLICY_FILE,
          policyLine(['packages', key, 'external', dep, 'version']),
          `${dep}: ${POLICY_FILE} allowlists ${allowed.version} but ${LOCK_FILE} resolves ${lock.version}`,
        );
      }
    }
    for (const dep of Object.keys(entry.external)) {
      if (!declared.has(dep)) {
        warnings.push({
          rule: 'external-dependency',
          package: pkg.name,
          file: POLICY_FILE,
          column: 1,
          line: policyLine(['packages', key, 'external', dep]),
          message: `${dep} is allowlisted but not declared in ${manifestFile} (stale or not yet added)`,
        });
      }
    }

    // Sources.
    const srcDir = join(pkg.absDir, 'src');
    const files: SourceFileResult[] = [];
    const internalImports = new Map<string, boolean>();
    const externalImports = new Set<string>();
    const builtinImports = new Set<string>();
    const injection = new Map<string, Set<string>>(); // src-relative file → function names
    for (const point of entry.injectionPoints) {
      const [file, fn] = point.split('#') as [string, string];
      const set = injection.get(file) ?? new Set<string>();
      set.add(fn);
      injection.set(file, set);
    }
    for (const absFile of listSourceFiles(srcDir)) {
      const text = readText(absFile);
      const analysis = analyzeSource(absFile, text);
      const file = rel(absFile);
      files.push({ file, absFile, text, analysis });
      const srcRel = toPosix(relative(srcDir, absFile));
      const allowedFns = injection.get(srcRel);
      for (const fn of allowedFns ?? []) {
        if (!analysis.declarations.has(fn)) {
          add(
            'policy',
            pkg.name,
            POLICY_FILE,
            policyLine(['packages', key, 'injectionPoints']),
            `injection point ${srcRel}#${fn}: no declaration named ${fn} in ${file}`,
          );
        }
      }
      injection.delete(srcRel);

      for (const f of analysis.findings) {
        if (f.rule === 'ambient' && allowedFns && f.enclosing.some((n) => allowedFns.has(n))) continue;
        if (f.rule === 'wire-pattern' && file === WIRE_RULES_MODULE) continue;
        add(f.rule, pkg.name, file, f.line, f.message, f.column);
      }
      for (const imp of analysis.imports) {
        // Resolving a specifier names a module without loading it; only the unused-dependency rule
        // counts it (as a use).
        if (imp.kind === 'resolve') continue;
        const spec = imp.specifier;
        const where = (rule: RuleId, message: string): void =>
          add(rule, pkg.name, file, imp.line, message, imp.column);
        if (spec.startsWith('.') || spec.startsWith('/')) {
          const target = resolve(dirname(absFile), spec);
          const inside = relative(pkg.absDir, target);
          if (inside.startsWith('..') || resolve(pkg.absDir, inside) !== target || inside === '') {
            where('internal-edge', `relative import '${spec}' leaves the package folder ${pkg.dir}`);
          }
          continue;
        }
        if (spec.startsWith('#')) {
          // A `#name` import is a relative import chosen by condition (e.g. @helm/crypto's browser
          // platform): allowed only when the package's own "imports" map sends every condition to
          // one of its own sources (`./dist/<x>.js` built from `src/<x>.ts`), which this check
          // scans like any other source. Anything else could name code the check never sees.
          const problem = subpathImportProblem(pkg, spec);
          if (problem !== undefined)
            where('internal-edge', `subpath import '${spec}' ${problem}; use a relative import`);
          continue;
        }
        const builtin = builtinName(spec);
        if (builtin !== undefined) {
          if (imp.typeOnly) continue;
          builtinImports.add(builtin);
          if (SAFE_BUILTINS.has(builtin) || builtin in entry.builtins) continue;
          where(
            'builtin',
            IO_OR_CODE_BUILTINS.has(builtin)
              ? `imports Node built-in '${spec}', which performs I/O or loads code, and is not allowlisted for ${pkg.name}`
              : `imports Node built-in '${spec}', which is not on the safe list nor allowlisted for ${pkg.name}`,
          );
          continue;
        }
        const name = packageNameOf(spec);
        const target = workspace.byName.get(name);
        if (target) {
          internalImports.set(name, (internalImports.get(name) ?? false) || !imp.typeOnly);
          addEdge(pkg.name, name, { file, line: imp.line, column: imp.column });
          const tkey = keyOf(name);
          if (!target.tcb) {
            where('non-tcb-import', `imports non-TCB workspace package ${name}`);
          } else if (name === pkg.name) {
            where('internal-edge', `imports itself by name (${spec}); use a relative import`);
          } else if (tkey === undefined || !entry.internal.includes(tkey)) {
            where(
              'internal-edge',
              `imports ${name}, which is not an allowed edge (allowed: ${entry.internal.join(', ') || 'none'})`,
            );
          } else if (!declared.has(name)) {
            where('internal-edge', `imports ${name} without declaring it in ${manifestFile} dependencies`);
          }
          continue;
        }
        externalImports.add(name);
        if (!entry.external[name]) {
          where(
            'external-dependency',
            `imports external package ${name}, which is not on the allowlist in ${POLICY_FILE}`,
          );
        } else if (!declared.has(name)) {
          where(
            'external-dependency',
            `imports ${name} without declaring it in ${manifestFile} dependencies (devDependencies are not installed for users)`,
          );
        }
      }
    }
    for (const [file, fns] of injection) {
      add(
        'policy',
        pkg.name,
        POLICY_FILE,
        policyLine(['packages', key, 'injectionPoints']),
        `injection point ${file}#${[...fns].join(',')}: ${pkg.dir}/src/${file} does not exist`,
      );
    }

    const gate = checkPackageGate(
      root,
      pkg.absDir,
      pkg.manifest.scripts?.test,
      join(pkg.absDir, 'package.json'),
      jsonLine(pkg.manifestText, ['scripts', 'test']),
      policy.coverageThreshold,
      files.map((f) => toPosix(relative(pkg.absDir, f.absFile))),
    );
    for (const f of gate.findings) add('coverage-gate', pkg.name, rel(f.file), f.line, f.message);

    results.push({
      key,
      pkg,
      policy: entry,
      files,
      internalImports,
      externalImports,
      builtinImports,
      gate: gate.config,
    });
  }

  // ---- declared-but-unused internal dependency edges (every workspace package) ----
  violations.push(...unusedInternalDependencies(workspace));

  // ---- dependency cycles (package.json runtime deps of all workspace packages + TCB imports) ----
  const names = workspace.packages.map((p) => p.name);
  for (const comp of stronglyConnected(names, depEdges)) {
    if (comp.length < 2) continue;
    const first = comp.find((n) => workspace.byName.get(n)?.tcb) ?? (comp[0] as string);
    const path = cycleThrough(first, new Set(comp), depEdges);
    const site = edgeSite.get(`${path[0]}\0${path[1]}`) as { file: string; line: number; column: number };
    add('cycle', first, site.file, site.line, `dependency cycle: ${path.join(' → ')}`, site.column);
  }

  const order = (a: Violation, b: Violation): number =>
    a.package.localeCompare(b.package) ||
    a.file.localeCompare(b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    a.rule.localeCompare(b.rule) ||
    a.message.localeCompare(b.message);
  violations.sort(order);
  warnings.sort(order);
  return { root, policy, workspace, lockfile, packages: results, violations, warnings };
}

/** Why `#spec` may not be used in this TCB package's sources, or undefined when it may. */
function subpathImportProblem(pkg: WorkspacePackage, spec: string): string | undefined {
  const mapped = pkg.manifest.imports?.[spec];
  if (mapped === undefined) return 'is not in the package.json "imports" map';
  const targets: unknown[] = [];
  const collect = (v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      for (const t of Object.values(v)) collect(t);
    else targets.push(v);
  };
  collect(mapped);
  for (const t of targets) {
    const m = typeof t === 'string' ? /^\.\/dist\/((?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_.-]+)\.js$/.exec(t) : null;
    if (!m || (m[1] as string).split('/').includes('..'))
      return `maps to ${JSON.stringify(t)}, not a ./dist/<file>.js of the package`;
    if (!existsSync(join(pkg.absDir, 'src', `${m[1]}.ts`)))
      return `maps to ${t}, which no src/${m[1]}.ts of the package builds`;
  }
  return undefined;
}
