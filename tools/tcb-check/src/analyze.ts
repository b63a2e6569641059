import ts from 'typescript';

/** How a module specifier is reached from a source file. */
export type ImportKind =
  | 'import' // import … from 'x' / import 'x'
  | 'export' // export … from 'x'
  | 'import-equals' // import x = require('x')
  | 'dynamic' // import('x')
  | 'require' // require('x')
  | 'resolve' // import.meta.resolve('x') / require.resolve('x'): names a module without loading it
  | 'type'; // typeof import('x') in a type position

export interface ImportRef {
  readonly specifier: string;
  readonly kind: ImportKind;
  /** True when the import is erased at runtime (`import type`, `export type … from`, `import('x')` types). */
  readonly typeOnly: boolean;
  readonly line: number;
  readonly column: number;
}

export interface CodeFinding {
  readonly rule: 'dynamic-code' | 'ambient' | 'wire-pattern';
  readonly message: string;
  readonly line: number;
  readonly column: number;
  /** Names of the declarations enclosing the finding (`systemClock`, `Clock.now`), innermost first. */
  readonly enclosing: readonly string[];
}

export interface FileAnalysis {
  readonly imports: readonly ImportRef[];
  readonly findings: readonly CodeFinding[];
  /** Top-level and nested declaration names found in the file (for validating injection points). */
  readonly declarations: ReadonlySet<string>;
}

/** The one module allowed to spell the `sha256:` / `ed25519:` patterns (workspace-relative). */
export const WIRE_RULES_MODULE = 'packages/contracts/src/wire.ts';

/** A wire prefix followed by a regular-expression construct (`[`, `(`, `{`, `\\`, `$`). */
const PATTERN_SOURCE = /(?:^|[^a-z0-9])(sha256|ed25519):(?:[[({\\$]|$)/;

/**
 * The wire prefix when `node` is a regular-expression literal mentioning `sha256:` / `ed25519:`, or
 * a string / template literal that is (part of) a RegExp source for them (`'^sha256:[0-9a-f]{64}$'`,
 * `new RegExp('ed25519:[0-9a-f]+')`). Plain prefixes such as `'sha256:'` used for concatenation
 * are not patterns: they end in the bare colon and are not followed by a pattern construct, and a
 * string that is exactly the prefix is allowed.
 */
function wirePatternOf(node: ts.Node): string | undefined {
  if (ts.isRegularExpressionLiteral(node)) {
    const m = /(sha256|ed25519):/.exec(node.text);
    return m ? `${m[1]}:` : undefined;
  }
  let text: string | undefined;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
  else if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) text = node.text;
  if (text === undefined || text === 'sha256:' || text === 'ed25519:') return undefined;
  const m = PATTERN_SOURCE.exec(text);
  if (m && text !== `${m[1]}:`) {
    // `…sha256:` at the very end counts only when the literal starts a pattern (`^…`)
    if (text.endsWith(':') && !text.startsWith('^')) return undefined;
    return `${m[1]}:`;
  }
  return undefined;
}

/** Global names that are aliases of the global object. */
const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'self', 'window']);

/** Property paths that read ambient time or randomness (after normalisation). */
const AMBIENT_PATHS = new Map<string, string>([
  ['Date.now', 'reads the wall clock'],
  ['performance.now', 'reads a monotonic clock'],
  ['performance.timeOrigin', 'reads the clock origin'],
  ['Math.random', 'reads ambient randomness'],
  ['crypto.randomUUID', 'reads ambient randomness'],
  ['crypto.getRandomValues', 'reads ambient randomness'],
  ['crypto.randomBytes', 'reads ambient randomness'],
  ['crypto.pseudoRandomBytes', 'reads ambient randomness'],
  ['crypto.randomInt', 'reads ambient randomness'],
  ['crypto.randomFill', 'reads ambient randomness'],
  ['crypto.randomFillSync', 'reads ambient randomness'],
  ['crypto.generateKey', 'generates a key from ambient randomness'],
  ['crypto.generateKeySync', 'generates a key from ambient randomness'],
  ['crypto.generateKeyPair', 'generates a key from ambient randomness'],
  ['crypto.generateKeyPairSync', 'generates a key from ambient randomness'],
  ['crypto.generatePrime', 'reads ambient randomness'],
  ['crypto.generatePrimeSync', 'reads ambient randomness'],
  ['crypto.subtle.generateKey', 'generates a key from ambient randomness'],
]);

