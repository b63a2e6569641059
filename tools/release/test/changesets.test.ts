// The first 0.x release cut, end to end, on a copy of this repository (the committed HEAD): `changeset
// version` consumes every pending changeset, bumps versions and writes one CHANGELOG.md per package.
// The real cut is not made on a branch: it rewrites every package.json version while other work
// still adds changesets; it belongs to the release commit (CONTRIBUTING.md, Cutting a release).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChangesets } from '../src/evidence.ts';
import { publishedOf } from '../src/workspace.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let copy: string;
let pending: Map<string, Map<string, string>>;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'helm-release-cut-'));
  execFileSync('git', ['archive', '--format=tar', '-o', join(copy, '.head.tar'), 'HEAD'], { cwd: ROOT });
  execFileSync('tar', ['-xf', join(copy, '.head.tar'), '-C', copy]);
  rmSync(join(copy, '.head.tar'));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  pending = readChangesets(copy);
  execFileSync(join(ROOT, 'node_modules', '.bin', 'changeset'), ['version'], { cwd: copy, stdio: 'pipe' });
}, 120_000);
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('pnpm version-packages on a copy of the repository', () => {
  it('consumes every pending changeset', () => {
    expect(pending.size).toBeGreaterThan(0);
    expect(
      readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md'),
    ).toEqual([]);
  });

  it('cuts a 0.x release with one CHANGELOG.md per package that had changesets', () => {
    const named = new Set([...pending.values()].flatMap((m) => [...m.keys()]));
    const packages = publishedOf(copy);
    for (const p of packages) {
      expect(p.manifest.version, p.name).toMatch(/^0\.\d+\.\d+$/);
      if (!named.has(p.name)) continue;
      expect(p.manifest.version, p.name).not.toBe('0.1.0');
      const changelog = join(p.absDir, 'CHANGELOG.md');
      expect(existsSync(changelog), p.name).toBe(true);
      const text = readFileSync(changelog, 'utf8');
      expect(text.startsWith(`# ${p.name}\n`)).toBe(true);
      expect(text).toContain(`## ${p.manifest.version}\n`);
    }
    expect(packages.filter((p) => named.has(p.name)).length).toBeGreaterThan(5);
  });
});
