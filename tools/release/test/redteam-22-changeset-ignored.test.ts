// Red team #22 — a changeset for a TCB package that `.changeset/config.json` ignores.
//
// release:diff counts every `.changeset/*.md` line naming a package as that package's bump
// (evidence.ts `readChangesets`), but never reads `.changeset/config.json`. Changesets skips
// packages listed in its `ignore` array: `changeset version` neither bumps them nor consumes
// their changesets into a version. A contributor changes TCB @helm/core's gate (every tool
// ALLOWed), adds `"@helm/core": patch` as a changeset *and* adds `@helm/core` to `ignore` in the
// same commit (changesets insists that dependents are ignored too: @helm/app joins the list; the
// repository already ignores `@helm/tcb-check` there, so such entries look routine).
// release:diff prints `bump patch from changesets core-fix.md (patch)` and exits 0, while
// `changeset version` (run here for real) leaves @helm/core at 0.1.0. Secure behaviour:
// release:diff applies the changesets config (ignore, and also fixed/linked groups) or reports a
// changed `.changeset/config.json`, and counts no bump for an ignored package (tcb-unversioned).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture } from './fixture.ts';
import {
  ALLOW_ALL_GATE,
  CHANGESET_CONFIG,
  changesetVersion,
  commit,
  type DiffResult,
  diff,
  HOOK_TIMEOUT,
} from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = createFixture();
  f.write('.changeset/config.json', CHANGESET_CONFIG);
  commit(f, 'v1');
  f.write('packages/core/src/index.js', ALLOW_ALL_GATE);
  f.write(
    '.changeset/config.json',
    CHANGESET_CONFIG.replace('"ignore": []', '"ignore": [\n    "@helm/app",\n    "@helm/core"\n  ]'),
  );
  f.write('.changeset/core-fix.md', '---\n"@helm/core": patch\n---\n\ncore: gate fix.\n');
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a changeset naming a package that changesets ignores', () => {
  it('changesets itself does not bump @helm/core (proof)', () => {
    expect(changesetVersion(f, 'v2').get('@helm/core')).toBe('0.1.0');
  });

  it('release:diff counts no bump for it: exit 1, tcb-unversioned', () => {
    expect(d.pkg('@helm/core').status).toBe('changed');
    expect(d.pkg('@helm/core').effectiveBump).toBe('none');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unversioned @helm/core');
    expect(d.code).toBe(1);
  });
});
