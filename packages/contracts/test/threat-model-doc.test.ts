// docs/threat-model.md is normative: every invariant it lists must be defended by at least one test
// that names it (in the file name or in a describe/it title), in the test file the page points to.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/threat-model.md'), 'utf8');
const ROW = /^\| `(I-[A-Z]+-\d+)` \| .+ \| (.+) \|$/;

function rows(): { id: string; tests: string[] }[] {
  return DOC.split('\n')
    .map((line) => ROW.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      id: m[1] as string,
      tests: [...(m[2] as string).matchAll(/`([^`]+)`/g)].map((t) => t[1] as string),
    }));
}

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') return [];
    return statSync(path).isDirectory() ? testFiles(path) : name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('docs/threat-model.md', () => {
  const listed = rows();

  it('lists invariants with unique ids', () => {
    const ids = listed.map((r) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(15);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('points every invariant at existing test files that name it', () => {
    for (const { id, tests } of listed) {
      expect(tests.length, `${id} names no test file`).toBeGreaterThan(0);
      for (const test of tests) {
        const path = join(ROOT, test);
        expect(existsSync(path), `${id}: ${test} does not exist`).toBe(true);
        const named = test.includes(id) || readFileSync(path, 'utf8').includes(id);
        expect(named, `${id}: ${test} does not name the invariant`).toBe(true);
      }
    }
  });

  it('every invariant id a test names is defined on the page', () => {
    const defined = new Set(listed.map((r) => r.id));
    const files = ['packages', 'apps'].flatMap((top) =>
      readdirSync(join(ROOT, top)).flatMap((p) => testFiles(join(ROOT, top, p, 'test'))),
    );
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bI-[A-Z]+-\d+\b/g)) {
        expect(defined.has(m[0]), `${file} names ${m[0]}, which docs/threat-model.md does not define`).toBe(
          true,
        );
      }
    }
  });
});
