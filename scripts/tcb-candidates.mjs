#!/usr/bin/env node
// Candidates for leaving the TCB, found mechanically (TCB_POLICY.md §What is in the TCB, #23).
// The TCB is the code that decides, executes under control or verifies. This script resolves
// every TCB source file with the TypeScript compiler API (`@helm/<pkg>[/sub]` mapped to the
// package's src/ entry file, the way vitest resolves it) and marks, from the entry declarations
// below, every top-level declaration reachable through a reference (imports and aliases followed).
// A declaration no entry reaches is a candidate: it is printed with its code lines (counted as
// tcb-metrics.mjs counts them) and who outside its package references its name — TCB src,
// non-TCB src, or tests only. A schema a package's `codegen/validators.ts` compiles is reached
// (the generated validator is derived from it). A row is a place to look, not a verdict:
// docs/AUDIT.md §7 records what was moved and why the rest stays.
// Usage: node scripts/tcb-candidates.mjs [--json]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, tcbPackages, ts } from './lib/tcb-packages.mjs';

/** Decide / execute-under-control / verify entry points: [package folder, file, name or '*']. */
const ENTRIES = [
  ['guardian', 'src/guardian.ts', 'Guardian'],
  // The policy the gates evaluate is decided by what the loader accepts (fail closed on a bad rule).
  ['guardian', 'src/policy.ts', 'loadPolicyStack'],
  ['guardian', 'src/policy.ts', 'loadBundle'],
  ['guardian', 'src/policy.ts', 'parseP0'],
  ['guardian', 'src/policy.ts', 'parseOverlay'],
  ['executor', 'src/executor.ts', 'createExecutor'],
  // Drivers and the ProofGraph port run under the executor's control (TCB_POLICY.md inventory).
  ['executor', 'src/sandbox-driver.ts', 'sandboxDriver'],
  ['executor', 'src/function-driver.ts', 'functionDriver'],
  ['executor', 'src/proofgraph-port.ts', 'proofGraphPort'],
  ['receipts', 'src/recorder.ts', 'ReceiptRecorder'],
  ['receipts', 'src/verify.ts', '*'],
  ['proofgraph', 'src/index.ts', '*'],
  ['trust', 'src/verify.ts', '*'],
  ['trust', 'src/tuf.ts', '*'],
  ['trust', 'src/sigstore.ts', '*'],
  ['runtime-sandbox', 'src/index.ts', '*'],
  // Worker-side entries, loaded by URL (pool.ts, isolation.ts), not by an import.
  ['runtime-sandbox', 'src/internal/worker.ts', '*'],
  ['runtime-sandbox', 'src/internal/component-worker.ts', '*'],
  ['runtime-sandbox', 'src/internal/isolation.ts', '*'],
  // The primitives every decide / sign / verify path is built on (signers are injected, so they
  // are reached through the API, not through a reference from the pipeline).
  ['crypto', 'src/index.ts', '*'],
];

function walk(dir, keep) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'coverage') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...walk(path, keep));
    else if (keep(path)) out.push(path);
  }
  return out.sort();
}
const isTs = (p) => p.endsWith('.ts') && !p.endsWith('.d.ts');

function codeLines(text) {
  let n = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('//') || t.startsWith('/*') || t.startsWith('*')) continue;
    n++;
  }
  return n;
}

const packages = tcbPackages();
const paths = {};
for (const pkg of packages)
  for (const [subpath, file] of Object.entries(pkg.entries))
    paths[pkg.name + subpath.slice(1)] = [relative(ROOT, file)];
