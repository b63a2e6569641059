import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { countLinesOfCode } from './analyze.js';
import type { CheckResult } from './check.js';
import { readText } from './workspace.js';

export interface CoverageSummary {
  readonly lines: number;
  readonly branches: number;
  readonly functions: number;
  readonly statements: number;
}

export interface ExternalDepReport {
  readonly name: string;
  readonly allowlisted: string | null;
  readonly declared: string | null;
  readonly resolved: string | null;
  readonly integrity: string | null;
}

export interface PackageReport {
  readonly name: string;
  readonly version: string | null;
  readonly dir: string;
  readonly files: number;
  readonly linesOfCode: number;
  readonly internalAllowed: readonly string[];
  readonly internalActual: readonly string[];
  readonly builtinsAllowed: readonly string[];
  readonly builtinsUsed: readonly string[];
  readonly injectionPoints: readonly string[];
  readonly external: readonly ExternalDepReport[];
  readonly transitiveExternalCount: number;
  readonly transitiveExternal: readonly string[];
  readonly coverage: CoverageSummary | 'not measured';
  readonly coverageThreshold: number;
  readonly coverageExclude: readonly string[];
  readonly violations: number;
  readonly result: 'pass' | 'fail';
}

export interface Report {
  readonly policyCoverageThreshold: number;
  readonly result: 'pass' | 'fail';
  readonly violations: number;
  readonly packages: readonly PackageReport[];
}

function readCoverage(pkgDir: string): CoverageSummary | 'not measured' {
  const file = join(pkgDir, 'coverage', 'coverage-summary.json');
  if (!existsSync(file)) return 'not measured';
  try {
    const total = (JSON.parse(readText(file)) as { total?: Record<string, { pct?: unknown }> }).total;
    const pct = (k: string): number => {
      const v = total?.[k]?.pct;
      if (typeof v !== 'number') throw new Error(`no ${k}`);
      return v;
    };
    return {
      lines: pct('lines'),
      branches: pct('branches'),
      functions: pct('functions'),
      statements: pct('statements'),
    };
  } catch {
    return 'not measured';
  }
}

export function buildReport(check: CheckResult): Report {
  const packages: PackageReport[] = check.packages.map((p) => {
    const entry = p.policy;
    const declared = {
      ...p.pkg.manifest.peerDependencies,
      ...p.pkg.manifest.optionalDependencies,
      ...p.pkg.manifest.dependencies,
    };
    const locked = check.lockfile.importer(p.pkg.dir);
    const externalNames = new Set<string>([
      ...Object.keys(entry?.external ?? {}),
      ...Object.keys(declared).filter((n) => !check.workspace.byName.has(n)),
      ...p.externalImports,
    ]);
    const external = [...externalNames].sort().map((name): ExternalDepReport => {
      const lock = locked.get(name);
      const resolved = lock && lock.kind !== 'devDependencies' ? lock.version : null;
      return {
        name,
        allowlisted: entry?.external[name]?.version ?? null,
        declared: declared[name] ?? null,
        resolved,
        integrity: resolved ? (check.lockfile.integrity(name, resolved) ?? null) : null,
      };
    });
    const transitive = check.lockfile.transitiveExternal(p.pkg.dir);
    const violations = check.violations.filter((v) => v.package === p.pkg.name).length;
    return {
      name: p.pkg.name,
      version: p.pkg.manifest.version ?? null,
      dir: p.pkg.dir,
      files: p.files.length,
      linesOfCode: p.files.reduce((sum, f) => sum + countLinesOfCode(f.absFile, f.text), 0),
      internalAllowed: (entry?.internal ?? []).map((k) => `@helm/${k}`),
      internalActual: [...p.internalImports.keys()].sort(),
      builtinsAllowed: Object.keys(entry?.builtins ?? {}).sort(),
      builtinsUsed: [...p.builtinImports].sort(),
      injectionPoints: entry?.injectionPoints ?? [],
      external,
      transitiveExternalCount: transitive.length,
      transitiveExternal: transitive,
      coverage: readCoverage(p.pkg.absDir),
      coverageThreshold: p.gate.threshold ?? check.policy.coverageThreshold,
      coverageExclude: p.gate.coverageExclude,
      violations,
      result: violations === 0 ? 'pass' : 'fail',
    };
  });
  return {
    policyCoverageThreshold: check.policy.coverageThreshold,
    result: check.violations.length === 0 ? 'pass' : 'fail',
    violations: check.violations.length,
    packages,
  };
}

function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const line = (row: readonly string[]): string =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)]
    .map((l) => indent + l)
    .join('\n');
}

function fmtCoverage(c: CoverageSummary | 'not measured'): string {
  return c === 'not measured' ? 'not measured' : `${c.lines}/${c.branches}/${c.functions}/${c.statements}`;
}

const short = (name: string): string => name.replace(/^@helm\//, '');

export function formatReport(report: Report): string {
  const out: string[] = [];
  out.push(
    `TCB boundary report — ${report.packages.length} packages, coverage gate ${report.policyCoverageThreshold}%`,
  );
  out.push('');
  out.push(
    table([
      [
        'package',
        'version',
        'files',
        'LOC',
        'internal (actual/allowed)',
        'ext',
        'transitive',
        'coverage L/B/F/S %',
        'check',
      ],
      ...report.packages.map((p) => [
        p.name,
        p.version ?? '-',
        String(p.files),
        String(p.linesOfCode),
        `${p.internalActual.length}/${p.internalAllowed.length}`,
        String(p.external.length),
        String(p.transitiveExternalCount),
        fmtCoverage(p.coverage),
        p.result === 'pass' ? 'pass' : `FAIL (${p.violations})`,
      ]),
    ]),
  );
  for (const p of report.packages) {
    out.push('');
    out.push(`${p.name} (${p.dir})`);
    out.push(`  internal allowed : ${p.internalAllowed.map(short).join(', ') || '-'}`);
    out.push(`  internal actual  : ${p.internalActual.map(short).join(', ') || '-'}`);
    out.push(
      `  builtins         : used ${p.builtinsUsed.join(', ') || '-'}; allowlisted ${p.builtinsAllowed.join(', ') || '-'}`,
    );
    if (p.injectionPoints.length > 0) out.push(`  injection points : ${p.injectionPoints.join(', ')}`);
    out.push(
      `  coverage gate    : ${p.coverageThreshold}%${p.coverageExclude.length ? `, excludes ${p.coverageExclude.join(', ')}` : ''}`,
    );
    if (p.external.length === 0) {
      out.push('  external         : none');
    } else {
      out.push(
        table(
          [
            ['external', 'allowlisted', 'declared', 'resolved', 'integrity'],
            ...p.external.map((e) => [
              e.name,
              e.allowlisted ?? 'NOT ALLOWLISTED',
              e.declared ?? '-',
              e.resolved ?? '-',
              e.integrity ?? '-',
            ]),
          ],
          '  ',
        ),
      );
    }
  }
  out.push('');
  out.push(
    report.result === 'pass'
      ? 'tcb-check: clean'
      : `tcb-check: ${report.violations} violation(s) — run pnpm tcb:check`,
  );
  return out.join('\n');
}
