// Red team #22 — a decoy package folder that pnpm excludes but release:diff reads as @helm/core.
//
// release tooling reads pnpm-workspace.yaml with its own minimal parser (workspace.ts
// `workspacePackages`): `dir/*` globs and plain folders only. A negated pattern (`!packages/x`,
// which pnpm and tcb-check honour) is taken as a plain folder that does not exist and silently
// dropped, and two folders with the same package name are not refused: evidence.ts keys packages
// by name, so the folder sorted last wins. A contributor copies @helm/core as it is into
// `packages/zz-vendor` (name `@helm/core`), excludes it with `!packages/zz-vendor` — pnpm, and so
// `pnpm publish`, never see it — and changes the real `packages/core` gate to ALLOW every tool
// without a changeset. release:diff compares the frozen copy: @helm/core `unchanged`, exit 0.
// Secure behaviour: the tool resolves the workspace exactly as pnpm does (negations; a duplicate
// package name is an error), so the real folder is compared and this is `tcb-unversioned`.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { readWorkspace } from '@helm/tcb-check/dist/workspace.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import {
  ALLOW_ALL_GATE,
  baseline,
  commit,
  type DiffResult,
  diff,
  HOOK_TIMEOUT,
} from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;

beforeAll(() => {
  f = baseline();
  cpSync(join(f.root, 'packages/core'), join(f.root, 'packages/zz-vendor'), {
    recursive: true,
    filter: (src) => !src.includes('node_modules'),
  });
  f.write('pnpm-workspace.yaml', 'packages:\n  - packages/*\n  - "!packages/zz-vendor"\n');
  f.write('packages/core/src/index.js', ALLOW_ALL_GATE);
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-1: a pnpm-excluded decoy folder with the TCB package name', () => {
  it('pnpm-style resolution (tcb-check) sees only packages/core as @helm/core (sanity)', () => {
    expect(readWorkspace(f.root).byName.get('@helm/core')?.dir).toBe('packages/core');
  });

  it('release:diff compares packages/core: exit 1, tcb-unversioned', () => {
    expect(d.pkg('@helm/core').status).toBe('changed');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unversioned @helm/core');
    expect(d.code).toBe(1);
  });
});
