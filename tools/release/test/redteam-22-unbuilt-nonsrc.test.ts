// Red team #22 — without packing, shipped files outside src/ are not hashed at all.
//
// Whether a TCB package "changed" is decided by `sourceDigest` (package.json + every file under
// src/) and by the tarball file list. The tarball is only packed when every `files` folder exists
// in the checkout (evidence.ts `packBlocker`); a `git archive` of a tag has no build output, so
// for packages that ship `dist/` the plain `release:diff <tag> <ref>` — CONTRIBUTING's own example
// is `pnpm release:diff @helm/guardian@0.1.0 WORKTREE` — prints `not built` and compares no
// tarball files on either side. Anything shipped from outside src/ then changes silently: a `lib/`
// or `wasm/` folder named in `files`, README/CHANGELOG, and every input of the build that is not
// under src/ (the package's tsconfig.json, the root tsconfig.base.json, build scripts) which
// changes `dist/`. Here TCB @helm/core ships `lib/defaults.js` and its default verdict becomes
// ALLOW without a changeset; release:diff reports @helm/core unchanged and exits 0. Secure
// behaviour: the source digest covers every tracked file that ships or feeds the build (or an
// unpackable side is itself a finding for a TCB package), so this is `tcb-unversioned`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture } from './fixture.ts';
import { commit, type DiffResult, diff, HOOK_TIMEOUT, manifestOf } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = createFixture();
  f.write('.gitignore', 'node_modules/\ndist/\n');
  f.write('packages/core/package.json', manifestOf('@helm/core', true, { files: ['src', 'lib', 'dist'] }));
  f.write('packages/core/lib/defaults.js', "export const DEFAULT_VERDICT = 'DENY_TOOL';\n");
  commit(f, 'v1');
  f.write('packages/core/lib/defaults.js', "export const DEFAULT_VERDICT = 'ALLOW';\n");
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a change to a shipped file outside src/ of an unbuilt ref', () => {
  it('is reported as a change of @helm/core: exit 1, tcb-unversioned', () => {
    expect(d.pkg('@helm/core').status).toBe('changed');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unversioned @helm/core');
    expect(d.code).toBe(1);
  });
});
