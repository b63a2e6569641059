import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyPairFromSeed, toBase64Url } from '@helm/crypto';
import { exportPrivateKeyPem, exportPublicKeyPem } from '@helm/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkWorkspace } from '../src/main.ts';
import { pack } from '../src/tarball.ts';
import { applyV2, commit, createFixture, type Fixture, git, run } from './fixture.ts';

// Fixture repositories are real git + pnpm + TypeScript work; generous on a loaded machine.
const HOOK_TIMEOUT = 120_000;
let f: Fixture;

beforeAll(() => {
  f = createFixture();
  commit(f, 'v1');
  applyV2(f);
  commit(f, 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: release:diff on a two-commit fixture repository', () => {
  let human: ReturnType<typeof run>;
  let json: ReturnType<typeof run>;
  beforeAll(() => {
    human = run(['diff', 'v1', 'v2'], f.root);
    json = run(['diff', 'v1', 'v2', '--json'], f.root);
  }, HOOK_TIMEOUT);

  it('fails (exit 1) for the unversioned TCB change and the unreviewed TCB dependency', () => {
    expect(human.err).toBe('');
    expect(human.code).toBe(1);
    expect(json.code).toBe(1);
    const findings = JSON.parse(json.out).findings;
    expect(findings).toEqual([
      {
        code: 'tcb-unversioned',
        package: '@helm/core',
        message: 'TCB package @helm/core changed without a version bump or a new changeset (pnpm changeset)',
      },
      {
        code: 'api-bump-too-small',
        package: '@helm/core',
        message: 'API report: 3 change(s) need a minor bump at 0.1.0, got none',
      },
      {
        code: 'tcb-unreviewed-dependency',
        package: '@helm/core',
        message: 'new dependency left-pad@1.3.0 is not allowlisted in TCB_POLICY.md',
      },
      {
        code: 'tcb-unreviewed-dependency',
        package: '@helm/core',
        message: 'new transitive package(s) pad-core@2.0.0 without a TCB_POLICY.md external change',
      },
    ]);
  });

  it('reports every category for the TCB package', () => {
    const core = JSON.parse(json.out).packages.find((p: { name: string }) => p.name === '@helm/core');
    expect(core.status).toBe('changed');
    expect(core.tcb).toBe(true);
    expect(core.version).toEqual({ from: '0.1.0', to: '0.1.0', bump: 'none' });
    expect(core.effectiveBump).toBe('none');
    // API break: a changed signature (and the changed REASON_CODES type)
    expect(core.api).toEqual({
      changes: [
        { kind: 'added', entry: '(referenced)', name: 'src/internal.d.ts#Budget' },
        { kind: 'changed', entry: '.', name: 'REASON_CODES' },
        { kind: 'changed', entry: '.', name: 'gate' },
      ],
      requiredBump: 'minor',
    });
    // new TCB dependency, with integrity and the transitive count
    expect(core.dependencies.added).toEqual([
      {
        name: 'left-pad',
        from: null,
        to: '1.3.0',
        integrity:
          'sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEMBb0ITN8hHr+Ca0+nI44dMhXP4nmh+Q3OHWkLE7XTAQ/Q==',
      },
      {
        name: 'pad-core',
        from: null,
        to: '2.0.0',
        integrity: `sha512-${'A'.repeat(86)}==`,
      },
    ]);
    expect(core.dependencies.transitive).toEqual({ from: 0, to: 2 });
    // policy change
    expect(core.policy).toEqual(['- builtins = {}', '+ builtins.crypto = "SHA-256 of tool names (no I/O)"']);
    // new reason code
    expect(core.reasonCodes).toEqual({ added: ['DENY_BUDGET'], removed: [] });
    // tarball change: one file added, two changed (with hashes)
    expect(core.tarball.from).toMatch(/^[0-9a-f]{64}$/);
    expect(core.tarball.to).toMatch(/^[0-9a-f]{64}$/);
    expect(core.tarball.to).not.toBe(core.tarball.from);
    expect(core.tarball.files.map((x: { path: string; change: string }) => `${x.change} ${x.path}`)).toEqual([
      'changed package.json',
      'added src/budget.js',
      'changed src/index.d.ts',
      'changed src/index.js',
      'added src/internal.d.ts',
      'removed src/legacy.js',
    ]);
    const added = core.tarball.files.find((x: { path: string }) => x.path === 'src/budget.js');
    expect(added.to).toBe(
      // sha256 of the file's bytes, as written by the fixture
      createHash('sha256').update('export const UNLIMITED = Infinity;\n').digest('hex'),
    );
    expect(core.linesOfCode.delta).toBeGreaterThan(0);
    expect(core.coverage).toEqual({ from: null, to: null, delta: null });
  });

  it('reports the non-TCB package with its changeset bump and no finding', () => {
    const app = JSON.parse(json.out).packages.find((p: { name: string }) => p.name === '@helm/app');
    expect(app.tcb).toBe(false);
    expect(app.newChangesets).toEqual([{ file: 'app-kind.md', bump: 'patch' }]);
    expect(app.effectiveBump).toBe('patch');
    expect(app.api).toEqual({
      changes: [{ kind: 'added', entry: '.', name: 'kind' }],
      requiredBump: 'patch',
    });
  });

  it('reports spec pages and format versions that changed', () => {
    expect(JSON.parse(json.out).spec).toEqual({
      pages: [{ page: 'docs/spec/core.md', change: 'changed' }],
      formats: { added: ['helm.core.v2'], removed: [] },
    });
  });

  it('prints the expected human report', () => {
    const lines = human.out.split('\n');
    for (const expected of [
      'release:diff v1 → v2',
      '@helm/app — changed; version 0.1.0 → 0.1.0 (none); bump patch from changesets app-kind.md (patch)',
      '@helm/core [TCB] — changed; version 0.1.0 → 0.1.0 (none); bump none',
      '  API (needs ≥ minor):',
      '    changed . gate',
      '    added   (referenced) src/internal.d.ts#Budget',
      '  dependencies (transitive 0 → 2):',
      `    + pad-core@2.0.0 sha512-${'A'.repeat(86)}==`,
      '    + left-pad@1.3.0 sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEMBb0ITN8hHr+Ca0+nI44dMhXP4nmh+Q3OHWkLE7XTAQ/Q==',
      '  TCB_POLICY.md entry:',
      '    - builtins = {}',
      '    + builtins.crypto = "SHA-256 of tool names (no I/O)"',
      '  reason codes: +DENY_BUDGET',
      'docs/spec:',
      '  changed docs/spec/core.md',
      '  formats added: helm.core.v2',
      'FAIL [tcb-unversioned] @helm/core: TCB package @helm/core changed without a version bump or a new changeset (pnpm changeset)',
      'FAIL [tcb-unreviewed-dependency] @helm/core: new dependency left-pad@1.3.0 is not allowlisted in TCB_POLICY.md',
      'FAIL [tcb-unreviewed-dependency] @helm/core: new transitive package(s) pad-core@2.0.0 without a TCB_POLICY.md external change',
      '@helm/extra — added; version - → 0.1.0 (none); bump none',
      '@helm/old — removed; version 0.1.0 → - (none); bump none',
      '    removed . old',
      'release:diff: 4 finding(s)',
    ]) {
      expect(lines).toContain(expected);
    }
    expect(human.out).toMatch(/\n {4}added {3}src\/budget\.js - → [0-9a-f]{16}\n/);
    expect(human.out).toMatch(/\n {4}removed src\/legacy\.js [0-9a-f]{16} → -\n/);
  });

  it('limits the diff to one package with --package and passes when nothing changed', () => {
    const one = run(['diff', 'v1', 'v2', '--package', '@helm/app', '--json'], f.root);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out).packages.map((p: { name: string }) => p.name)).toEqual(['@helm/app']);
    const same = run(['diff', 'v2', 'v2', '--no-pack'], f.root);
    expect(same.code).toBe(0);
    expect(same.out).toContain('3 package(s) unchanged');
    expect(same.out).toContain('release:diff: no findings');
  });

  it('passes once the TCB change has a changeset and the dependency is allowlisted', () => {
    const policy = readFileSync(join(f.root, 'TCB_POLICY.md'), 'utf8').replace(
      '"external": {}',
      '"external": { "left-pad": { "version": "1.3.0", "why": "fixture" } }',
    );
    f.write('TCB_POLICY.md', policy);
    f.write('.changeset/core-budget.md', '---\n"@helm/core": minor\n---\n\ncore: budgets.\n');
    git(f.root, 'add', '-A');
    git(f.root, 'commit', '-q', '-m', 'reviewed');
    git(f.root, 'tag', 'v2-reviewed');
    const r = run(['diff', 'v1', 'v2-reviewed', '--no-pack'], f.root);
    expect(r.out).toContain('release:diff: no findings');
    expect(r.code).toBe(0);
  });

  it('reports line coverage of a working tree that has a coverage summary', () => {
    const summary = join(f.root, 'packages/core/coverage/coverage-summary.json');
    mkdirSync(join(f.root, 'packages/core/coverage'), { recursive: true });
    writeFileSync(summary, JSON.stringify({ total: { lines: { pct: 87.5 } } }));
    try {
      const core = (r: ReturnType<typeof run>) =>
        JSON.parse(r.out).packages.find((p: { name: string }) => p.name === '@helm/core');
      const args = ['--package', '@helm/core', '--no-pack', '--json'];
      expect(core(run(['diff', 'v1', 'WORKTREE', ...args], f.root)).coverage).toEqual({
        from: null,
        to: 87.5,
        delta: null,
      });
      expect(core(run(['diff', 'WORKTREE', 'WORKTREE', ...args], f.root)).coverage).toEqual({
        from: 87.5,
        to: 87.5,
        delta: 0,
      });
    } finally {
      rmSync(join(f.root, 'packages/core/coverage'), { recursive: true, force: true });
    }
  });

  it('rejects bad usage with exit 2', () => {
    expect(run(['diff', 'v1'], f.root).code).toBe(2);
    expect(run(['nope'], f.root).code).toBe(2);
    expect(run(['diff', 'v1', 'no-such-ref'], f.root).code).toBe(2);
  });
});

