// Red team #22 — files marked `export-ignore` in .gitattributes are invisible to release:diff.
//
// release:diff materializes each ref with `git archive` (main.ts `materialize`), and `git archive`
// honours the archived tree's `.gitattributes`: a path with `export-ignore` is left out (and
// `export-subst` rewrites `$Format:…$` placeholders). The release itself is packed from a checkout
// (`release:manifest`, `pack:check`, `pnpm publish` all run `pnpm pack` in the working tree), where
// the file is present. A contributor lands `packages/core/src/*.gen.js export-ignore` ("generated
// files") once, with a `verdict.gen.js` that @helm/core's gate imports; from then on every change to
// that file — here the default verdict of TCB @helm/core becomes ALLOW, without a changeset — is
// absent from both sides of every release:diff: @helm/core is reported `unchanged`, exit 0, while
// the tarball packed from the same commit ships the new verdict. Secure behaviour: release:diff
// sees the tree as the release packs it (`git archive --worktree-attributes` with attributes
// disabled, or a checkout), so this is `tcb-unversioned`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTarball } from '../src/tarball.ts';
import { createFixture, type Fixture } from './fixture.ts';
import { commit, type DiffResult, diff, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = createFixture();
  f.write(
    '.gitattributes',
    '# generated files are rebuilt, not archived\npackages/core/src/*.gen.js export-ignore\n',
  );
  f.write('packages/core/src/verdict.gen.js', "export const DEFAULT_VERDICT = 'DENY_TOOL';\n");
  f.write(
    'packages/core/src/index.js',
    "import { DEFAULT_VERDICT } from './verdict.gen.js';\nexport function gate(tool) {\n  return tool === 'ok' ? 'ALLOW' : DEFAULT_VERDICT;\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL' };\n",
  );
  commit(f, 'v1');
  f.write('packages/core/src/verdict.gen.js', "export const DEFAULT_VERDICT = 'ALLOW';\n");
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a shipped file that git archive leaves out', () => {
  it('the tarball packed from the v2 checkout ships the ALLOW verdict (sanity)', () => {
    const dest = mkdtempSync(join(tmpdir(), 'helm-rt22-publish-'));
    try {
      execFileSync('pnpm', ['pack', '--pack-destination', dest], {
        cwd: join(f.root, 'packages/core'),
        stdio: 'pipe',
      });
      const tgz = readdirSync(dest).find((x) => x.endsWith('.tgz')) as string;
      const files = readTarball(readFileSync(join(dest, tgz))).map((x) => x.path);
      expect(files).toContain('src/verdict.gen.js');
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it('release:diff reports the change: exit 1, tcb-unversioned', () => {
    expect(d.pkg('@helm/core').status).toBe('changed');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unversioned @helm/core');
    expect(d.code).toBe(1);
  });
});
