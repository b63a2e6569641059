// A small workspace built in the test as a git repository with two commits: `v1` (a TCB package
// @helm/core, a non-TCB @helm/app re-exporting from it, @helm/old, and a private package) and `v2`,
// which changes @helm/core in every way release:diff reports — an API break (a changed signature
// that now references an internal type), a new non-allowlisted dependency with a transitive one, a
// TCB_POLICY.md change, a new reason code, a spec page with a new format version, tarball files
// added, changed and removed — without a changeset; changes @helm/app with one; removes @helm/old
// and adds @helm/extra. Packages ship hand-written JS + .d.ts (no build step).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type CliIo, linkWorkspace, main } from '../src/main.ts';

export interface Run {
  code: number;
  out: string;
  err: string;
}

export function run(argv: string[], cwd: string): Run {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), cwd };
  return { code: main(argv, io), out, err };
}

export const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'fixture',
      GIT_AUTHOR_EMAIL: 'fixture@example.invalid',
      GIT_COMMITTER_NAME: 'fixture',
      GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
      GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
    },
  }).trim();

const LEFT_PAD_INTEGRITY =
  'sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEMBb0ITN8hHr+Ca0+nI44dMhXP4nmh+Q3OHWkLE7XTAQ/Q==';

const PAD_CORE_INTEGRITY =
  'sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==';

function policy(builtins: Record<string, string>): string {
  const block = {
    coverageThreshold: 90,
    packages: { core: { internal: [], external: {}, builtins, injectionPoints: [] } },
  };
  return `# TCB policy (fixture)\n\n\`\`\`json tcb-policy\n${JSON.stringify(block, null, 2)}\n\`\`\`\n`;
}

function lockfile(coreDeps: boolean): string {
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

  packages/core:${
    coreDeps
      ? `
    dependencies:
      left-pad:
        specifier: 1.3.0
        version: 1.3.0`
      : ' {}'
  }
${
  coreDeps
    ? `
packages:

  left-pad@1.3.0:
    resolution: {integrity: ${LEFT_PAD_INTEGRITY}}

  pad-core@2.0.0:
    resolution: {integrity: ${PAD_CORE_INTEGRITY}}

snapshots:

  left-pad@1.3.0:
    dependencies:
      pad-core: 2.0.0

  pad-core@2.0.0: {}
`
    : ''
}`;
}

const manifest = (name: string, tcb: boolean, deps: Record<string, string>): string =>
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
      dependencies: deps,
    },
    null,
    2,
  )}\n`;

export interface Fixture {
  readonly root: string;
  write(file: string, text: string): void;
  dispose(): void;
}

export function createFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'helm-release-fixture-'));
  const write = (file: string, text: string): void => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  git(root, 'init', '-q', '-b', 'main');
  write(
    'package.json',
    `${JSON.stringify({ name: 'fixture', private: true, repository: { type: 'git', url: 'git+https://github.com/helm-ts/fixture.git' } }, null, 2)}\n`,
  );
  write('pnpm-workspace.yaml', 'packages:\n  - packages/*\n');
  write('.gitignore', 'node_modules/\n');
  write('TCB_POLICY.md', policy({}));
  write('pnpm-lock.yaml', lockfile(false));
  write('.changeset/README.md', 'changesets\n');
  write('docs/spec/core.md', '# core wire format\n\nBodies are `helm.core.v1`.\n');
  write('packages/core/package.json', manifest('@helm/core', true, {}));
  write(
    'packages/core/src/index.js',
    "export function gate(tool) {\n  return tool === 'ok' ? 'ALLOW' : 'DENY_TOOL';\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL' };\n",
  );
  write(
    'packages/core/src/index.d.ts',
    "export declare function gate(tool: string): string;\nexport declare const REASON_CODES: { readonly ALLOW: 'ALLOW'; readonly DENY_TOOL: 'DENY_TOOL' };\n",
  );
  write('packages/app/package.json', manifest('@helm/app', false, { '@helm/core': 'workspace:^' }));
  write('packages/app/src/index.js', "export { gate } from '@helm/core';\nexport const name = 'app';\n");
  write(
    'packages/app/src/index.d.ts',
    "export { gate } from '@helm/core';\nexport declare const name: string;\n",
  );
  write('packages/core/src/legacy.js', 'export const LEGACY = true;\n');
  write('packages/old/package.json', manifest('@helm/old', false, {}));
  write('packages/old/src/index.js', 'export const old = 1;\n');
  write('packages/old/src/index.d.ts', 'export declare const old: number;\n');
  write(
    'packages/internal/package.json',
    `${JSON.stringify({ name: '@helm/internal', private: true }, null, 2)}\n`,
  );
  linkWorkspace(root);
  return { root, write, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

/** Commits the current state (after regenerating API reports + SBOMs) and tags it. */
export function commit(f: Fixture, tag: string): void {
  const update = run(['update'], f.root);
  if (update.code !== 0) throw new Error(`update failed: ${update.err}`);
  git(f.root, 'add', '-A');
  git(f.root, 'commit', '-q', '-m', tag);
  git(f.root, 'tag', tag);
}

/** The v2 changes (see the header). */
export function applyV2(f: Fixture): void {
  f.write('TCB_POLICY.md', policy({ crypto: 'SHA-256 of tool names (no I/O)' }));
  f.write('pnpm-lock.yaml', lockfile(true));
  f.write('packages/core/package.json', manifest('@helm/core', true, { 'left-pad': '1.3.0' }));
  f.write(
    'packages/core/src/index.js',
    "export function gate(tool, budget) {\n  if (budget <= 0) return 'DENY_BUDGET';\n  return tool === 'ok' ? 'ALLOW' : 'DENY_TOOL';\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL', DENY_BUDGET: 'DENY_BUDGET' };\n",
  );
  f.write(
    'packages/core/src/index.d.ts',
    "import type { Budget } from './internal.js';\nexport declare function gate(tool: string, budget: Budget): string;\nexport declare const REASON_CODES: { readonly ALLOW: 'ALLOW'; readonly DENY_TOOL: 'DENY_TOOL'; readonly DENY_BUDGET: 'DENY_BUDGET' };\n",
  );
  f.write('packages/core/src/budget.js', 'export const UNLIMITED = Infinity;\n');
  f.write('packages/core/src/internal.d.ts', 'export interface Budget {\n  readonly limit: number;\n}\n');
  rmSync(join(f.root, 'packages/core/src/legacy.js'));
  rmSync(join(f.root, 'packages/old'), { recursive: true });
  f.write('packages/extra/package.json', manifest('@helm/extra', false, {}));
  f.write('packages/extra/src/index.js', 'export const extra = 1;\n');
  f.write('packages/extra/src/index.d.ts', 'export declare const extra: number;\n');
  f.write(
    'docs/spec/core.md',
    '# core wire format\n\nBodies are `helm.core.v2`; `helm.core.v1` is still read.\n',
  );
  f.write(
    'packages/app/src/index.js',
    "export { gate } from '@helm/core';\nexport const name = 'app';\nexport const kind = 'demo';\n",
  );
  f.write(
    'packages/app/src/index.d.ts',
    "export { gate } from '@helm/core';\nexport declare const name: string;\nexport declare const kind: string;\n",
  );
  f.write('.changeset/app-kind.md', '---\n"@helm/app": patch\n---\n\napp: `kind`.\n');
}
