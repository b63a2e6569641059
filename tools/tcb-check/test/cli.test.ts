import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, FIXTURES, run } from './helpers.ts';

describe('usage', () => {
  it('prints help with exit 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('usage: tcb-check <check|report>');
  });

  it.each([[[]], [['lint']], [['check', 'report']], [['check', '--root']], [['check', '--bogus']]])(
    'exits 2 on %j',
    (argv) => {
      const r = run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toContain('usage: tcb-check');
    },
  );
});

describe('errors that stop the check (exit 2)', () => {
  it('no workspace above the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcb-empty-'));
    try {
      const r = run(['check'], dir);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^tcb-check: workspace error: no TCB_POLICY.md/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it.each([
    ['TCB_POLICY.md', null, 'policy error: TCB_POLICY.md not found'],
    ['TCB_POLICY.md', '# no block\n', 'policy error: expected exactly one'],
    ['pnpm-lock.yaml', null, 'lockfile error: pnpm-lock.yaml not found'],
    ['pnpm-lock.yaml', "lockfileVersion: '6.0'\n", 'only lockfileVersion 9 is supported'],
    ['pnpm-lock.yaml', 'a: [\n', 'lockfile error: pnpm-lock.yaml is not valid YAML'],
    ['pnpm-workspace.yaml', 'packages: nope\n', 'workspace error: pnpm-workspace.yaml: "packages"'],
    ['pnpm-workspace.yaml', 'packages: [\n', 'workspace error: pnpm-workspace.yaml:'],
    ['pnpm-workspace.yaml', 'packages:\n  - "packages/a*"\n', 'unsupported pnpm-workspace.yaml pattern'],
    ['packages/crypto/package.json', '{', 'workspace error:'],
    ['packages/crypto/package.json', '{"version": "1.0.0"}', 'has no name'],
    [
      'packages/crypto/package.json',
      '{"name": "@helm/guardian"}',
      'two workspace packages are named @helm/guardian',
    ],
  ])('%s = %j', (file, content, message) => {
    const ws = copyFixture('clean');
    try {
      if (content === null) rmSync(join(ws.root, file));
      else writeFileSync(join(ws.root, file), content);
      const r = run(['check', '--root', ws.root]);
      expect(r.err).toContain(message);
      expect(r.code).toBe(2);
    } finally {
      ws.dispose();
    }
  });

  it('a missing pnpm-workspace.yaml', () => {
    const ws = copyFixture('clean');
    try {
      rmSync(join(ws.root, 'pnpm-workspace.yaml'));
      const r = run(['report', '--root', ws.root]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('no pnpm-workspace.yaml');
    } finally {
      ws.dispose();
    }
  });

  it('reports an unexpected error as internal', () => {
    const ws = copyFixture('clean');
    try {
      writeFileSync(
        join(ws.root, 'pnpm-lock.yaml'),
        "lockfileVersion: '9.0'\nimporters:\n  packages/crypto:\n    dependencies: 5\n",
      );
      const r = run(['check', '--root', ws.root]);
      expect([1, 2]).toContain(r.code);
    } finally {
      ws.dispose();
    }
  });
});

describe('workspace globs', () => {
  it('supports exact folders, ** and ! exclusions', () => {
    const ws = copyFixture('clean');
    try {
      writeFileSync(
        join(ws.root, 'pnpm-workspace.yaml'),
        'packages:\n  - packages/**\n  - apps/cli\n  - "!packages/contracts/src"\n  - missing/*\n',
      );
      const r = run(['check', '--root', ws.root]);
      expect(r.out).toContain('clean');
      expect(r.code).toBe(0);
    } finally {
      ws.dispose();
    }
  });

  it('ignores the fixture root when run from elsewhere', () => {
    expect(run(['check', '--root', join(FIXTURES, 'clean')]).code).toBe(0);
  });
});
