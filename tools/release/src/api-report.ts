// API reports: the public surface of a published package, as the declarations its `exports` entry
// points make visible, printed from the built .d.ts files by the TypeScript compiler (the pinned
// toolchain dependency). Why not @microsoft/api-extractor: it analyses one entry point per run and
// our packages ship up to ~20 subpath entry points (@helm/contracts), each of which is API.
//
// Report format (markdown, committed as <package>/etc/api-report.md): one `## <entry>` section per
// `exports` subpath, one `### <export name>` per exported name with its comment-free declaration in
// a ```ts block, then `## (referenced)` for package-internal declarations that exported signatures
// mention without exporting them (a change there changes the API too). Re-exports of another
// package's declaration are recorded as `re-export of <package>` so that package's changes are
// reported once, in its own report.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ApiEntry {
  /** `exports` subpath, e.g. `.` or `./verify`. */
  readonly entry: string;
  /** Export name → printed declaration text. */
  readonly exports: ReadonlyMap<string, string>;
}

export interface ApiReport {
  readonly name: string;
  readonly entries: readonly ApiEntry[];
  /** Package-internal declarations referenced by exported ones: `file#name` → text. */
  readonly referenced: ReadonlyMap<string, string>;
}

interface Manifest {
  name: string;
  exports?: Record<string, unknown>;
  types?: string;
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/**
 * The declaration file of an `exports` target: a `.d.ts` string, the `types` condition, else the
 * first one found in nested conditions (`{ import: { types, default } }`), so an entry point whose
 * types sit one level down is still reported rather than skipped.
 */
function typesTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return /\.d\.[mc]?ts$/.test(target) ? target : undefined;
  if (typeof target === 'object' && target !== null) {
    const conditions = target as Record<string, unknown>;
    if (typeof conditions.types === 'string') return conditions.types;
    for (const value of Object.values(conditions)) {
      const nested = typesTarget(value);
      if (nested) return nested;
    }
  }
  return undefined;
}

/** The report section of global and module augmentations (`declare global`, `declare module '…'`). */
export const AMBIENT = '(global)';

/** `exports` subpaths with their .d.ts, sorted (`.` first). */
export function typedEntries(manifest: Manifest): [string, string][] {
  const out: [string, string][] = [];
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (subpath === './package.json') continue;
    const types = typesTarget(target);
    if (types) out.push([subpath, types]);
  }
  if (out.length === 0 && manifest.types) out.push(['.', manifest.types]);
  return out.sort(([a], [b]) => (a === '.' ? -1 : b === '.' ? 1 : a.localeCompare(b)));
}

function declarationText(node: ts.Node, file: ts.SourceFile): string {
  let target: ts.Node = node;
  // `const x: T` prints as `x: T` alone; print its statement so the kind (const/let) shows.
  if (ts.isVariableDeclaration(node) && ts.isVariableDeclarationList(node.parent)) {
    target = node.parent.parent;
  }
  return printer.printNode(ts.EmitHint.Unspecified, target, file).trim();
}

/** Which package owns `file` (a real path): the workspace package folder it sits in, if any. */
function ownerOf(file: string, owners: readonly { dir: string; name: string }[]): string | undefined {
  let real = file;
  try {
    real = realpathSync(file);
  } catch {}
  return owners.find((o) => real === o.dir || real.startsWith(o.dir + sep))?.name;
}

/**
 * Builds the API report of the package in `pkgDir` from its built declarations. `owners` maps
 * workspace package folders (real paths) to names, to tell own declarations from re-exports.
 */