/** Whole objects whose every use is ambient (environment, I/O) or dynamic code. */
const AMBIENT_ROOTS = new Map<string, string>([
  ['process', 'reads the process environment (env, hrtime, argv, cwd, …)'],
  ['fetch', 'performs network I/O'],
  ['XMLHttpRequest', 'performs network I/O'],
  ['WebSocket', 'performs network I/O'],
]);
const DYNAMIC_ROOTS = new Map<string, string>([
  ['eval', 'eval executes a string as code'],
  ['Function', 'the Function constructor compiles a string as code'],
  ['require', 'require loads code dynamically (CommonJS)'],
]);

/** Normalises module-qualified and global-object-qualified paths to one spelling. */
function normalise(path: string): string {
  if (!/^(globalThis|crypto|perf_hooks|worker_threads|process)\./.test(path)) return path;
  let p = path;
  for (;;) {
    const before = p;
    p = p.replace(/^globalThis\./, '');
    p = p.replace(/^crypto\.webcrypto(?=\.|$)/, 'crypto');
    p = p.replace(/^perf_hooks\.performance(?=\.|$)/, 'performance');
    p = p.replace(/^(worker_threads|process|crypto|perf_hooks)\.default(?=\.|$)/, '$1');
    if (p === before) return p;
  }
}

function rootOf(path: string): string {
  const dot = path.indexOf('.');
  return dot === -1 ? path : path.slice(0, dot);
}

type Decl =
  | { kind: 'var'; init: ts.Expression; props: string[] | undefined }
  | { kind: 'import'; path: string }
  | { kind: 'local' };

function propName(name: ts.PropertyName | ts.BindingName | undefined): string | undefined {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name) && ts.isStringLiteralLike(name.expression)) return name.expression.text;
  return undefined;
}

function unwrap(expr: ts.Expression): ts.Expression {
  let e = expr;
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e))
    e = e.expression;
  return e;
}

function moduleName(specifier: string): string {
  return specifier.startsWith('node:') ? specifier.slice(5) : specifier;
}

