// Red team #22 — a TCB dependency moved off its allowlisted version passes release:diff.
//
// TCB_POLICY.md allowlists each external dependency of a TCB package *with its exact version*
// (tcb-check policy.ts: `external: { name: { version, why } }`, EXACT_VERSION). release:diff's
// dependency finding only asks whether a dependency *name* is new and whether it is allowlisted at
// all (`!before.has(e.name) && e.allowlisted === null`, diff.ts); a direct dependency whose
// resolved version changed is also excluded from the new-transitive check (`direct` set). Here
// TCB @helm/core moves left-pad 1.3.0 → 1.4.0 (manifest + lockfile, SBOM regenerated honestly,
// a patch changeset) while the policy still allowlists exactly 1.3.0. The reviewer sees a `~
// left-pad 1.3.0 → 1.4.0` line but release:diff exits 0: the reviewed allowlist no longer
// describes what ships, and nothing fails. Secure behaviour: a resolved version that differs from
// the allowlisted one is `tcb-unreviewed-dependency`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import {
  baselineWithLeftPad,
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
  f = baselineWithLeftPad();
  f.write(
    'packages/core/package.json',
    manifestOf('@helm/core', true, { dependencies: { 'left-pad': '1.4.0' } }),
  );
  f.write('pnpm-lock.yaml', LOCK_LEFT_PAD({ version: '1.4.0' }));
  f.write('.changeset/core-pad.md', '---\n"@helm/core": patch\n---\n\ncore: left-pad 1.4.0.\n');
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a TCB dependency resolved to a version its policy does not allowlist', () => {
  it('the version change is listed (sanity)', () => {
    expect(d.pkg('@helm/core').dependencies.changed.map((x) => `${x.name} ${x.from} → ${x.to}`)).toEqual([
      'left-pad 1.3.0 → 1.4.0',
    ]);
  });

  it('is a finding: exit 1, tcb-unreviewed-dependency', () => {
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unreviewed-dependency @helm/core');
    expect(d.code).toBe(1);
  });
});
