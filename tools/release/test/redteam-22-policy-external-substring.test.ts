// Red team #22 — any policy line containing "external" waives the new-transitive finding.
//
// For a TCB package, a new transitive package is a finding only "without a TCB_POLICY.md external
// change" — implemented as `policy.filter((l) => l.includes('external')).length === 0` over the
// flattened policy diff lines (diff.ts). The test is a substring match on the whole line, value
// included, and the change need not concern the new package. Here @helm/core already depends on
// allowlisted left-pad@1.3.0; the lockfile now has left-pad pull in a new package, pad-core
// (lockfile-only: consumers do not get our lockfile, but every build, test and release of this
// repository runs pad-core); the only policy change is a new builtins justification "hashes ids;
// no external I/O". With a changeset, release:diff exits 0: the policy waiver swallows the
// `tcb-unreviewed-dependency` finding. Secure behaviour: only an `external` entry change that
// covers the new package (or its direct parent) waives the finding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, git } from './fixture.ts';
import {
  baselineWithLeftPad,
  commit,
  type DiffResult,
  diff,
  HOOK_TIMEOUT,
  LOCK_LEFT_PAD,
  policyWith,
} from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;
let control: DiffResult;

beforeAll(() => {
  f = baselineWithLeftPad();
  f.write('pnpm-lock.yaml', LOCK_LEFT_PAD({ padCore: true }));
  f.write(
    'TCB_POLICY.md',
    policyWith(
      { 'left-pad': { version: '1.3.0', why: 'padding of receipt ids' } },
      { crypto: 'hashes ids; no external I/O' },
    ),
  );
  f.write('.changeset/core-crypto.md', '---\n"@helm/core": patch\n---\n\ncore: hashes ids.\n');
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
  // control: the same lockfile change without the policy line
  git(f.root, 'checkout', '-q', '-b', 'control', 'v1');
  f.write('pnpm-lock.yaml', LOCK_LEFT_PAD({ padCore: true }));
  f.write('.changeset/core-crypto.md', '---\n"@helm/core": patch\n---\n\ncore: hashes ids.\n');
  commit(f, 'control');
  control = diff(f, 'v1', 'control');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a new transitive package next to an unrelated policy line mentioning "external"', () => {
  it('the new transitive package is there (sanity)', () => {
    expect(d.pkg('@helm/core').dependencies.added.map((x) => x.name)).toEqual(['pad-core']);
    expect(d.pkg('@helm/core').policy).toEqual([
      '- builtins = {}',
      '+ builtins.crypto = "hashes ids; no external I/O"',
    ]);
  });

  it('control: without the policy line the same change is tcb-unreviewed-dependency', () => {
    expect(control.findings.map((x) => `${x.code} ${x.package}`)).toContain(
      'tcb-unreviewed-dependency @helm/core',
    );
  });

  it('is still a finding: exit 1, tcb-unreviewed-dependency', () => {
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unreviewed-dependency @helm/core');
    expect(d.code).toBe(1);
  });
});
