// The `@example` blocks in the TSDoc of the TCB entry points (docs/AUDIT.md §6) must compile: each
// block is type-checked as its own module against the package sources, under the repository's
// compiler options, importing only public entry points (`@helm/<pkg>` or a subpath of its
// `exports`). An example that drifts from the API it documents fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type Example, ROOT, typeCheck } from './examples.ts';

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
