import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { readText } from './workspace.js';

export interface GateFinding {
  /** Absolute file the finding is about. */
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface GateConfig {
  /** The threshold the package's config asks for (the shared default when not overridden). */
  readonly threshold: number | undefined;
  readonly coverageExclude: readonly string[];
}

const CONFIG_NAMES = ['vitest.config.ts', 'vitest.config.mts', 'vitest.config.js', 'vitest.config.mjs'];
const SHARED_NAME = 'vitest.shared.ts';
const ALLOWED_OPTIONS = new Set(['threshold', 'coverageExclude', 'testTimeout']);
const METRICS = ['lines', 'branches', 'functions', 'statements'];

/** Minimal glob matching (`**`, `*`, `?`) as vitest's coverage exclude uses it, for one path. */
export function globMatches(path: string, glob: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^(?:\\./)?${re}$`).test(path);
}

function lineOf(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

function numberValue(expr: ts.Expression): number | undefined {
  if (ts.isNumericLiteral(expr)) return Number(expr.text.replace(/_/g, ''));
  return undefined;
}

/**
 * Checks the workspace's shared gate (`vitest.shared.ts`): its default threshold and the thresholds
 * object it builds must not be below the policy's threshold.
 */
export function checkSharedGate(
  root: string,
  minimum: number,
): { findings: GateFinding[]; threshold?: number } {
  const file = join(root, SHARED_NAME);
  if (!existsSync(file)) return { findings: [{ file, line: 1, message: `${SHARED_NAME} is missing` }] };
  const sf = ts.createSourceFile(file, readText(file), ts.ScriptTarget.Latest, true);
  const findings: GateFinding[] = [];
  let threshold: number | undefined;
  let sawThresholds = false;
  let declared = false;
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'COVERAGE_THRESHOLD' &&
      node.initializer
    ) {
      declared = true;
      threshold = numberValue(node.initializer);
      if (threshold === undefined || threshold < minimum) {
        findings.push({
          file,
          line: lineOf(sf, node),
          message: `COVERAGE_THRESHOLD must be a number literal >= ${minimum} (the policy's coverageThreshold)`,
        });
      }
    }
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'thresholds') {
      sawThresholds = true;
      const obj = node.initializer;
      const props = ts.isObjectLiteralExpression(obj) ? obj.properties : undefined;
      for (const metric of METRICS) {
        const prop = props?.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === metric);
        const ok =
          prop !== undefined &&
          ((ts.isShorthandPropertyAssignment(prop) && prop.name.text === 'threshold') ||
            (ts.isPropertyAssignment(prop) &&
              ((ts.isIdentifier(prop.initializer) && prop.initializer.text === 'threshold') ||
                (numberValue(prop.initializer) ?? -1) >= minimum)));
        if (!ok) {
          findings.push({
            file,
            line: lineOf(sf, node),
            message: `coverage thresholds.${metric} must be the shared \`threshold\` (or a literal >= ${minimum})`,
          });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (!declared) {
    findings.push({ file, line: 1, message: 'COVERAGE_THRESHOLD is not declared' });
  }
  if (!sawThresholds) findings.push({ file, line: 1, message: 'no coverage `thresholds` are configured' });
  return threshold === undefined ? { findings } : { findings, threshold };
}

/**
 * Checks that a TCB package runs its tests with coverage through the shared gate: the test script is
 * exactly `vitest run --coverage`, and vitest.config is `export default helmVitestConfig(...)` with
 * no threshold below the policy, no exclusion of the entry point and no pattern excluding several
 * files at once (`sourceFiles` are package-relative, `src/...`).
 */
export function checkPackageGate(
  root: string,
  pkgDir: string,
  testScript: string | undefined,
  manifestFile: string,
  manifestLine: number,
  minimum: number,
  sourceFiles: readonly string[] = [],
): { findings: GateFinding[]; config: GateConfig } {
  const findings: GateFinding[] = [];
  const config: { threshold: number | undefined; coverageExclude: string[] } = {
    threshold: undefined,
    coverageExclude: [],
  };
  if ((testScript ?? '').trim().split(/\s+/).join(' ') !== 'vitest run --coverage') {
    findings.push({
      file: manifestFile,
      line: manifestLine,
      message: `scripts.test must be exactly "vitest run --coverage" (found ${JSON.stringify(testScript ?? null)})`,
    });
  }
  const configs = CONFIG_NAMES.filter((n) => existsSync(join(pkgDir, n)));
  if (configs.length !== 1) {
    findings.push({
      file: join(pkgDir, 'vitest.config.ts'),
      line: 1,
      message:
        configs.length === 0
          ? 'no vitest.config.ts: the package does not use the shared coverage gate'
          : `several vitest configs (${configs.join(', ')}); keep exactly one`,
    });
    return { findings, config };
  }
  const file = join(pkgDir, configs[0] as string);
  const sf = ts.createSourceFile(file, readText(file), ts.ScriptTarget.Latest, true);
  const fail = (node: ts.Node, message: string): void => {
    findings.push({ file, line: lineOf(sf, node), message });
  };
  let gateName: string | undefined;
  let exported = false;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const spec = st.moduleSpecifier.text;
      const named = st.importClause?.namedBindings;
      if (
        spec.startsWith('.') &&
        resolve(dirname(file), spec) === resolve(root, SHARED_NAME) &&
        named &&
        ts.isNamedImports(named)
      ) {
        for (const el of named.elements) {
          if ((el.propertyName ?? el.name).text === 'helmVitestConfig') gateName = el.name.text;
        }
      }
      continue;
    }
    if (ts.isExportAssignment(st) && !st.isExportEquals) {
      exported = true;
      const call = st.expression;
      if (
        !ts.isCallExpression(call) ||
        !ts.isIdentifier(call.expression) ||
        call.expression.text !== gateName
      ) {
        fail(st, 'the default export must be a direct call of helmVitestConfig() from vitest.shared.ts');
        continue;
      }
      if (call.arguments.length > 1) fail(call, 'helmVitestConfig() takes at most one options object');
      const options = call.arguments[0];
      if (!options) continue;
      if (!ts.isObjectLiteralExpression(options)) {
        fail(options, 'helmVitestConfig() options must be an object literal');
        continue;
      }
      for (const prop of options.properties) {
        const name = prop.name && ts.isIdentifier(prop.name) ? prop.name.text : undefined;
        if (!ts.isPropertyAssignment(prop) || name === undefined || !ALLOWED_OPTIONS.has(name)) {
          fail(prop, `unsupported helmVitestConfig() option (allowed: ${[...ALLOWED_OPTIONS].join(', ')})`);
          continue;
        }
        if (name === 'threshold') {
          const value = numberValue(prop.initializer);
          config.threshold = value;
          if (value === undefined || value < minimum) {
            fail(
              prop,
              `coverage threshold must be a number literal >= ${minimum} (the policy's coverageThreshold)`,
            );
          }
        } else if (name === 'coverageExclude') {
          const arr = prop.initializer;
          if (!ts.isArrayLiteralExpression(arr) || !arr.elements.every((e) => ts.isStringLiteralLike(e))) {
            fail(prop, 'coverageExclude must be an array of string literals');
            continue;
          }
          for (const el of arr.elements as ts.NodeArray<ts.StringLiteralLike>) {
            config.coverageExclude.push(el.text);
            const hits = sourceFiles.filter((f) => globMatches(f, el.text));
            if (globMatches('src/index.ts', el.text)) {
              fail(el, `coverageExclude "${el.text}" excludes the package entry point (src/index.ts)`);
            } else if (hits.length > 1) {
              fail(el, `coverageExclude "${el.text}" matches ${hits.length} files; exclude files one by one`);
            }
          }
        }
      }
      continue;
    }
    fail(st, 'vitest.config may only import and `export default helmVitestConfig(...)`');
  }
  if (!exported) findings.push({ file, line: 1, message: 'vitest.config has no default export' });
  else if (gateName === undefined) {
    findings.push({
      file,
      line: 1,
      message: 'vitest.config does not import helmVitestConfig from vitest.shared.ts',
    });
  }
  return { findings, config };
}
