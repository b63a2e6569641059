// Red team #22 — release:diff lists dependencies from the committed SBOM, not the lockfile.
//
// The `dependencies` section of release:diff (added/removed/changed with integrity, transitive
// count) is computed from each ref's *committed* `etc/sbom.cdx.json` (diff.ts `diffDeps` →
// `sbomExternals(pa.sbom)`), which the contributor controls; only the findings use tcb-check's
// fresh report. A contributor gives TCB @helm/core a new dependency (left-pad, which pulls in
// pad-core), allowlists left-pad in TCB_POLICY.md (a policy line containing "external" also
// waives the new-transitive finding for pad-core: see redteam-22-policy-external-substring), adds
// a changeset, and does not regenerate the SBOM.
// release:diff exits 0 and its dependency section is empty: no left-pad, no pad-core, no
// integrity, transitive count 0 → 0 — the reviewer never sees pad-core at all. Secure behaviour:
// dependencies (and the transitive count) are derived from the lockfile of each ref, or a committed
// SBOM that differs from the lockfile is a finding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import {
  baseline,
  commitRaw,
  type DiffResult,
  diff,
  HOOK_TIMEOUT,
  LOCK_LEFT_PAD,
  manifestOf,
  policyWith,
} from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  f.write(
    'packages/core/package.json',
    manifestOf('@helm/core', true, { dependencies: { 'left-pad': '1.3.0' } }),
  );
  f.write('pnpm-lock.yaml', LOCK_LEFT_PAD({ padCore: true }));
  f.write('TCB_POLICY.md', policyWith({ 'left-pad': { version: '1.3.0', why: 'padding of receipt ids' } }));
  f.write('.changeset/core-pad.md', '---\n"@helm/core": patch\n---\n\ncore: pads ids.\n');
  commitRaw(f, 'v2'); // no `pnpm api:update`: the committed SBOM is v1's
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a new dependency with a stale committed SBOM', () => {
  it('lists the new direct and transitive dependencies with integrity', () => {
    const deps = d.pkg('@helm/core').dependencies;
    expect(deps.added.map((x) => x.name)).toEqual(['left-pad', 'pad-core']);
    expect(deps.added.every((x) => x.integrity?.startsWith('sha512-'))).toBe(true);
    expect(deps.transitive).toEqual({ from: 0, to: 2 });
  });
});
