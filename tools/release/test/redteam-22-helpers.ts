// Shared helpers of the red-team #22 tests (release:diff / release:verify / pack reproducibility).
// Each test builds the fixture repository of fixture.ts at `v1` and commits its own change as `v2`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishedOf } from '../src/workspace.ts';
import { commit, createFixture, type Fixture, git, run } from './fixture.ts';

export const HOOK_TIMEOUT = 180_000;

/** The fixture at `v1` (API reports and SBOMs regenerated and committed). */
export function baseline(): Fixture {
  const f = createFixture();
  commit(f, 'v1');
  return f;
}

/** Commits and tags the working tree as it is — no `api:update` (committed evidence left as is). */
export function commitRaw(f: Fixture, tag: string): void {
  git(f.root, 'add', '-A');
  git(f.root, 'commit', '-q', '-m', tag);
  git(f.root, 'tag', tag);
}

export { commit };

export interface DiffPackage {
  name: string;
  tcb: boolean;
  status: string;
  version: { from: string | null; to: string | null; bump: string };
  effectiveBump: string;
  newChangesets: { file: string; bump: string }[];
  api: { changes: { kind: string; entry: string; name: string }[]; requiredBump: string };
  dependencies: {
    added: { name: string; integrity: string | null }[];
    removed: { name: string }[];
    changed: { name: string; from: string | null; to: string | null; integrity: string | null }[];
    transitive: { from: number; to: number };
  };
  policy: string[];
  tarball: {
    from: string | null;
    to: string | null;
    files: { path: string; change: string }[];
    note?: string;
  };
}

export interface DiffResult {
  code: number;
  err: string;
  findings: { code: string; package: string; message: string }[];
  pkg(name: string): DiffPackage;
}

/**
 * `release:diff a b --json`, parsed. (The human rendering of the same report is tested in
 * diff.test.ts; running the whole diff a second time here only for it doubled these tests' time.)
 */
export function diff(f: Fixture, a: string, b: string, extra: string[] = []): DiffResult {
  const json = run(['diff', a, b, '--json', ...extra], f.root);
  if (json.code === 2) throw new Error(`release:diff failed: ${json.err}`);
  const parsed = JSON.parse(json.out) as { findings: DiffResult['findings']; packages: DiffPackage[] };
  return {
    code: json.code,
    err: json.err,
    findings: parsed.findings,
    pkg: (name) => {
      const p = parsed.packages.find((x) => x.name === name);
      if (!p) throw new Error(`${name} not in the diff`);
      return p;
    },
  };
}

/** `changeset version` (the real @changesets/cli of the repository) on a copy of `ref`: package versions after it. */
export function changesetVersion(f: Fixture, ref: string): Map<string, string> {
  const copy = mkdtempSync(join(tmpdir(), 'helm-rt22-cs-'));
  try {
    execFileSync('git', ['archive', '--format=tar', '-o', join(copy, '.t.tar'), ref], { cwd: f.root });
    execFileSync('tar', ['-xf', join(copy, '.t.tar'), '-C', copy]);
    rmSync(join(copy, '.t.tar'));
    if (!existsSync(join(copy, '.changeset', 'config.json')))
      writeFileSync(join(copy, '.changeset', 'config.json'), CHANGESET_CONFIG);
    try {
      execFileSync(join(REPO, 'node_modules', '.bin', 'changeset'), ['version'], {
        cwd: copy,
        stdio: 'pipe',
      });
    } catch (error) {
      const e = error as { stderr?: unknown; stdout?: unknown };
      throw new Error(`changeset version: ${String(e.stdout)} ${String(e.stderr)}`);
    }
    const out = new Map<string, string>();
    for (const p of publishedOf(copy))
      out.set(p.name, JSON.parse(readFileSync(join(p.absDir, 'package.json'), 'utf8')).version);
    return out;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export const CHANGESET_CONFIG = `${JSON.stringify(
  {
    changelog: false,
    commit: false,
    fixed: [],
    linked: [],
    access: 'public',
    baseBranch: 'main',
    updateInternalDependencies: 'patch',
    ignore: [],
  },
  null,
  2,
)}\n`;

/** A package.json like fixture.ts writes, with fields overridden. */
export const manifestOf = (name: string, tcb: boolean, extra: Record<string, unknown> = {}): string =>
  `${JSON.stringify(
    {
      name,
      version: '0.1.0',
      type: 'module',
      license: 'Apache-2.0',
      files: ['src'],
      exports: {
        '.': { types: './src/index.d.ts', import: './src/index.js', default: './src/index.js' },
        './package.json': './package.json',
      },
      helm: { tcb },
      dependencies: {},
      ...extra,
    },
    null,
    2,
  )}\n`;

/** @helm/core's gate with every tool ALLOWed: the change a contributor wants to hide. */
export const ALLOW_ALL_GATE =
  "export function gate(tool) {\n  return 'ALLOW';\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL' };\n";

/** TCB_POLICY.md of the fixture with @helm/core's entry given these externals/builtins. */
export function policyWith(
  external: Record<string, { version: string; why: string }>,
  builtins: Record<string, string> = {},
): string {
  const block = {
    coverageThreshold: 90,
    packages: { core: { internal: [], external, builtins, injectionPoints: [] } },
  };
  return `# TCB policy (fixture)\n\n\`\`\`json tcb-policy\n${JSON.stringify(block, null, 2)}\n\`\`\`\n`;
}

const LEFT_PAD_INTEGRITY =
  'sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEMBb0ITN8hHr+Ca0+nI44dMhXP4nmh+Q3OHWkLE7XTAQ/Q==';
const LEFT_PAD_140_INTEGRITY = `sha512-${'B'.repeat(86)}==`;
const PAD_CORE_INTEGRITY = `sha512-${'A'.repeat(86)}==`;

/** pnpm-lock.yaml of the fixture with @helm/core depending on left-pad (optionally → pad-core). */
export function LOCK_LEFT_PAD(
  o: { padCore?: boolean; version?: '1.3.0' | '1.4.0'; spec?: string } = {},
): string {
  const v = o.version ?? '1.3.0';
  const integrity = v === '1.3.0' ? LEFT_PAD_INTEGRITY : LEFT_PAD_140_INTEGRITY;
  return `lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .: {}

  packages/app:
    dependencies:
      '@helm/core':
        specifier: workspace:^
        version: link:../core

  packages/core:
    dependencies:
      left-pad:
        specifier: ${o.spec ?? v}
        version: ${v}

packages:

  left-pad@${v}:
    resolution: {integrity: ${integrity}}
${
  o.padCore
    ? `
  pad-core@2.0.0:
    resolution: {integrity: ${PAD_CORE_INTEGRITY}}
`
    : ''
}
snapshots:

  left-pad@${v}:${o.padCore ? '\n    dependencies:\n      pad-core: 2.0.0\n' : ' {}\n'}${o.padCore ? '\n  pad-core@2.0.0: {}\n' : ''}`;
}

/** The fixture at `v1` with TCB @helm/core depending on left-pad@1.3.0, allowlisted at 1.3.0. */
export function baselineWithLeftPad(): Fixture {
  const f = createFixture();
  f.write(
    'packages/core/package.json',
    manifestOf('@helm/core', true, { dependencies: { 'left-pad': '1.3.0' } }),
  );
  f.write('pnpm-lock.yaml', LOCK_LEFT_PAD());
  f.write('TCB_POLICY.md', policyWith({ 'left-pad': { version: '1.3.0', why: 'padding of receipt ids' } }));
  commit(f, 'v1');
  return f;
}