describe('api:check', () => {
  it('passes on committed reports and fails when the API differs from the committed report', () => {
    git(f.root, 'checkout', '-q', 'v2-reviewed');
    expect(run(['check'], f.root).code).toBe(0);
    const file = join(f.root, 'packages/core/src/index.d.ts');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, `${before}export declare const extra: number;\n`);
    const r = run(['check'], f.root);
    expect(r.code).toBe(1);
    expect(r.out).toContain('@helm/core: etc/api-report.md differs from the build');
    writeFileSync(file, before);
    const sbom = join(f.root, 'packages/app/etc/sbom.cdx.json');
    const kept = readFileSync(sbom);
    rmSync(sbom);
    const missing = run(['check'], f.root);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('@helm/app: etc/sbom.cdx.json missing');
    writeFileSync(sbom, kept);
  });

  it('fails when the API changed since the last release without a large enough changeset', () => {
    // v1 is the "release" of @helm/core 0.1.0 (tag name@version), v2's API break needs a minor.
    git(f.root, 'tag', '@helm/core@0.1.0', 'v1');
    git(f.root, 'checkout', '-q', 'v2');
    const r = run(['check'], f.root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /@helm\/core: API changed since [0-9a-f]{12} \(added \(referenced\) src\/internal\.d\.ts#Budget; changed \. REASON_CODES; changed \. gate\) — needs a minor changeset at 0\.1\.0, pending changesets give none/,
    );
    git(f.root, 'checkout', '-q', 'v2-reviewed');
    expect(run(['check'], f.root).code).toBe(0);
    git(f.root, 'tag', '-d', '@helm/core@0.1.0');
  });
});