export function buildApiReport(
  pkgDir: string,
  owners: readonly { dir: string; name: string }[],
  shared?: ts.Program,
): ApiReport {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Manifest;
  const entries = typedEntries(manifest);
  const program = shared ?? declarationProgram([pkgDir]);
  const checker = program.getTypeChecker();
  const realPkg = realpathSync(pkgDir);
  const self = manifest.name;
  const exportedDecls = new Set<ts.Node>();
  const queue: ts.Node[] = [];
  const out: ApiEntry[] = [];

  for (const [entry, types] of entries) {
    const file = program.getSourceFile(join(pkgDir, types));
    if (!file) throw new Error(`${self}: ${types} (exports["${entry}"]) not found — run pnpm build`);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    const exports = new Map<string, string>();
    const symbols = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
    for (const symbol of [...symbols].sort((a, b) => a.name.localeCompare(b.name))) {
      const resolved = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const decls = resolved.declarations ?? [];
      const texts: string[] = [];
      for (const decl of decls) {
        const source = decl.getSourceFile();
        const owner =
          ownerOf(source.fileName, owners) ?? (source.fileName.startsWith(realPkg) ? self : undefined);
        if (owner !== self) {
          texts.push(`re-export of ${owner ?? 'an external module'} (${resolved.name})`);
          continue;
        }
        exportedDecls.add(decl);
        queue.push(decl);
        texts.push(declarationText(decl, source));
      }
      exports.set(symbol.name, [...new Set(texts)].join('\n'));
    }
    out.push({ entry, exports });
  }

  // Package-internal declarations that exported ones reference by name (transitively).
  const referenced = new Map<string, string>();
  const seen = new Set<ts.Node>(exportedDecls);
  const record = (symbol: ts.Symbol | undefined): void => {
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    for (const decl of symbol?.declarations ?? []) {
      if (seen.has(decl) || ts.isTypeParameterDeclaration(decl) || ts.isSourceFile(decl)) continue;
      const source = decl.getSourceFile();
      if (ownerOf(source.fileName, owners) !== self && !source.fileName.startsWith(realPkg)) continue;
      seen.add(decl);
      queue.push(decl);
      const where = relative(pkgDir, source.fileName).split(sep).join('/');
      const key = `${where}#${symbol?.name}`;
      referenced.set(key, [referenced.get(key), declarationText(decl, source)].filter(Boolean).join('\n'));
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
      const nameNode = ts.isTypeReferenceNode(node)
        ? node.typeName
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : node.expression;
      record(checker.getSymbolAtLocation(nameNode));
    } else if (ts.isImportTypeNode(node)) {
      // `import('./x.js').T` names a declaration without an import statement: follow it like `T`.
      // `typeof import('./x.js')` (no qualifier) is the whole module: every export of it counts.
      if (node.qualifier) {
        const last = ts.isQualifiedName(node.qualifier) ? node.qualifier.right : node.qualifier;
        record(checker.getSymbolAtLocation(last));
      } else {
        const moduleSymbol = checker.getTypeFromTypeNode(node).getSymbol();
        for (const e of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) record(e);
      }
    }
    ts.forEachChild(node, visit);
  };
  // `declare global { … }` and `declare module '…' { … }` in the package's declarations change
  // types for every consumer that loads them, exported or not: recorded as their own entry.
  const ambient = new Map<string, string>();
  for (const source of program.getSourceFiles()) {
    if (!source.isDeclarationFile) continue;
    const mine = ownerOf(source.fileName, owners) === self || source.fileName.startsWith(realPkg);
    if (!mine) continue;
    for (const statement of source.statements) {
      if (!ts.isModuleDeclaration(statement)) continue;
      const global = (statement.flags & ts.NodeFlags.GlobalAugmentation) !== 0;
      if (!global && !ts.isStringLiteral(statement.name)) continue;
      const where = relative(pkgDir, source.fileName).split(sep).join('/');
      const key = `${where}#${global ? 'global' : `module ${statement.name.text}`}`;
      ambient.set(key, [ambient.get(key), declarationText(statement, source)].filter(Boolean).join('\n'));
      queue.push(statement);
    }
  }
  if (ambient.size > 0)
    out.push({ entry: AMBIENT, exports: new Map([...ambient].sort(([x], [y]) => x.localeCompare(y))) });
  while (queue.length > 0) visit(queue.shift() as ts.Node);

  return {
    name: self,
    entries: out,
    referenced: new Map([...referenced].sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** One compiler program over the entry declarations of every package in `pkgDirs` (shared work). */
export function declarationProgram(pkgDirs: readonly string[]): ts.Program {
  const roots = pkgDirs.flatMap((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    return typedEntries(manifest).map(([, types]) => join(dir, types));
  });
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    // ES2023 without DOM: our declarations use the language's globals only, and the DOM lib is
    // most of the compiler's parse time.
    lib: ['lib.es2023.d.ts'],
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  // The default library files never change within a process: parse them once (tests build many programs).
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const isLib = fileName.startsWith(libDir);
    const cached = isLib ? libCache.get(fileName) : undefined;
    if (cached) return cached;
    const file = getSourceFile(fileName, languageVersion, onError, shouldCreate);
    if (isLib && file) libCache.set(fileName, file);
    return file;
  };
  return ts.createProgram({ rootNames: roots, options, host });
}

const libDir = dirname(ts.getDefaultLibFilePath({}));
const libCache = new Map<string, ts.SourceFile>();

const FENCE = '```';

export function formatApiReport(report: ApiReport): string {
  const lines = [
    `# API report: ${report.name}`,
    '',
    '<!-- Generated by `pnpm api:update` from the built declarations; do not edit. `make test` fails',
    '     when the build differs. A change here needs a changeset (see CONTRIBUTING.md, Releases). -->',
  ];
  const section = (title: string, text: string): void => {
    lines.push('', `### ${title}`, '', `${FENCE}ts`, text, FENCE);
  };
  for (const entry of report.entries) {
    lines.push('', `## ${entry.entry}`);
    for (const [name, text] of entry.exports) section(name, text);
  }
  if (report.referenced.size > 0) {
    lines.push('', '## (referenced)');
    for (const [key, text] of report.referenced) section(key, text);
  }
  return `${lines.join('\n')}\n`;
}

/** Parses a report back into `entry → name → text` (the (referenced) section as entry `(referenced)`). */
export function parseApiReport(markdown: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let entry: Map<string, string> | undefined;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('## ')) {
      entry = new Map();
      out.set(line.slice(3), entry);
    } else if (line.startsWith('### ') && entry) {
      const name = line.slice(4);
      let j = i + 1;
      while (j < lines.length && lines[j] !== `${FENCE}ts`) j++;
      let k = j + 1;
      while (k < lines.length && lines[k] !== FENCE) k++;
      entry.set(name, lines.slice(j + 1, k).join('\n'));
      i = k;
    }
  }
  return out;
}

