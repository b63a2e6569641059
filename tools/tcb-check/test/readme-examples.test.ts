// README code blocks marked `<!-- type-checked by tools/tcb-check/test/readme-examples.test.ts -->`
// (the line right before a ```ts fence) must compile like the TSDoc examples: each block is its own
// module, checked against the package sources, importing only public entry points. The receipts
// README's consumer example (issue #17 §4) is one: it must keep verifying with the trust
// registry's role- and height-aware key lookup, not a bare `(keyid) => key`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Example, ROOT, typeCheck } from './examples.ts';

const MARKER = '<!-- type-checked by tools/tcb-check/test/readme-examples.test.ts -->';

/** The marked ```ts blocks of a README; a marker not directly followed by one is an error. */
export function markedExamples(where: string, text: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() !== MARKER) return;
    if (lines[i + 1]?.trim() !== '```ts')
      throw new Error(`${where}:${i + 1}: marker not followed by a \`\`\`ts fence`);
    const end = lines.findIndex((l, k) => k > i + 1 && l.trim() === '```');
    if (end < 0) throw new Error(`${where}:${i + 2}: unterminated fence`);
    out.push({ where: `${where}:${i + 3}`, code: `${lines.slice(i + 2, end).join('\n')}\n` });
  });
  return out;
}

function readmes(): string[] {
  const files = ['README.md'];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(ROOT, group)).sort()) {
      if (existsSync(join(ROOT, group, dir, 'README.md'))) files.push(`${group}/${dir}/README.md`);
    }
  }
  return files;
}

describe('type-checked README examples', () => {
  const all = readmes().flatMap((f) => markedExamples(f, readFileSync(join(ROOT, f), 'utf8')));

  it('the receipts README verifies a pack chain with the trust registry (roles, heights, head)', () => {
    const receipts = all.filter((e) => e.where.startsWith('packages/receipts/README.md'));
    expect(receipts.length).toBeGreaterThan(0);
    const code = receipts.map((e) => e.code).join('\n');
    expect(code).toContain('importTrustSnapshot('); // the registry, re-verified from a pinned anchor
    expect(code).toContain('registry.keyLookup()'); // role + height (+ revocation) aware
    expect(code).toContain('registry.headAt('); // trust_head bound to this registry
  });

  it('every marked example type-checks against the sources, importing public entry points only', () => {
    for (const e of all) {
      for (const m of e.code.matchAll(/from '([^']+)'/g)) {
        expect(m[1], e.where).toMatch(/^@helm\/[a-z-]+(\/[a-z0-9-]+)?$/);
      }
    }
    expect(typeCheck(all)).toEqual([]);
  }, 120_000);

  it('a wrong example is reported with its README line (the check can fail)', () => {
    const readme = [
      '# x',
      MARKER,
      '```ts',
      "import { verifyReceiptChain } from '@helm/receipts/verify';",
      'verifyReceiptChain([], { keys: (keyid: string) => undefined, chainId: 1 });',
      '```',
    ].join('\n');
    const examples = markedExamples('planted/README.md', readme);
    expect(examples).toHaveLength(1);
    expect(typeCheck(examples).join('\n')).toMatch(/planted\/README\.md:4 \(example line 2\)/);
  }, 120_000);

  it('a marker without a ts block right after it is an error, not a silently skipped example', () => {
    expect(() => markedExamples('r.md', `${MARKER}\n\n\`\`\`ts\nx\n\`\`\`\n`)).toThrow(/marker not followed/);
    expect(() => markedExamples('r.md', `${MARKER}\n\`\`\`ts\nx\n`)).toThrow(/unterminated/);
  });
});
