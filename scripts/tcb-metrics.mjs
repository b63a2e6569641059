#!/usr/bin/env node
// TCB audit metrics, counted the way DECISIONS.md ("Counting") defines them, so the numbers in
// docs/AUDIT.md and closing notes can be reproduced by anyone:
//   code lines       non-blank lines of src/**/*.ts that do not start with a comment marker, except
//                    src/internal/generated/ (ajv standalone code), counted apart as generated
//   exported symbols names (values and types) exported by each entry point in package.json
//                    `exports`, resolved with the TypeScript compiler API
//   longest function the longest function-like node (declaration, method, arrow, expression)
//   verify path      code lines of every workspace module transitively imported by the entry
//                    point that exports the receipt-chain verifier (external dependencies such as
//                    @noble/curves are listed by name, not counted)
//   verify paths     the same closure for each verifier an auditor reads (VERIFY_PATHS below),
//                    printed with their file lists by --paths (docs/AUDIT.md is generated from it)
//   exports          distinct names over all entry points (a subpath re-exports a subset of `.`,
//                    except @helm/trust's ./tuf and ./sigstore, which are apart from it)
// Usage: node scripts/tcb-metrics.mjs [--json] [--paths] [--markdown] [--functions N]
//   --markdown prints the file list of every verify path as docs/AUDIT.md §2 shows it
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { entryPoints, exportedNames, ROOT, tcbPackages, ts } from './lib/tcb-packages.mjs';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const topN = Number(args[args.indexOf('--functions') + 1]) || 0;
const showPaths = args.includes('--paths');
const asMarkdown = args.includes('--markdown');

/** The receipt-chain verifier's entry point: package, subpath, exported name. */
const VERIFY_ENTRY = { pkg: 'receipts', subpath: './verify', name: 'verifyReceiptChain' };

/**
 * Every verify path of docs/AUDIT.md: from the entry point a verifier imports (`subpath`) or, for
 * one verifier of a package, from the module that defines it (`file`).
 */
const VERIFY_PATHS = [
  { label: 'receipt chain', ...VERIFY_ENTRY },
  { label: 'envelope', pkg: 'crypto', subpath: './envelope', name: 'verifyEnvelope' },
  { label: 'ProofGraph node', pkg: 'proofgraph', file: 'src/node.ts', name: 'verifyNode' },
  { label: 'ProofGraph graph', pkg: 'proofgraph', file: 'src/validate.ts', name: 'validateGraph' },
  { label: 'ProofGraph checkpoint', pkg: 'proofgraph', file: 'src/checkpoint.ts', name: 'verifyCheckpoint' },
  {
    label: 'ProofGraph condensed',
    pkg: 'proofgraph',
    file: 'src/condense-verify.ts',
    name: 'verifyCondensedHistory',
  },
  { label: 'ProofGraph (all verifiers)', pkg: 'proofgraph', subpath: './verify', name: 'verify*' },
  { label: 'trust registry', pkg: 'trust', file: 'src/registry/registry.ts', name: 'TrustRegistry' },
  { label: 'trust snapshot', pkg: 'trust', file: 'src/registry/snapshot.ts', name: 'importTrustSnapshot' },
  { label: 'trust (registry verifier)', pkg: 'trust', subpath: './verify', name: 'TrustRegistry' },
  { label: 'EvidencePack (non-TCB)', pkg: 'evidencepack', file: 'src/verify.ts', name: 'verifyEvidencePack' },
];

function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

const codeLineCache = new Map();
function codeLines(file) {
  let n = codeLineCache.get(file);
  if (n === undefined) {
    n = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const t = line.trim();
      if (t === '' || t.startsWith('//') || t.startsWith('/*') || t.startsWith('*')) continue;
      n++;
    }
    codeLineCache.set(file, n);
  }
  return n;
}

function resolveWorkspaceImport(specifier) {
  const m = /^@helm\/([^/]+)(\/.*)?$/.exec(specifier);
  if (!m) return undefined;
  const pkgDir = join(ROOT, 'packages', m[1]);
  try {
    return entryPoints(pkgDir)[m[2] ? `.${m[2]}` : '.'];
  } catch {
    return undefined;
  }
}

function imports(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out = [];
  for (const stmt of source.statements) {
    if ((ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) && stmt.moduleSpecifier) {
      // Type-only imports vanish at runtime but an auditor still reads them; count them too.
      out.push(stmt.moduleSpecifier.text);
    }
  }
  return out;
}

function verifyPath(spec = VERIFY_ENTRY) {
  const pkgDir = join(ROOT, 'packages', spec.pkg);
  const start = spec.file ? join(pkgDir, spec.file) : entryPoints(pkgDir)[spec.subpath];
  const seen = new Set();
  const external = new Set();
  const stack = [start];
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of imports(file)) {
      let target;
      if (spec.startsWith('.')) target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      else if (spec.startsWith('@helm/')) target = resolveWorkspaceImport(spec);
      else {
        if (!spec.startsWith('node:')) external.add(spec);
        continue;
      }
      if (target) stack.push(target);
    }
  }
  const files = [...seen].sort();
  return {
    entry: spec.file
      ? `packages/${spec.pkg}/${spec.file} ${spec.name}`
      : `@helm/${spec.pkg}${spec.subpath.slice(1)} ${spec.name}`,
    lines: files.reduce((s, f) => s + codeLines(f), 0),
    files: files.map((f) => ({ file: relative(ROOT, f), lines: codeLines(f) })),
    external: [...external].sort(),
  };
}

