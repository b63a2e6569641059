// Red team #22 — API report blind spot: types reached through `import("…")` type nodes.
//
// The API report follows package-internal types that exported declarations mention, but only
// through type *references* (`TypeReference`, `ExpressionWithTypeArguments`, `TypeQuery` in
// api-report.ts `visit`). A type written as `import('./internal.js').Budget` is an `ImportType`
// node — exactly the form `tsc` emits in declarations for inferred types from other files — so
// `Budget`'s own declaration never enters the `(referenced)` section. Changing it (here: `limit`
// becomes a string and a `bypass` flag appears, a breaking change of `gate`'s parameter type)
// leaves the regenerated, honest API report byte-identical: release:diff lists no API change and
// accepts a patch changeset where 0.x needs a minor. Secure behaviour: import-type references are
// followed like any other reference (the change appears, `api-bump-too-small`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import { baseline, commit, type DiffResult, diff, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

const DTS =
  "export declare function gate(tool: string, budget?: import('./internal.js').Budget): string;\nexport declare const REASON_CODES: { readonly ALLOW: 'ALLOW'; readonly DENY_TOOL: 'DENY_TOOL' };\n";

beforeAll(() => {
  f = baseline();
  f.write('packages/core/src/index.d.ts', DTS);
  f.write('packages/core/src/internal.d.ts', 'export interface Budget {\n  readonly limit: number;\n}\n');
  f.write('.changeset/core-budget.md', '---\n"@helm/core": minor\n---\n\ncore: optional budget.\n');
  commit(f, 'v2');
  f.write(
    'packages/core/src/internal.d.ts',
    'export interface Budget {\n  readonly limit: string;\n  readonly bypass: boolean;\n}\n',
  );
  f.write('.changeset/core-budget-2.md', '---\n"@helm/core": patch\n---\n\ncore: budget tweak.\n');
  commit(f, 'v3'); // honest: `pnpm api:update` regenerated the report
  d = diff(f, 'v2', 'v3');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a breaking change of a type reached through import("…")', () => {
  it('the changed declaration ships (sanity)', () => {
    expect(d.pkg('@helm/core').tarball.files.map((x) => x.path)).toContain('src/internal.d.ts');
  });

  it('is an API change needing a minor bump: exit 1, api-bump-too-small', () => {
    const core = d.pkg('@helm/core');
    expect(core.api.changes.length).toBeGreaterThan(0);
    expect(core.api.requiredBump).toBe('minor');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('api-bump-too-small @helm/core');
    expect(d.code).toBe(1);
  });
});