// package.json `imports` (`#platform`): both targets are shipped code, so both are sources; the
// compiler follows the `default` (Node) one.
for (const pkg of packages) {
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'));
  for (const [key, target] of Object.entries(manifest.imports ?? {})) {
    const js = typeof target === 'string' ? target : target.default;
    paths[key] = [relative(ROOT, join(pkg.dir, js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')))];
  }
}
const sources = packages.flatMap((p) => walk(join(p.dir, 'src'), isTs));
const codegen = packages.flatMap((p) => {
  try {
    return walk(join(p.dir, 'codegen'), isTs);
  } catch {
    return [];
  }
});
const program = ts.createProgram([...sources, ...codegen], {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  baseUrl: ROOT,
  paths,
  allowImportingTsExtensions: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
});
const checker = program.getTypeChecker();

/** Top-level statements of every TCB source file (generated validators apart). */
const declarations = new Map();
for (const file of sources) {
  if (file.includes('/generated/')) continue;
  const sf = program.getSourceFile(file);
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) continue;
    let names;
    if (st.name) names = [st.name.text];
    else if (ts.isVariableStatement(st))
      names = st.declarationList.declarations.map((d) => d.name.getText(sf));
    else continue;
    declarations.set(st, {
      file: relative(ROOT, file),
      names,
      lines: codeLines(st.getText(sf)),
      node: st,
      reached: false,
    });
  }
}

function declarationsOf(symbol) {
  if (!symbol) return [];
  let s = symbol;
  if (s.flags & ts.SymbolFlags.Alias) {
    try {
      s = checker.getAliasedSymbol(s);
    } catch {
      return [];
    }
  }
  const out = [];
  for (const d of s.declarations ?? []) {
    let n = d;
    while (n && !declarations.has(n)) n = n.parent;
    if (n) out.push(declarations.get(n));
  }
  return out;
}

const queue = [];
const reach = (d) => {
  if (!d.reached) {
    d.reached = true;
    queue.push(d);
  }
};
function references(node) {
  node.forEachChild(function visit(n) {
    if (ts.isIdentifier(n)) for (const d of declarationsOf(checker.getSymbolAtLocation(n))) reach(d);
    n.forEachChild(visit);
  });
}
for (const [folder, file, name] of ENTRIES) {
  const path = join(ROOT, 'packages', folder, file);
  if (name === '*') {
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(path));
    for (const e of checker.getExportsOfModule(moduleSymbol)) for (const d of declarationsOf(e)) reach(d);
  } else {
    for (const d of declarations.values())
      if (d.file === relative(ROOT, path) && d.names.includes(name)) reach(d);
  }
}
// Build-time inputs: what codegen/validators.ts references is compiled into TCB code.
for (const file of codegen) references(program.getSourceFile(file));
while (queue.length > 0) references(queue.pop().node);

// Who references a candidate's name outside its package: a plain word search over the workspace.
const workspace = ['packages', 'apps', 'tools'].flatMap((top) =>
  walk(join(ROOT, top), (p) => /\.(ts|tsx|mts|mjs)$/.test(p) && !p.endsWith('.d.ts')),
);
const texts = new Map(workspace.map((f) => [relative(ROOT, f), readFileSync(f, 'utf8')]));
const tcbFolders = new Set(packages.map((p) => p.folder));
function users(name, ownFolder) {
  const word = new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`);
  const tcb = new Set();
  const nonTcb = new Set();
  const tests = new Set();
  for (const [file, text] of texts) {
    const [top, folder, area] = file.split('/');
    if (folder === ownFolder && top === 'packages') continue;
    if (!word.test(text)) continue;
    const where = `${top}/${folder}`;
    if (area !== 'src') tests.add(where);
    else if (top === 'packages' && tcbFolders.has(folder)) tcb.add(where);
    else nonTcb.add(where);
  }
  return { tcb: [...tcb], nonTcb: [...nonTcb], tests: [...tests] };
}

const rows = [];
for (const d of declarations.values()) {
  if (d.reached) continue;
  const folder = d.file.split('/')[1];
  const u = users(d.names[0], folder);
  rows.push({ file: d.file, names: d.names, lines: d.lines, ...u });
}
rows.sort((a, b) => a.file.localeCompare(b.file));
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const byPackage = new Map();
  for (const r of rows) {
    const p = r.file.split('/')[1];
    byPackage.set(p, (byPackage.get(p) ?? 0) + r.lines);
  }
  for (const [p, n] of byPackage) console.log(`${p}: ${n} code lines in declarations no entry point reaches`);
  console.log('');
  for (const r of rows)
    console.log(
      `${String(r.lines).padStart(4)}  ${r.file}  ${r.names.join(',')}  tcb:[${r.tcb.join(' ')}] non-tcb:[${r.nonTcb.join(' ')}] tests:[${r.tests.join(' ')}]`,
    );
}
