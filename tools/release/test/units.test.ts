import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type ApiChange, diffApiReports, parseApiReport, requiredBump } from '../src/api-report.ts';
import { flatten, versionBump } from '../src/diff.ts';
import { reasonCodesOf } from '../src/evidence.ts';
import { main } from '../src/main.ts';
import { purl, sbomExternals } from '../src/sbom.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const change = (kind: ApiChange['kind'], entry = '.'): ApiChange => ({ kind, entry, name: 'x' });

describe('bump rule (CONTRIBUTING.md, Release evidence)', () => {
  it('maps breaking → major and addition → minor from 1.0, breaking → minor and addition → patch below', () => {
    expect(requiredBump([], '0.3.0')).toBe('none');
    expect(requiredBump([change('added')], '1.2.0')).toBe('minor');
    expect(requiredBump([change('removed')], '1.2.0')).toBe('major');
    expect(requiredBump([change('changed')], '2.0.0')).toBe('major');
    expect(requiredBump([change('added')], '0.1.0')).toBe('patch');
    expect(requiredBump([change('removed')], '0.1.0')).toBe('minor');
    expect(requiredBump([change('added'), change('changed')], '0.9.1')).toBe('minor');
    // a newly referenced internal declaration means an exported signature changed
    expect(requiredBump([change('added', '(referenced)')], '1.0.0')).toBe('major');
  });

  it('classifies version moves', () => {
    expect(versionBump('0.1.0', '0.1.0')).toBe('none');
    expect(versionBump('0.1.0', '0.1.1')).toBe('patch');
    expect(versionBump('0.1.3', '0.2.0')).toBe('minor');
    expect(versionBump('0.9.0', '1.0.0')).toBe('major');
    expect(versionBump(null, '1.0.0')).toBe('none');
  });
});

describe('API report parsing', () => {
  const report = (decl: string): string =>
    `# API report: @helm/x\n\n## .\n\n### a\n\n\`\`\`ts\n${decl}\n\`\`\`\n\n## ./sub\n\n### b\n\n\`\`\`ts\nexport declare const b: 1;\n\`\`\`\n`;
  it('round-trips entries and names, and diffs them per export', () => {
    const parsed = parseApiReport(report('export declare function a(): void;'));
    expect([...parsed.keys()]).toEqual(['.', './sub']);
    expect(parsed.get('./sub')?.get('b')).toBe('export declare const b: 1;');
    expect(
      diffApiReports(
        report('export declare function a(): void;'),
        report('export declare function a(n: number): void;'),
      ),
    ).toEqual([{ kind: 'changed', entry: '.', name: 'a' }]);
    expect(diffApiReports(undefined, report('x'))).toHaveLength(2);
    expect(diffApiReports(report('x'), undefined).map((c) => c.kind)).toEqual(['removed', 'removed']);
  });
});

describe('policy entries and reason codes', () => {
  it('flattens a policy entry into sorted-diffable lines', () => {
    expect(flatten({ internal: ['crypto'], external: {}, builtins: { fs: 'why' } })).toEqual([
      'internal[] = "crypto"',
      'external = {}',
      'builtins.fs = "why"',
    ]);
    expect(flatten({ injectionPoints: [] })).toEqual(['injectionPoints = []']);
  });

  it('reads the closed reason-code registry of @helm/contracts', () => {
    const codes = reasonCodesOf(`${ROOT}packages/contracts`);
    expect(codes).toContain('GATE_FROZEN');
    expect(codes).toContain('ALLOW');
    // the verdicts the codes carry are not codes
    expect(codes).not.toContain('DENY');
    expect(codes).not.toContain('ESCALATE');
    expect(codes.every((c) => /^[A-Z][A-Z0-9_]+$/.test(c))).toBe(true);
  });
});

describe('committed SBOMs', () => {
  it('list the lockfile-resolved externals with the lockfile integrity (guardian → ajv)', () => {
    const lock = parseYaml(readFileSync(`${ROOT}pnpm-lock.yaml`, 'utf8')) as {
      importers: Record<string, { dependencies?: Record<string, { version: string }> }>;
      packages: Record<string, { resolution: { integrity: string } }>;
    };
    const ajv = lock.importers['packages/guardian']?.dependencies?.ajv?.version as string;
    const sbom = readFileSync(`${ROOT}packages/guardian/etc/sbom.cdx.json`, 'utf8');
    const externals = sbomExternals(sbom);
    expect(externals.get(`ajv@${ajv}`)).toBe(lock.packages[`ajv@${ajv}`]?.resolution.integrity);
    const doc = JSON.parse(sbom);
    expect(doc.bomFormat).toBe('CycloneDX');
    const component = doc.components.find((c: { purl: string }) => c.purl === purl('ajv', ajv));
    const sri = lock.packages[`ajv@${ajv}`]?.resolution.integrity as string;
    expect(component.hashes).toEqual([
      { alg: 'SHA-512', content: Buffer.from(sri.slice('sha512-'.length), 'base64').toString('hex') },
    ]);
    expect(purl('@helm/x', '1.0.0')).toBe('pkg:npm/%40helm/x@1.0.0');
  });
});

describe('cli', () => {
  it('prints usage and rejects missing values', () => {
    let out = '';
    let err = '';
    const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), cwd: ROOT };
    expect(main(['--help'], io)).toBe(0);
    expect(out).toContain('usage: helm-release');
    expect(main(['diff', '--package'], io)).toBe(2);
    expect(err).toContain('--package needs a value');
    expect(main([], io)).toBe(2);
    expect(main(['manifest'], io)).toBe(2);
    expect(main(['verify', 'x.json'], io)).toBe(2);
    expect(main(['update', '--package', '@helm/nope'], io)).toBe(2);
  });
});
