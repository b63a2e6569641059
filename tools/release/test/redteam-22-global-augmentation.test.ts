// Red team #22 — API report blind spot: global augmentations.
//
// The API report lists the exports of each `exports` entry (api-report.ts:
// `checker.getExportsOfModule`) and what they reference. A shipped declaration file can also
// change types a consumer sees without exporting anything: `declare global { … }` (adds members
// to `Array`, `Object`, … in every consumer's program that imports the package). Here non-TCB
// @helm/app adds a member to every `Array`: an API change of @helm/app (at 0.x an addition needs at
// least a patch changeset); the regenerated report does not change, release:diff lists no API
// change, the package needs no changeset, and it exits 0. (A `declare module '@helm/core'`
// augmentation, by contrast, is seen: it merges into the re-exported symbol.) Secure behaviour:
// global augmentations in shipped declarations appear in the API report and count as a change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import { baseline, commit, type DiffResult, diff, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  f.write(
    'packages/app/src/index.d.ts',
    "export { gate } from '@helm/core';\nexport declare const name: string;\ndeclare global {\n  interface Array<T> {\n    readonly helmTrusted: true;\n  }\n}\n",
  );
  commit(f, 'v2'); // honest: `pnpm api:update` regenerated the report
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: global augmentation in a shipped declaration file', () => {
  it('the augmentation ships (sanity)', () => {
    expect(d.pkg('@helm/app').tarball.files.map((x) => x.path)).toContain('src/index.d.ts');
  });

  it('is an API change of @helm/app: listed, and exit 1 without a changeset', () => {
    const app = d.pkg('@helm/app');
    expect(app.api.changes.length).toBeGreaterThan(0);
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('api-bump-too-small @helm/app');
    expect(d.code).toBe(1);
  });
});
