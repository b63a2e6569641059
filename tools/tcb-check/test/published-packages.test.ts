// scripts/lib/published-packages.mjs, which `pnpm pack:check` uses for what a published package must
// carry from the repository: which packages are published, the repository-derived manifest fields,
// and README links that work on the npm registry page (absolute, naming existing files).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error — a plain .mjs script module without declarations
import * as lib from '../../../scripts/lib/published-packages.mjs';
import { ROOT } from './examples.ts';

interface Published {
  readonly name: string;
  readonly dir: string;
  readonly manifest: { private?: boolean; helm?: { tcb?: boolean } };
}
const published = lib.publishedPackages as () => Published[];
const repositoryWeb = lib.repositoryWeb as () => string;
const expectedLinks = lib.expectedLinks as (dir: string, web?: string) => Record<string, unknown>;
const markdownLinks = lib.markdownLinks as (text: string) => Array<{ target: string }>;
const readmeProblems = lib.readmeProblems as (text: string, web?: string) => string[];
const absoluteReadme = lib.absoluteReadme as (absDir: string, text: string, web?: string) => string;

const WEB = 'https://example.test/o/r';
const pkgDir = join(ROOT, 'packages', 'receipts');

describe('published packages', () => {
  it('are every non-private workspace package: all TCB packages, the non-TCB libraries, the CLI and the server', () => {
    const names = published().map((p) => p.name);
    for (const n of [
      '@helm/receipts',
      '@helm/store',
      '@helm/evidencepack',
      '@helm/driver-http',
      '@helm/mcp-gateway',
      '@helm/cli',
      '@helm/server', // `helmts serve` depends on it, so it is published with the CLI
    ])
      expect(names).toContain(n);
    expect(names).not.toContain('@helm/tcb-check'); // private
    expect(published().every((p) => p.manifest.private !== true)).toBe(true);
  });

  it('take repository, homepage and bugs from the one URL in the root package.json', () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      repository: { url: string };
    };
    expect(`git+${repositoryWeb()}.git`).toBe(root.repository.url);
    expect(expectedLinks('packages/receipts', WEB)).toEqual({
      homepage: `${WEB}/tree/main/packages/receipts#readme`,
      bugs: { url: `${WEB}/issues` },
      repository: { type: 'git', url: `git+${WEB}.git`, directory: 'packages/receipts' },
    });
  });
});

describe('README links', () => {
  const text = [
    'See [the spec](../../docs/spec/receipt.md#verification), [a folder](../driver-http),',
    '![img](./src/index.ts "title"), [anchor](#exports), [web](https://example.org/x).',
    '[ref]: ../../TCB_POLICY.md',
    '```md',
    '[in code](../../not-a-link.md)',
    '```',
  ].join('\n');

  it('are found in prose and reference definitions, not in fenced code', () => {
    expect(markdownLinks(text).map((l) => l.target)).toEqual([
      '../../docs/spec/receipt.md#verification',
      '../driver-http',
      './src/index.ts',
      '#exports',
      'https://example.org/x',
      '../../TCB_POLICY.md',
    ]);
  });

  it('relative ones are problems; absolutized they point into the repository (blob/tree) and pass', () => {
    expect(readmeProblems(text, WEB)).toEqual([
      'README: relative link ../../docs/spec/receipt.md#verification (breaks on the npm registry page)',
      'README: relative link ../driver-http (breaks on the npm registry page)',
      'README: relative link ./src/index.ts (breaks on the npm registry page)',
      'README: relative link ../../TCB_POLICY.md (breaks on the npm registry page)',
    ]);
    const fixed = absoluteReadme(pkgDir, text, WEB);
    expect(fixed).toContain(`[the spec](${WEB}/blob/main/docs/spec/receipt.md#verification)`);
    expect(fixed).toContain(`[a folder](${WEB}/tree/main/packages/driver-http)`);
    expect(fixed).toContain(`![img](${WEB}/blob/main/packages/receipts/src/index.ts "title")`);
    expect(fixed).toContain(`[ref]: ${WEB}/blob/main/TCB_POLICY.md`);
    expect(fixed).toContain('[in code](../../not-a-link.md)'); // code is not rewritten
    expect(readmeProblems(fixed, WEB)).toEqual([]);
  });

  it('an absolute link into the repository naming no file is a problem; a missing relative target stays', () => {
    expect(readmeProblems(`[x](${WEB}/blob/main/docs/nope.md)`, WEB)).toEqual([
      `README: link ${WEB}/blob/main/docs/nope.md names no file of the repository`,
    ]);
    expect(absoluteReadme(pkgDir, '[x](../../docs/nope.md)', WEB)).toBe('[x](../../docs/nope.md)');
  });

  it('every published README passes today', () => {
    for (const p of published()) {
      const readme = readFileSync(join(ROOT, p.dir, 'README.md'), 'utf8');
      expect(readmeProblems(readme), p.name).toEqual([]);
    }
  });
});