/** Analyses one TypeScript/JavaScript source text. */
export function analyzeSource(fileName: string, text: string): FileAnalysis {
  const kind = fileName.endsWith('x')
    ? ts.ScriptKind.TSX
    : /\.[cm]?js$/.test(fileName)
      ? ts.ScriptKind.JS
      : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const imports: ImportRef[] = [];
  const findings: CodeFinding[] = [];
  const declarations = new Set<string>();
  const scopeCache = new Map<ts.Node, Map<string, Decl> | null>();

  const position = (node: ts.Node): { line: number; column: number } => {
    const lc = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    return { line: lc.line + 1, column: lc.character + 1 };
  };

  const enclosingNames = (node: ts.Node): string[] => {
    const names: string[] = [];
    for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
      if ((ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n)) && n.name) names.push(n.name.text);
      else if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name)) names.push(n.name.text);
      else if (
        (ts.isMethodDeclaration(n) ||
          ts.isPropertyDeclaration(n) ||
          ts.isGetAccessorDeclaration(n) ||
          ts.isSetAccessorDeclaration(n)) &&
        ts.isClassLike(n.parent) &&
        n.parent.name
      ) {
        const member = propName(n.name);
        if (member) names.push(`${n.parent.name.text}.${member}`);
      }
    }
    return names;
  };

  const report = (rule: CodeFinding['rule'], node: ts.Node, message: string): void => {
    findings.push({ rule, message, ...position(node), enclosing: enclosingNames(node) });
  };

  const addImport = (specifier: string, kind: ImportKind, typeOnly: boolean, node: ts.Node): void => {
    imports.push({ specifier, kind, typeOnly, ...position(node) });
  };

  // ---- scopes: which declaration does an identifier refer to? ----
  const addBinding = (
    map: Map<string, Decl>,
    name: ts.BindingName,
    init: ts.Expression | undefined,
    props: string[] | undefined,
  ): void => {
    if (ts.isIdentifier(name)) {
      map.set(name.text, init ? { kind: 'var', init, props } : { kind: 'local' });
      return;
    }
    for (const element of name.elements) {
      if (ts.isOmittedExpression(element)) continue;
      let childProps: string[] | undefined;
      if (ts.isObjectBindingPattern(name) && props && !element.dotDotDotToken) {
        const key = propName(element.propertyName ?? element.name);
        childProps = key === undefined ? undefined : [...props, key];
      }
      addBinding(map, element.name, childProps ? init : undefined, childProps);
    }
  };

  const addStatements = (map: Map<string, Decl>, statements: readonly ts.Statement[]): void => {
    for (const st of statements) {
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations)
          addBinding(map, d.name, d.initializer, d.initializer ? [] : undefined);
      } else if (
        (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st)) &&
        st.name
      ) {
        map.set(st.name.text, { kind: 'local' });
      } else if (ts.isModuleDeclaration(st) && ts.isIdentifier(st.name)) {
        map.set(st.name.text, { kind: 'local' });
      } else if (ts.isImportEqualsDeclaration(st)) {
        map.set(st.name.text, { kind: 'local' });
      } else if (ts.isImportDeclaration(st) && st.importClause && ts.isStringLiteral(st.moduleSpecifier)) {
        const mod = moduleName(st.moduleSpecifier.text);
        const clause = st.importClause;
        if (clause.name) map.set(clause.name.text, { kind: 'import', path: mod });
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings))
          map.set(bindings.name.text, { kind: 'import', path: mod });
        if (bindings && ts.isNamedImports(bindings)) {
          for (const el of bindings.elements) {
            const imported = propName(el.propertyName ?? el.name) ?? el.name.text;
            map.set(el.name.text, {
              kind: 'import',
              path: imported === 'default' ? mod : `${mod}.${imported}`,
            });
          }
        }
      }
    }
  };

  const scopeDecls = (node: ts.Node): Map<string, Decl> | undefined => {
    const cached = scopeCache.get(node);
    if (cached !== undefined) return cached ?? undefined;
    let map: Map<string, Decl> | undefined;
    if (ts.isSourceFile(node) || ts.isBlock(node) || ts.isModuleBlock(node)) {
      map = new Map();
      addStatements(map, node.statements);
    } else if (ts.isCaseBlock(node)) {
      map = new Map();
      for (const clause of node.clauses) addStatements(map, clause.statements);
    } else if (ts.isFunctionLike(node)) {
      map = new Map();
      for (const p of node.parameters) addBinding(map, p.name, undefined, undefined);
      if ((ts.isFunctionExpression(node) || ts.isClassExpression(node)) && node.name) {
        map.set(node.name.text, { kind: 'local' });
      }
    } else if (ts.isClassExpression(node) && node.name) {
      map = new Map([[node.name.text, { kind: 'local' } as Decl]]);
    } else if (
      (ts.isForStatement(node) || ts.isForInStatement(node) || ts.isForOfStatement(node)) &&
      node.initializer &&
      ts.isVariableDeclarationList(node.initializer)
    ) {
      map = new Map();
      for (const d of node.initializer.declarations) addBinding(map, d.name, undefined, undefined);
    } else if (ts.isCatchClause(node) && node.variableDeclaration) {
      map = new Map();
      addBinding(map, node.variableDeclaration.name, undefined, undefined);
    }
    scopeCache.set(node, map ?? null);
    return map;
  };

  const lookup = (id: ts.Identifier): Decl | undefined => {
    for (let n: ts.Node | undefined = id.parent; n; n = n.parent) {
      const decl = scopeDecls(n)?.get(id.text);
      if (decl) return decl;
    }
    return undefined;
  };

  /** The global/module path an expression denotes (`Math.random`, `crypto.randomBytes`), if any. */
  const resolve = (expr: ts.Expression, depth = 0): string | undefined => {
    if (depth > 16) return undefined;
    if (
      ts.isParenthesizedExpression(expr) ||
      ts.isAsExpression(expr) ||
      ts.isNonNullExpression(expr) ||
      ts.isSatisfiesExpression(expr) ||
      ts.isTypeAssertionExpression(expr)
    ) {
      return resolve(expr.expression, depth + 1);
    }
    if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.CommaToken) {
      return resolve(expr.right, depth + 1);
    }
    if (ts.isIdentifier(expr)) {
      const decl = lookup(expr);
      if (!decl) return normalise(GLOBAL_OBJECTS.has(expr.text) ? 'globalThis' : expr.text);
      if (decl.kind === 'import') return normalise(decl.path);
      if (decl.kind === 'var' && decl.props) {
        const base = resolve(decl.init, depth + 1);
        return base === undefined ? undefined : normalise([base, ...decl.props].join('.'));
      }
      return undefined;
    }
    if (ts.isPropertyAccessExpression(expr)) {
      const base = resolve(expr.expression, depth + 1);
      return base === undefined ? undefined : normalise(`${base}.${expr.name.text}`);
    }
    if (ts.isElementAccessExpression(expr) && ts.isStringLiteralLike(expr.argumentExpression)) {
      const base = resolve(expr.expression, depth + 1);
      return base === undefined ? undefined : normalise(`${base}.${expr.argumentExpression.text}`);
    }
    return undefined;
  };

  /** Rule and reason if a resolved path is ambient or dynamic code. */
  const classify = (path: string | undefined): { rule: CodeFinding['rule']; why: string } | undefined => {
    if (path === undefined) return undefined;
    const exact = AMBIENT_PATHS.get(path);
    if (exact) return { rule: 'ambient', why: exact };
    const root = rootOf(path);
    const ambient = AMBIENT_ROOTS.get(root);
    if (ambient) return { rule: 'ambient', why: ambient };
    const dynamic = DYNAMIC_ROOTS.get(root);
    if (dynamic) return { rule: 'dynamic-code', why: dynamic };
    return undefined;
  };

  const isReferencePosition = (id: ts.Identifier): boolean => {
    const p = id.parent;
    if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
    if (ts.isQualifiedName(p)) return false;
    if (
      (ts.isPropertyAssignment(p) ||
        ts.isMethodDeclaration(p) ||
        ts.isPropertyDeclaration(p) ||
        ts.isGetAccessorDeclaration(p) ||
        ts.isSetAccessorDeclaration(p) ||
        ts.isPropertySignature(p) ||
        ts.isMethodSignature(p) ||
        ts.isEnumMember(p)) &&
      p.name === id
    ) {
      return false;
    }
    if ((ts.isVariableDeclaration(p) || ts.isParameter(p)) && p.initializer === id) return true;
    if (ts.isBindingElement(p) && p.initializer === id) return true;
    if (
      ts.isVariableDeclaration(p) ||
      ts.isParameter(p) ||
      ts.isBindingElement(p) ||
      ts.isFunctionDeclaration(p) ||
      ts.isFunctionExpression(p) ||
      ts.isClassDeclaration(p) ||
      ts.isClassExpression(p) ||
      ts.isInterfaceDeclaration(p) ||
      ts.isTypeAliasDeclaration(p) ||
      ts.isEnumDeclaration(p) ||
      ts.isModuleDeclaration(p) ||
      ts.isImportClause(p) ||
      ts.isImportSpecifier(p) ||
      ts.isNamespaceImport(p) ||
      ts.isImportEqualsDeclaration(p) ||
      ts.isExportSpecifier(p) ||
      ts.isLabeledStatement(p) ||
      ts.isBreakOrContinueStatement(p) ||
      ts.isTypeParameterDeclaration(p) ||
      ts.isMetaProperty(p)
    ) {
      return false;
    }
    // `x instanceof Function` only compares prototypes; it does not construct code.
    if (
      ts.isBinaryExpression(p) &&
      p.operatorToken.kind === ts.SyntaxKind.InstanceOfKeyword &&
      p.right === id
    ) {
      return false;
    }
    return true;
  };

  const checkWorker = (node: ts.NewExpression): void => {
    const path = resolve(node.expression);
    if (path !== 'Worker' && path !== 'worker_threads.Worker') return;
    const [source, options] = node.arguments ?? [];
    let sourceText: string | undefined;
    if (source && ts.isStringLiteralLike(source)) sourceText = source.text;
    if (source && ts.isNewExpression(source) && resolve(source.expression) === 'URL') {
      const first = source.arguments?.[0];
      if (first && ts.isStringLiteralLike(first)) sourceText = first.text;
    }
    if (sourceText !== undefined && /^(data|blob):/i.test(sourceText)) {
      report('dynamic-code', node, 'Worker started from a data:/blob: URL runs code built from a string');
    }
    if (!options) return;
    if (!ts.isObjectLiteralExpression(options)) {
      report(
        'dynamic-code',
        node,
        'Worker options are not an object literal, so `eval: true` cannot be ruled out',
      );
      return;
    }
    for (const prop of options.properties) {
      if (ts.isSpreadAssignment(prop)) {
        report('dynamic-code', prop, 'Worker options use a spread, so `eval: true` cannot be ruled out');
      } else if (propName(prop.name) === 'eval') {
        const value = ts.isPropertyAssignment(prop) ? prop.initializer : undefined;
        if (!value || value.kind !== ts.SyntaxKind.FalseKeyword) {
          report('dynamic-code', prop, 'Worker with `eval` runs a string as code');
        }
      }
    }
  };

  const literalSpecifier = (arg: ts.Expression | undefined): string | undefined =>
    arg && ts.isStringLiteralLike(arg) ? arg.text : undefined;

  const visit = (node: ts.Node): void => {
    // Pattern literals of the digest / key-id wire rules (rule wire-pattern).
    const wire = wirePatternOf(node);
    if (wire) {
      report(
        'wire-pattern',
        node,
        `\`${wire}\` pattern literal: the digest and key-id patterns are defined once, in ${WIRE_RULES_MODULE} (use DIGEST_PATTERN / KEY_ID_PATTERN, or isDigest / isKeyId of @helm/crypto)`,
      );
    }

    // Declarations (for injection-point validation).
    if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) && node.name) {
      declarations.add(node.name.text);
    } else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      declarations.add(node.name.text);
    } else if (
      (ts.isMethodDeclaration(node) || ts.isPropertyDeclaration(node)) &&
      ts.isClassLike(node.parent)
    ) {
      const member = propName(node.name);
      if (node.parent.name && member) declarations.add(`${node.parent.name.text}.${member}`);
    }

    // Module references.
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      addImport(node.moduleSpecifier.text, 'import', node.importClause?.isTypeOnly === true, node);
      return; // nothing else to see in an import declaration
    }
    if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      addImport(node.moduleSpecifier.text, 'export', node.isTypeOnly, node);
      const clause = node.exportClause;
      if (!node.isTypeOnly && clause && ts.isNamedExports(clause)) {
        const mod = moduleName(node.moduleSpecifier.text);
        for (const el of clause.elements) {
          const name = propName(el.propertyName ?? el.name) ?? el.name.text;
          const hit = el.isTypeOnly ? undefined : classify(normalise(`${mod}.${name}`));
          if (hit)
            report(hit.rule, el, `re-export of \`${name}\` from '${node.moduleSpecifier.text}': ${hit.why}`);
        }
      }
      return;
    }
    if (ts.isImportEqualsDeclaration(node)) {
      if (ts.isExternalModuleReference(node.moduleReference)) {
        const spec = literalSpecifier(node.moduleReference.expression);
        if (spec !== undefined) addImport(spec, 'import-equals', node.isTypeOnly, node);
        if (!node.isTypeOnly)
          report('dynamic-code', node, '`import … = require()` loads code through require');
      }
      return;
    }
    if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal))
        addImport(arg.literal.text, 'type', true, node);
      return;
    }
    // Types, interfaces and type aliases are erased: nothing in them runs.
    if (
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node))
    ) {
      ts.forEachChild(node, visitTypesOnly);
      return;
    }

    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const spec = literalSpecifier(node.arguments[0]);
      if (spec !== undefined) addImport(spec, 'dynamic', false, node);
      report('dynamic-code', node, 'dynamic import() loads code at run time');
    }
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      resolve(node.expression) === 'require'
    ) {
      const spec = literalSpecifier(node.arguments[0]);
      if (spec !== undefined) addImport(spec, 'require', false, node);
    }
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'resolve' &&
      ((ts.isMetaProperty(node.expression.expression) &&
        node.expression.expression.keywordToken === ts.SyntaxKind.ImportKeyword) ||
        (ts.isIdentifier(node.expression.expression) && resolve(node.expression.expression) === 'require'))
    ) {
      const spec = literalSpecifier(node.arguments[0]);
      if (spec !== undefined) addImport(spec, 'resolve', false, node);
    }
    if (ts.isNewExpression(node)) {
      const path = resolve(node.expression);
      if (path === 'Date' && (node.arguments ?? []).length === 0) {
        report('ambient', node, '`new Date()` without arguments reads the wall clock');
      }
      checkWorker(node);
    }
    if (ts.isCallExpression(node) && resolve(node.expression) === 'Date') {
      report('ambient', node, '`Date()` called as a function reads the wall clock');
    }
    const callee =
      ts.isCallExpression(node) || ts.isNewExpression(node) ? unwrap(node.expression) : undefined;
    if (callee && ts.isPropertyAccessExpression(callee) && callee.name.text === 'constructor') {
      report('dynamic-code', node, 'calling `.constructor` can reach the Function constructor');
    }

    // Ambient and dynamic-code references.
    if (ts.isIdentifier(node) && isReferencePosition(node)) {
      // Globals are reported where they are used; so are imported bindings (`randomBytes()` after
      // `import { randomBytes } from 'node:crypto'`), which lets an injection point import them.
      const decl = lookup(node);
      const path = resolve(node);
      const hit = decl === undefined || decl.kind === 'import' ? classify(path) : undefined;
      if (hit) report(hit.rule, node, `\`${path}\`: ${hit.why}`);
    } else if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const hit = classify(resolve(node));
      if (hit && !classify(resolve(node.expression))) {
        report(hit.rule, node, `\`${resolve(node)}\`: ${hit.why}`);
      }
      if (
        ts.isElementAccessExpression(node) &&
        !ts.isStringLiteralLike(node.argumentExpression) &&
        !ts.isNumericLiteral(node.argumentExpression)
      ) {
        const base = resolve(node.expression);
        if (base === 'globalThis') {
          report('dynamic-code', node, 'computed lookup on the global object can reach eval or Function');
        } else if (base && ['Date', 'Math', 'crypto', 'performance'].includes(rootOf(base))) {
          report('ambient', node, `computed member of \`${base}\` may read ambient time or randomness`);
        }
      }
    } else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent) && !node.dotDotDotToken) {
      // const { now } = Date;  const { random: r } = globalThis.Math;
      const chain: string[] = [];
      let el: ts.Node = node;
      let init: ts.Expression | undefined;
      for (;;) {
        if (!ts.isBindingElement(el) || !ts.isObjectBindingPattern(el.parent)) break;
        const key = propName(el.propertyName ?? el.name);
        if (key === undefined) break;
        chain.unshift(key);
        const holder: ts.Node = el.parent.parent;
        if (ts.isVariableDeclaration(holder) || ts.isParameter(holder)) {
          init = holder.initializer;
          break;
        }
        el = holder;
      }
      const base = init ? resolve(init) : undefined;
      if (base !== undefined && !classify(base)) {
        const path = normalise([base, ...chain].join('.'));
        const hit = classify(path);
        if (hit) report(hit.rule, node, `destructuring \`${path}\`: ${hit.why}`);
      }
    }
    ts.forEachChild(node, visit);
  };

  /** Inside types only module references matter (`typeof import('x')`). */
  const visitTypesOnly = (node: ts.Node): void => {
    if (ts.isImportTypeNode(node)) {
      visit(node);
      return;
    }
    ts.forEachChild(node, visitTypesOnly);
  };

  visit(sf);
  return { imports, findings, declarations };
}

/** Lines of code: lines holding at least one token (comments and blank lines do not count). */
export function countLinesOfCode(fileName: string, text: string): number {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const lines = new Set<number>();
  const walk = (node: ts.Node): void => {
    const children = node.getChildren(sf);
    if (children.length === 0) {
      if (node.kind === ts.SyntaxKind.EndOfFileToken) return;
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      for (let l = start; l <= end; l++) lines.add(l);
      return;
    }
    for (const child of children) walk(child);
  };
  walk(sf);
  return lines.size;
}