export type ApiChangeKind = 'removed' | 'changed' | 'added';

export interface ApiChange {
  readonly kind: ApiChangeKind;
  readonly entry: string;
  readonly name: string;
}

/** Export-level differences between two reports (markdown text; `undefined` = no report). */
export function diffApiReports(before: string | undefined, after: string | undefined): ApiChange[] {
  const a = parseApiReport(before ?? '');
  const b = parseApiReport(after ?? '');
  const changes: ApiChange[] = [];
  for (const entry of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(entry) ?? new Map<string, string>();
    const y = b.get(entry) ?? new Map<string, string>();
    for (const name of [...new Set([...x.keys(), ...y.keys()])].sort()) {
      const kind: ApiChangeKind | undefined = !y.has(name)
        ? 'removed'
        : !x.has(name)
          ? 'added'
          : x.get(name) !== y.get(name)
            ? 'changed'
            : undefined;
      if (kind) changes.push({ kind, entry, name });
    }
  }
  return changes;
}

export type Bump = 'major' | 'minor' | 'patch' | 'none';
export const BUMP_ORDER: readonly Bump[] = ['none', 'patch', 'minor', 'major'];
export const bumpRank = (b: Bump): number => BUMP_ORDER.indexOf(b);

/**
 * The smallest changeset bump an API change needs at `version`. Semver: removal or signature change
 * (a changed declaration, including a referenced internal one) is breaking → major; an addition →
 * minor. Pre-1.0 (0.y.z), where caret ranges treat the minor as the breaking position
 * (^0.2.0 never matches 0.3.0): breaking → minor, addition → patch. A changed declaration counts
 * as breaking: the report cannot tell a widened parameter from a narrowed one, so the reviewer
 * decides downward, in the changeset, never the tool.
 */
export function requiredBump(changes: readonly ApiChange[], version: string): Bump {
  if (changes.length === 0) return 'none';
  // An augmentation of the global scope or of another module is breaking whichever way it moves:
  // it changes types the consumer did not import.
  const breaking = changes.some(
    (c) => c.kind !== 'added' || c.entry === '(referenced)' || c.entry === AMBIENT,
  );
  const pre1 = /^0\./.test(version);
  if (breaking) return pre1 ? 'minor' : 'major';
  return pre1 ? 'patch' : 'minor';
}
