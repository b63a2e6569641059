// Red team #22 — release:diff trusts the committed API report.
//
// The API half of release:diff (the `api.changes` list and the `api-bump-too-small` finding)
// compares the two refs' *committed* `etc/api-report.md` files (evidence.ts reads
// `join(p.absDir, API_REPORT)`); it never regenerates them from the declarations, not even with
// `--build`. The report is a file of the commit, so the contributor controls it. Here @helm/core's
// exported `gate` gains a required parameter (a breaking change: at 0.1.0 it needs a minor bump),
// the contributor adds only a patch changeset and does not run `pnpm api:update`. release:diff
// shows no API change, no `api-bump-too-small`, and exits 0. (`pnpm api:check` would notice, but
// it is not part of the reviewer's run, and a reviewer is exactly who should not depend on the
// contributor's CI.) Secure behaviour: the diff is computed from reports regenerated from each ref's
// shipped declarations (or a stale committed report is itself a finding).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import { baseline, commitRaw, type DiffResult, diff, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  f.write(
    'packages/core/src/index.d.ts',
    "export declare function gate(tool: string, allowAll: boolean): string;\nexport declare const REASON_CODES: { readonly ALLOW: 'ALLOW'; readonly DENY_TOOL: 'DENY_TOOL' };\n",
  );
  f.write(
    'packages/core/src/index.js',
    "export function gate(tool, allowAll) {\n  if (allowAll) return 'ALLOW';\n  return tool === 'ok' ? 'ALLOW' : 'DENY_TOOL';\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL' };\n",
  );
  f.write('.changeset/core-gate.md', '---\n"@helm/core": patch\n---\n\ncore: gate tweak.\n');
  commitRaw(f, 'v2'); // no `pnpm api:update`: the committed report is v1's
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a breaking API change with a stale committed API report', () => {
  it('the declaration change ships (sanity)', () => {
    expect(d.pkg('@helm/core').tarball.files.map((x) => x.path)).toContain('src/index.d.ts');
  });

  it('is listed as an API change needing a minor bump: exit 1, api-bump-too-small', () => {
    const core = d.pkg('@helm/core');
    expect(core.api.changes).toContainEqual({ kind: 'changed', entry: '.', name: 'gate' });
    expect(core.api.requiredBump).toBe('minor');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('api-bump-too-small @helm/core');
    expect(d.code).toBe(1);
  });
});
