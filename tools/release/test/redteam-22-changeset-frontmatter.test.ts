// Red team #22 — a changeset that names a TCB package for release:diff but bumps nothing.
//
// release:diff reads changeset frontmatter with its own regular expressions (evidence.ts
// `readChangesets`): the frontmatter ends at the first line that *starts* with `---`, and every
// `"name": bump` line inside counts. @changesets/parse, which `pnpm version-packages` uses, ends the
// frontmatter at the first line that is `---` after optional *leading whitespace*
// (`\r?\n\s*---(\s*(?:\n|$)`) and YAML-parses what is before it. A changeset whose frontmatter is
// `"@helm/app": patch`, then an indented `  ---`, then `"@helm/core": patch` is therefore, for
// changesets, a patch of @helm/app whose summary begins with the text `"@helm/core": patch`; for
// release:diff it is also a patch of @helm/core. A contributor changes TCB @helm/core's gate (every
// tool ALLOWed), adds that changeset, and release:diff exits 0 (`bump patch from changesets …`),
// while `changeset version` (run here for real) leaves @helm/core at 0.1.0 — the change ships under
// the already-published version line without any release note. Secure behaviour: release:diff
// counts only what changesets itself will apply (tcb-unversioned here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import {
  ALLOW_ALL_GATE,
  baseline,
  changesetVersion,
  commit,
  type DiffResult,
  diff,
  HOOK_TIMEOUT,
} from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  f.write('packages/core/src/index.js', ALLOW_ALL_GATE);
  f.write(
    '.changeset/app-docs.md',
    '---\n"@helm/app": patch\n  ---\n"@helm/core": patch\n---\n\napp: documentation.\n',
  );
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a changeset whose frontmatter changesets reads differently', () => {
  it('changesets itself does not bump @helm/core (proof of the discrepancy)', () => {
    const versions = changesetVersion(f, 'v2');
    expect(versions.get('@helm/app')).toBe('0.1.1');
    expect(versions.get('@helm/core')).toBe('0.1.0');
  });

  it('release:diff does not count it as a bump of @helm/core: exit 1, tcb-unversioned', () => {
    expect(d.pkg('@helm/core').status).toBe('changed');
    expect(d.pkg('@helm/core').effectiveBump).toBe('none');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unversioned @helm/core');
    expect(d.code).toBe(1);
  });
});
