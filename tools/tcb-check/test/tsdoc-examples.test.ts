// The `@example` blocks in the TSDoc of the TCB entry points (docs/AUDIT.md §6) must compile: each
// block is type-checked as its own module against the package sources, under the repository's
// compiler options, importing only public entry points (`@helm/<pkg>` or a subpath of its
// `exports`). An example that drifts from the API it documents fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The documented entry points: file → declarations whose TSDoc must carry an `@example`. */
const DOCUMENTED: Record<string, readonly string[]> = {
  'packages/crypto/src/ed25519.ts': ['verifyEd25519'],
  'packages/crypto/src/envelope.ts': ['verifyEnvelope'],
  'packages/crypto/src/envelope-open.ts': ['openEnvelope'],
  'packages/crypto/src/envelope-sign.ts': ['signEnvelope'],
  'packages/receipts/src/verify.ts': ['verifyReceipt', 'verifyReceiptChain'],
  'packages/receipts/src/chain.ts': ['ReceiptChain'],
  'packages/proofgraph/src/node.ts': ['verifyNode'],
  'packages/proofgraph/src/validate.ts': ['validateGraph'],
  'packages/proofgraph/src/checkpoint.ts': ['verifyCheckpoint'],
  'packages/trust/src/registry/registry.ts': ['TrustRegistry'],
  'packages/guardian/src/guardian.ts': ['evaluate'],
  'packages/executor/src/executor.ts': ['createExecutor'],
  'packages/runtime-sandbox/src/internal/sandbox.ts': ['createSandbox'],
};

interface Example {
  readonly where: string;
  readonly code: string;
}

/** The ```ts blocks following `@example` in the doc comment of each named declaration. */
export function examplesOf(file: string, text: string, names: readonly string[]): Map<string, Example[]> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = new Map<string, Example[]>(names.map((n) => [n, []]));
  const visit = (node: ts.Node): void => {
    const name = (node as { name?: ts.Node }).name;
    const id = name && ts.isIdentifier(name) ? name.text : undefined;
    if (id !== undefined && found.has(id)) {
      for (const doc of ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc)) {
        for (const tag of doc.tags ?? []) {
          if (tag.tagName.text !== 'example') continue;
          const comment = ts.getTextOfJSDocComment(tag.comment) ?? '';
          const m = /```ts\n([\s\S]*?)```/.exec(comment);
          if (m) found.get(id)?.push({ where: `${file} ${id}`, code: m[1] as string });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `paths` for every workspace package entry point, from the `exports` maps (sources, not dist). */
function workspacePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    let manifest: { name?: string; exports?: Record<string, unknown> };
    try {
      manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const js = (target as { import?: unknown } | null)?.import;
      if (typeof js !== 'string' || !js.startsWith('./dist/')) continue;
      const source = js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      paths[`${manifest.name}${subpath.slice(1)}`] = [join(ROOT, 'packages', dir, source)];
    }
  }
  return paths;
}

function typeCheck(examples: readonly Example[]): string[] {
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), ts.sys.readFile).config;
  const { options } = ts.convertCompilerOptionsFromJson(base.compilerOptions, ROOT);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    noEmit: true,
    composite: false,
    incremental: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    paths: workspacePaths(),
  };
  const virtual = new Map(examples.map((e, i) => [join(ROOT, `tsdoc-example-${i}.ts`), e]));
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) => {
    const example = virtual.get(name);
    return example
      ? ts.createSourceFile(name, example.code, version, true)
      : getSourceFile(name, version, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => virtual.has(name) || fileExists(name);
  const program = ts.createProgram([...virtual.keys()], compilerOptions, host);
  const problems: string[] = [];
  for (const [name, example] of virtual) {
    const sf = program.getSourceFile(name) as ts.SourceFile;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
      problems.push(
        `${example.where} (example line ${line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
    }
  }
  return problems;
}

describe('TSDoc examples of the TCB entry points', () => {
  const all: Example[] = [];
  for (const [file, names] of Object.entries(DOCUMENTED)) {
    const found = examplesOf(file, readFileSync(join(ROOT, file), 'utf8'), names);
    it(`${file}: ${names.join(', ')} each carry an @example`, () => {
      for (const [name, examples] of found) expect(examples.length, name).toBeGreaterThan(0);
    });
    for (const examples of found.values()) all.push(...examples);
  }

  it('every example type-checks against the sources, importing public entry points only', () => {
    for (const e of all) {
      for (const m of e.code.matchAll(/from '([^']+)'/g)) {
        expect(m[1], e.where).toMatch(/^@helm\/[a-z-]+(\/[a-z0-9-]+)?$/);
      }
    }
    expect(typeCheck(all)).toEqual([]);
  }, 120_000);

  it('a wrong example is reported (the check can fail)', () => {
    const bad = {
      where: 'planted',
      code: "import { verifyReceipt } from '@helm/receipts/verify';\nverifyReceipt(1);\n",
    };
    expect(typeCheck([bad]).join('\n')).toMatch(/planted \(example line 2\)/);
  }, 120_000);
});