describe('I-RELEASE-3: reproducible tarballs', () => {
  it('two clones (different permissions, fresh mtimes) pack byte-identical tarballs', () => {
    const clones = ['a', 'b'].map((name) => {
      const dir = join(f.root, '..', `${f.root.split('/').pop()}-clone-${name}`);
      git(join(f.root, '..'), 'clone', '-q', f.root, dir);
      linkWorkspace(dir);
      return dir;
    });
    try {
      // clone b as a umask-077 checkout would have it
      const restrict = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isSymbolicLink() || e.name === '.git') continue;
          if (e.isDirectory()) restrict(p);
          else chmodSync(p, statSync(p).mode & 0o700);
        }
      };
      restrict(clones[1] as string);
      for (const pkg of ['packages/core', 'packages/app']) {
        const [a, b] = clones.map((c) => pack(join(c, pkg)));
        expect(a?.files.length).toBeGreaterThan(0);
        expect(b?.sha256).toBe(a?.sha256);
        expect(Buffer.compare(a?.bytes as Buffer, b?.bytes as Buffer)).toBe(0);
      }
    } finally {
      for (const c of clones) rmSync(c, { recursive: true, force: true });
    }
  });
});

describe('I-RELEASE-2: signed release manifest', () => {
  const seed = new Uint8Array(32).fill(7);
  let dir: string;
  beforeAll(() => {
    git(f.root, 'checkout', '-q', 'v2-reviewed');
    linkWorkspace(f.root);
    dir = join(f.root, '.release');
    mkdirSync(join(dir, 'tarballs'), { recursive: true });
    writeFileSync(join(dir, 'release.pem'), exportPrivateKeyPem(seed));
    writeFileSync(join(dir, 'release.pub.pem'), exportPublicKeyPem(keyPairFromSeed(seed).publicKey));
    writeFileSync(
      join(dir, 'other.pub.pem'),
      exportPublicKeyPem(keyPairFromSeed(new Uint8Array(32).fill(9)).publicKey),
    );
    for (const pkg of ['packages/core', 'packages/app', 'packages/extra']) {
      const t = pack(join(f.root, pkg));
      writeFileSync(join(dir, 'tarballs', t.filename), t.bytes);
    }
    const r = run(['manifest', '--key', '.release/release.pem', '--out', '.release/manifest.json'], f.root);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  }, HOOK_TIMEOUT);
  const verify = (...extra: string[]) =>
    run(['verify', '.release/manifest.json', '--public-key', '.release/release.pub.pem', ...extra], f.root);

  it('verifies: signature, tarball digests, API report / SBOM / TCB report digests', () => {
    const envelope = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(envelope.type).toBe('helm.release.manifest.v1');
    const body = JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8'));
    expect(body.commit).toBe(git(f.root, 'rev-parse', 'HEAD'));
    expect(body.repository).toBe('https://github.com/helm-ts/fixture');
    expect(body.packages.map((p: { name: string }) => p.name)).toEqual([
      '@helm/app',
      '@helm/core',
      '@helm/extra',
    ]);
    expect(body.tcb_report).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = verify('--tarballs', '.release/tarballs', '--root', '.');
    expect(r.out).toContain('release:verify: signature valid; 10 digest(s) match');
    expect(r.code).toBe(0);
  });

  it('prints the envelope without --out and reports tarballs it was not given', () => {
    const r = run(['manifest', '--key', '.release/release.pem', '--commit', 'c0ffee'], f.root);
    expect(r.code).toBe(0);
    const envelope = JSON.parse(r.out);
    expect(JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8')).commit).toBe('c0ffee');
    mkdirSync(join(dir, 'empty'), { recursive: true });
    const v = verify('--tarballs', '.release/empty', '--json');
    expect(v.code).toBe(1);
    expect(JSON.parse(v.out).problems).toContain(
      `@helm/app: tarball helm-app-0.1.0.tgz not in ${join(f.root, '.release/empty')}`,
    );
  });

  it('fails for a tampered payload, another key, a tampered tarball and a changed report', () => {
    const file = join(dir, 'manifest.json');
    const original = readFileSync(file, 'utf8');
    const envelope = JSON.parse(original);
    const body = JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8'));
    body.packages[1].tarball.digest = `sha256:${'0'.repeat(64)}`;
    envelope.payload = toBase64Url(new TextEncoder().encode(JSON.stringify(body)));
    writeFileSync(file, JSON.stringify(envelope));
    const tampered = verify();
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(/FAIL signature: /);
    writeFileSync(file, original);

    const wrongKey = run(
      ['verify', '.release/manifest.json', '--public-key', '.release/other.pub.pem'],
      f.root,
    );
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toMatch(/FAIL signature: /);

    const tgz = readdirSync(join(dir, 'tarballs')).find((n) => n.includes('core')) as string;
    const bytes = readFileSync(join(dir, 'tarballs', tgz));
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(join(dir, 'tarballs', tgz), bytes);
    const badTarball = verify('--tarballs', '.release/tarballs', '--json');
    expect(badTarball.code).toBe(1);
    expect(JSON.parse(badTarball.out).problems).toEqual([
      expect.stringMatching(
        /^@helm\/core tarball: manifest says sha256:[0-9a-f]{64}, found sha256:[0-9a-f]{64}$/,
      ),
    ]);

    const report = join(f.root, 'packages/app/etc/api-report.md');
    writeFileSync(report, `${readFileSync(report, 'utf8')}\n`);
    const badReport = verify('--root', '.', '--json');
    expect(badReport.code).toBe(1);
    expect(JSON.parse(badReport.out).problems).toEqual([
      expect.stringMatching(/^@helm\/app API report: manifest says/),
    ]);
    git(f.root, 'checkout', '--', 'packages/app/etc/api-report.md');
  });
});
