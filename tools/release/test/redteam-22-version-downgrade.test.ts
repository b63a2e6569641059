// Red team #22 — any version *change* counts as a bump, a downgrade included.
//
// diff.ts `versionBump` compares the first differing numeric position of the two version strings
// and never checks that the new version is greater: 0.1.0 → 0.0.9 is a "minor" bump, 1.2.0 →
// 1.1.9 too, and 0.1.0 → 0.1.0-rc.1 (a prerelease, which sorts *below* 0.1.0) is a "patch".
// With that "bump" the TCB package passes `tcb-unversioned`, and a breaking API change passes
// `api-bump-too-small`. A downgraded version is publishable when it was never published (a
// `~0.0.x` / `~1.1.x` consumer, or one pinned by tag, gets it), and no changelog entry describes
// it. Here TCB @helm/core ALLOWs every tool and breaks `gate`'s signature, with its version moved
// 0.1.0 → 0.0.9; release:diff reports `bump minor` and exits 0. Secure behaviour: only a semver
// increase is a bump (a decrease or a prerelease of the same version is a finding).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionBump } from '../src/diff.ts';
import type { Fixture } from './fixture.ts';
import { baseline, commit, type DiffResult, diff, HOOK_TIMEOUT, manifestOf } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  f.write('packages/core/package.json', manifestOf('@helm/core', true, { version: '0.0.9' }));
  f.write(
    'packages/core/src/index.js',
    "export function gate(tool, mode) {\n  return 'ALLOW';\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL' };\n",
  );
  f.write(
    'packages/core/src/index.d.ts',
    "export declare function gate(tool: string, mode: 'strict' | 'open'): string;\nexport declare const REASON_CODES: { readonly ALLOW: 'ALLOW'; readonly DENY_TOOL: 'DENY_TOOL' };\n",
  );
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a version downgrade is not a version bump', () => {
  it('versionBump: a decrease or a lower prerelease is no bump', () => {
    expect(versionBump('0.1.0', '0.0.9')).toBe('none');
    expect(versionBump('1.2.0', '1.1.9')).toBe('none');
    expect(versionBump('0.1.0', '0.1.0-rc.1')).toBe('none');
  });

  it('release:diff: exit 1 with tcb-unversioned and api-bump-too-small', () => {
    const codes = d.findings.map((x) => `${x.code} ${x.package}`);
    expect(codes).toContain('tcb-unversioned @helm/core');
    expect(codes).toContain('api-bump-too-small @helm/core');
    expect(d.code).toBe(1);
  });
});
