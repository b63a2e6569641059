// Red team #22 — a TCB package demoted in the same change escapes every TCB finding.
//
// release:diff decides whether a package is TCB from the manifest at <ref-b> only
// (`tcb: pb?.tcb ?? pa?.tcb` in diff.ts; `pb?.tcb` guards the dependency findings too). A
// contributor who flips `"helm": { "tcb": true }` to `false` in @helm/core's package.json in the
// same commit that changes its gate (here: every tool ALLOWed) gets no `tcb-unversioned` finding
// and exit
// 0 — the package is printed without its `[TCB]` mark, as an ordinary changed package (a new,
// non-allowlisted dependency would pass the same way: the dependency check is guarded by `pb?.tcb`). The
// reviewer is told nothing about the TCB boundary having moved. Secure behaviour: a package that
// was TCB at <ref-a> is held to the TCB rules (and the demotion itself is a finding).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import { baseline, commit, type DiffResult, diff, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  f.write(
    'packages/core/package.json',
    `${JSON.stringify(
      {
        name: '@helm/core',
        version: '0.1.0',
        type: 'module',
        license: 'Apache-2.0',
        files: ['src'],
        exports: {
          '.': { types: './src/index.d.ts', import: './src/index.js', default: './src/index.js' },
          './package.json': './package.json',
        },
        helm: { tcb: false },
        dependencies: {},
      },
      null,
      2,
    )}\n`,
  );
  f.write(
    'packages/core/src/index.js',
    "export function gate(tool) {\n  return 'ALLOW';\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL' };\n",
  );
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a TCB package demoted to non-TCB in the same change', () => {
  it('the change to the gate is shipped (sanity: release:diff sees the source change)', () => {
    const core = d.pkg('@helm/core');
    expect(core.status).toBe('changed');
    expect(core.tarball.files.map((x) => x.path)).toContain('src/index.js');
  });

  it('is still held to the TCB rules: exit 1 with tcb-unversioned', () => {
    expect(d.pkg('@helm/core').tcb).toBe(true);
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unversioned @helm/core');
    expect(d.code).toBe(1);
  });
});
