// Red team #22 — reason codes defined through a spread or a helper are not reported.
//
// release:diff lists the reason codes a package adds or removes by scanning its sources for the
// literal of an exported `…CODES` constant (evidence.ts `reasonCodesOf`): keys and upper-case
// strings written *inside* that literal. A code that arrives through a spread of another constant
// (`{ ...DENIALS }`), a `Object.fromEntries(LIST…)`, or a non-exported helper is invisible. Here
// TCB @helm/core adds `DENY_OVERRIDE` to its registry through `...EXTRA` (with a changeset, so the
// change is otherwise legitimate): release:diff reports `reason codes` unchanged and the reviewer
// is not told that the closed code set grew. Secure behaviour: the reason codes are read from the
// built module (or the declaration's literal type), so `DENY_OVERRIDE` is listed as added.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import { baseline, commit, type DiffResult, diff, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  f.write(
    'packages/core/src/index.js',
    "export function gate(tool) {\n  return tool === 'ok' ? 'ALLOW' : 'DENY_TOOL';\n}\nconst EXTRA = { DENY_OVERRIDE: 'DENY_OVERRIDE' };\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL', ...EXTRA };\n",
  );
  f.write('.changeset/core-codes.md', '---\n"@helm/core": patch\n---\n\ncore: codes.\n');
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a reason code added through a spread', () => {
  it('is listed as an added reason code', () => {
    expect(
      (d.pkg('@helm/core') as unknown as { reasonCodes: { added: string[] } }).reasonCodes.added,
    ).toContain('DENY_OVERRIDE');
  });
});