function functionSizes(files) {
  const out = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (
        (ts.isFunctionDeclaration(node) ||
          ts.isMethodDeclaration(node) ||
          ts.isArrowFunction(node) ||
          ts.isFunctionExpression(node) ||
          ts.isConstructorDeclaration(node) ||
          ts.isGetAccessor(node) ||
          ts.isSetAccessor(node)) &&
        node.body
      ) {
        const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const name = node.name?.getText(source) ?? nameFromParent(node, source);
        out.push({ file: relative(ROOT, file), line: first + 1, name, lines: last - first + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out.sort((a, b) => b.lines - a.lines);
}

function nameFromParent(node, source) {
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p))) {
    return p.name.getText(source);
  }
  return '<anonymous>';
}

const tcb = tcbPackages();
const names = exportedNames(tcb.flatMap((p) => Object.values(p.entries)));
/** Exported names per entry point, and the distinct names over all entry points of a package. */
function exportedSymbols(entries) {
  const counts = {};
  const distinct = new Set();
  for (const [subpath, file] of Object.entries(entries)) {
    const { values, types } = names.get(file);
    counts[subpath] = values.length + types.length;
    for (const n of [...values, ...types]) distinct.add(n);
  }
  return { counts, distinct: distinct.size };
}

/** ajv standalone code generated from schemas (TCB_POLICY.md §Generated validators), counted apart. */
const isGenerated = (file) => file.includes('/src/internal/generated/');

const packages = tcb.map(({ name, dir, entries }) => {
  const all = walk(join(dir, 'src'));
  const files = all.filter((f) => !isGenerated(f));
  const exported = exportedSymbols(entries);
  const fns = functionSizes(files);
  return {
    package: name,
    codeLines: files.reduce((s, f) => s + codeLines(f), 0),
    generatedLines: all.filter(isGenerated).reduce((s, f) => s + codeLines(f), 0),
    exportedSymbols: exported.distinct,
    entryPoints: exported.counts,
    longestFunction: fns[0] ?? null,
    functionsOver80: fns.filter((f) => f.lines > 80).length,
    topFunctions: topN > 0 ? fns.slice(0, topN) : undefined,
  };
});
const report = {
  packages,
  total: {
    codeLines: packages.reduce((s, p) => s + p.codeLines, 0),
    generatedLines: packages.reduce((s, p) => s + p.generatedLines, 0),
    exportedSymbols: packages.reduce((s, p) => s + p.exportedSymbols, 0),
    functionsOver80: packages.reduce((s, p) => s + p.functionsOver80, 0),
  },
  verifyPath: verifyPath(),
  verifyPaths: VERIFY_PATHS.map((spec) => ({ label: spec.label, ...verifyPath(spec) })),
};

if (asJson) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else if (asMarkdown) {
  const blocks = report.verifyPaths.map((p) =>
    [
      `#### ${p.label} — ${p.lines} code lines, ${p.files.length} modules`,
      '',
      `From \`${p.entry}\`; external (not counted): ${p.external.join(', ') || 'none'}.`,
      '',
      '```text',
      ...p.files.map((f) => `${String(f.lines).padStart(5)}  ${f.file}`),
      '```',
    ].join('\n'),
  );
  process.stdout.write(`${blocks.join('\n\n')}\n`);
} else {
  const rows = packages.map(
    (p) =>
      `${p.package.padEnd(22)} ${String(p.codeLines).padStart(6)} ${String(p.generatedLines).padStart(9)} ${String(p.exportedSymbols).padStart(8)} ${String(p.functionsOver80).padStart(6)}  ${p.longestFunction ? `${p.longestFunction.lines} ${p.longestFunction.name} (${p.longestFunction.file}:${p.longestFunction.line})` : '-'}`,
  );
  console.log(
    `${'package'.padEnd(22)} ${'code'.padStart(6)} ${'generated'.padStart(9)} ${'exports'.padStart(8)} ${'>80'.padStart(6)}  longest function`,
  );
  for (const r of rows) console.log(r);
  console.log(
    `${'total'.padEnd(22)} ${String(report.total.codeLines).padStart(6)} ${String(report.total.generatedLines).padStart(9)} ${String(report.total.exportedSymbols).padStart(8)} ${String(report.total.functionsOver80).padStart(6)}`,
  );
  const vp = report.verifyPath;
  console.log(`\nverify path (${vp.entry}): ${vp.lines} code lines in ${vp.files.length} modules`);
  console.log(`  external: ${vp.external.join(', ') || 'none'}`);
  console.log('\nverify paths:');
  for (const p of report.verifyPaths) {
    console.log(
      `  ${p.label.padEnd(28)} ${String(p.lines).padStart(6)} lines ${String(p.files.length).padStart(4)} modules  ${p.entry}`,
    );
    if (showPaths) {
      for (const f of p.files) console.log(`      ${String(f.lines).padStart(5)}  ${f.file}`);
      console.log(`      external: ${p.external.join(', ') || 'none'}`);
    }
  }
  for (const p of packages) {
    for (const f of p.topFunctions ?? []) console.log(`  ${f.lines}\t${f.name}\t${f.file}:${f.line}`);
  }
}
