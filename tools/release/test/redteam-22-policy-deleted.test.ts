// Red team #22 — deleting TCB_POLICY.md switches the TCB dependency findings off.
//
// collectEvidence runs tcb-check only when the checkout has a TCB_POLICY.md (evidence.ts:
// `if (policy) { … runCheck(root) … }`); without one, no package has a `tcbReport`, and diff.ts
// checks dependencies only `if (pb?.tcb && pb.tcbReport)`. The TCB marker itself still comes from
// each manifest (`helm.tcb`), so the package stays TCB but its dependency rules are gone. A
// contributor deletes (or renames) TCB_POLICY.md in the commit that gives TCB @helm/core a new,
// never-allowlisted dependency (left-pad → pad-core), with a changeset: release:diff shows the
// policy lines as removed and the new dependencies, but has no finding and exits 0. Secure
// behaviour: a TCB package without a policy entry at <ref-b> fails (every dependency of it is
// unreviewed), so this is `tcb-unreviewed-dependency`.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import {
  baseline,
  commit,
  type DiffResult,
  diff,
  HOOK_TIMEOUT,
  LOCK_LEFT_PAD,
  manifestOf,
} from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  rmSync(join(f.root, 'TCB_POLICY.md'));
  f.write(
    'packages/core/package.json',
    manifestOf('@helm/core', true, { dependencies: { 'left-pad': '1.3.0' } }),
  );
  f.write('pnpm-lock.yaml', LOCK_LEFT_PAD({ padCore: true }));
  f.write('.changeset/core-pad.md', '---\n"@helm/core": patch\n---\n\ncore: pads ids.\n');
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a new TCB dependency in the commit that deletes TCB_POLICY.md', () => {
  it('the package is still TCB and the new dependency is listed (sanity)', () => {
    expect(d.pkg('@helm/core').tcb).toBe(true);
    expect(d.pkg('@helm/core').dependencies.added.map((x) => x.name)).toEqual(['left-pad', 'pad-core']);
  });

  it('is a finding: exit 1, tcb-unreviewed-dependency', () => {
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unreviewed-dependency @helm/core');
    expect(d.code).toBe(1);
  });
});
