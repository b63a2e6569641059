import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../src/check.ts';
import { RULE_IDS } from '../src/types.ts';
import { expectedMarkers, FIXTURES, run } from './helpers.ts';

describe('clean fixture', () => {
  it('passes with exit 0 and no violations', () => {
    const r = run(['check', '--root', join(FIXTURES, 'clean')]);
    expect(r.err).toBe('');
    expect(r.out).toBe('tcb-check: clean — 3 TCB packages, 4 source files\n');
    expect(r.code).toBe(0);
  });

  it('reports clean JSON', () => {
    const r = run(['check', '--json', '--root', join(FIXTURES, 'clean')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ ok: true, violations: [], warnings: [] });
  });

  it('finds the workspace root from a nested folder', () => {
    const r = run(['check'], join(FIXTURES, 'clean', 'packages', 'crypto', 'src'));
    expect(r.code).toBe(0);
  });
});

describe('violations fixture', () => {
  const root = join(FIXTURES, 'violations');
  const result = runCheck(root);
  const keyed = result.violations.map((v) => `${v.file}:${v.line}:${v.rule}`);

  it('reports exactly the source findings marked `// expect:` (file, line and rule)', () => {
    const fromSources = keyed.filter((k) => /\/src\/.*\.ts:/.test(k)).sort();
    expect(fromSources).toEqual(expectedMarkers(root));
  });

  it('fires every rule', () => {
    expect(new Set(result.violations.map((v) => v.rule))).toEqual(new Set(RULE_IDS));
  });

  it('reports manifest, lockfile, policy and coverage-config findings where they are', () => {
    const rest = keyed.filter((k) => !/\/src\/.*\.ts:/.test(k)).sort();
    expect(rest).toEqual(
      [
        'TCB_POLICY.md:18:policy', // guardian may import "ghost"
        'TCB_POLICY.md:31:policy', // trust has no package
        'TCB_POLICY.md:15:policy', // injection point: missing function
        'TCB_POLICY.md:15:policy', // injection point: missing file
        'TCB_POLICY.md:20:external-version', // lockfile resolves 8.17.1
        'packages/contracts/vitest.config.ts:3:coverage-gate', // excludes src/**
        'packages/crypto/vitest.config.ts:1:coverage-gate', // missing
        'packages/executor/package.json:6:coverage-gate', // `vitest run` without coverage
        'packages/executor/package.json:8:cycle', // executor → guardian → executor
        'packages/executor/vitest.config.ts:1:coverage-gate', // does not import the gate
        'packages/executor/vitest.config.ts:3:coverage-gate', // exports its own config
        'apps/cli/package.json:6:unused-dependency', // declares @helm/guardian, imports nothing of it
        'packages/extra/package.json:4:policy', // TCB but not in the policy
        'packages/guardian/package.json:8:non-tcb-import', // depends on @helm/cli
        'packages/guardian/package.json:11:external-version', // ^8.20.0
        'packages/guardian/package.json:12:external-dependency', // left-pad
        'packages/guardian/vitest.config.ts:3:coverage-gate', // threshold 80
      ].sort(),
    );
  });

  it('names the cycle and the offending versions in its messages', () => {
    const messages = result.violations.map((v) => v.message);
    expect(messages).toContain('dependency cycle: @helm/executor → @helm/guardian → @helm/executor');
    expect(messages).toContain('ajv: TCB_POLICY.md allowlists 8.20.0 but pnpm-lock.yaml resolves 8.17.1');
    expect(messages).toContain(
      'ajv: package.json declares "^8.20.0" but TCB_POLICY.md allowlists exactly 8.20.0',
    );
  });

  it('warns (without failing) about an allowlisted dependency nobody declares', () => {
    expect(result.warnings.map((w) => `${w.file}:${w.line}:${w.message}`)).toEqual([
      'TCB_POLICY.md:12:@noble/curves is allowlisted but not declared in packages/crypto/package.json (stale or not yet added)',
    ]);
  });

  it('exits 1 and prints package, file, line and rule', () => {
    const r = run(['check', '--root', root]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "packages/guardian/src/builtins.ts:1:1  @helm/guardian  [builtin]  imports Node built-in 'node:fs'",
    );
    expect(r.out).toMatch(/tcb-check: \d+ violation\(s\) in 7 package\(s\)\n$/);
    expect(r.err).toContain('warning: TCB_POLICY.md:12:1  @helm/crypto  [external-dependency]');
  });

  it('exits 1 with --json listing the violations', () => {
    const r = run(['check', '--root', root, '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { ok: boolean; violations: unknown[] };
    expect(json.ok).toBe(false);
    expect(json.violations).toHaveLength(result.violations.length);
  });
});
