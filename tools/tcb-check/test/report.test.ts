import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../src/check.ts';
import { buildReport, formatReport } from '../src/report.ts';
import { copyFixture, FIXTURES, run } from './helpers.ts';

describe('tcb:report', () => {
  it('reports LOC, edges, external versions with integrity, transitive count and coverage', () => {
    const ws = copyFixture('clean');
    try {
      mkdirSync(join(ws.root, 'packages/crypto/coverage'));
      const pct = (n: number) => ({ total: n, covered: n, skipped: 0, pct: n });
      writeFileSync(
        join(ws.root, 'packages/crypto/coverage/coverage-summary.json'),
        JSON.stringify({
          total: { lines: pct(95.5), branches: pct(91), functions: pct(100), statements: pct(95) },
        }),
      );
      mkdirSync(join(ws.root, 'packages/guardian/coverage'));
      writeFileSync(join(ws.root, 'packages/guardian/coverage/coverage-summary.json'), '{"total": {}}');
      const report = buildReport(runCheck(ws.root));
      expect(report.result).toBe('pass');
      const crypto = report.packages.find((p) => p.name === '@helm/crypto');
      expect(crypto).toMatchObject({
        version: '0.2.0',
        dir: 'packages/crypto',
        files: 2,
        linesOfCode: 21,
        internalAllowed: ['@helm/contracts'],
        internalActual: ['@helm/contracts'],
        builtinsUsed: ['buffer', 'crypto'],
        builtinsAllowed: ['crypto'],
        external: [
          {
            name: '@noble/hashes',
            allowlisted: '2.4.0',
            declared: '2.4.0',
            resolved: '2.4.0',
            integrity: 'sha512-FIXTUREnobleHashes==',
          },
        ],
        transitiveExternalCount: 2,
        transitiveExternal: ['@noble/hashes@2.4.0', '@noble/inner@1.0.0'],
        coverage: { lines: 95.5, branches: 91, functions: 100, statements: 95 },
        coverageThreshold: 90,
        result: 'pass',
      });
      expect(report.packages.find((p) => p.name === '@helm/guardian')?.coverage).toBe('not measured');
      const text = formatReport(report);
      expect(text).toContain('@helm/crypto     0.2.0    2      21   1/1');
      expect(text).toContain('95.5/91/100/95');
      expect(text).toContain('sha512-FIXTUREnobleHashes==');
      expect(text).toContain('injection points : internal/clock.ts#systemClock');
      expect(text).toMatch(/tcb-check: clean$/);
    } finally {
      ws.dispose();
    }
  });

  it('marks failing packages and unlisted dependencies', () => {
    const report = buildReport(runCheck(join(FIXTURES, 'violations')));
    expect(report.result).toBe('fail');
    const guardian = report.packages.find((p) => p.name === '@helm/guardian');
    expect(guardian?.result).toBe('fail');
    expect(guardian?.external.find((e) => e.name === 'left-pad')).toEqual({
      name: 'left-pad',
      allowlisted: null,
      declared: '1.3.0',
      resolved: '1.3.0',
      integrity: 'sha512-FIXTUREleftpad==',
    });
    expect(guardian?.external.find((e) => e.name === 'big-types')?.resolved).toBeNull();
    expect(report.packages.find((p) => p.name === '@helm/contracts')?.coverageExclude).toEqual(['src/**']);
    const text = formatReport(report);
    expect(text).toContain('NOT ALLOWLISTED');
    expect(text).toContain('FAIL (');
    expect(text).toMatch(/violation\(s\) — run pnpm tcb:check$/);
  });

  it('prints JSON and exits like the check', () => {
    const clean = run(['report', '--json', '--root', join(FIXTURES, 'clean')]);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.out).packages).toHaveLength(3);
    const bad = run(['report', '--root', join(FIXTURES, 'violations')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('TCB boundary report');
  });
});
