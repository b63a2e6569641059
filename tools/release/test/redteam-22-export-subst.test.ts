// Red team #22 — the same commit packs to different tarballs for the reviewer and for the release.
//
// I-RELEASE-3 promises that the same sources pack to byte-identical tarballs, so a published
// tarball can be rebuilt and compared. But the tools pack the same commit from two different
// trees: release:diff from a `git archive` of the ref (main.ts `materialize`), release:manifest,
// pack:check and `pnpm publish` from the checkout. `git archive` applies the tree's
// `.gitattributes`: `export-subst` rewrites `$Format:…$` placeholders (and `export-ignore` drops
// files, see redteam-22-export-ignore). A contributor adds `export-subst` for a TCB source file
// holding `'$Format:%x41LLOW$'`: the archive — what release:diff packs and what a reviewer rebuilding
// "from the tag" gets — contains `'ALLOW'`, the checkout that is published contains the literal
// placeholder, and the tarball digests differ, so a published tarball cannot be matched by a rebuild
// from the reviewed ref (and code can branch on which of the two it is). pack:check does not see
// it: both of its packs come from checkouts. Secure behaviour: every packer sees the same tree
// (no attribute processing in materialize, or the release packs a `git archive` too), so the two
// digests are equal.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkWorkspace, materialize } from '../src/main.ts';
import { pack } from '../src/tarball.ts';
import { createFixture, type Fixture } from './fixture.ts';
import { commit, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let fromArchive: string;
let fromCheckout: string;
let control: [string, string];

beforeAll(() => {
  f = createFixture();
  f.write('.gitattributes', 'packages/core/src/build-info.js export-subst\n');
  f.write('packages/core/src/build-info.js', "export const MODE = '$Format:%x41LLOW$';\n");
  commit(f, 'v1');
  const m = materialize(f.root, 'v1', false);
  try {
    fromArchive = pack(join(m.dir, 'packages/core')).sha256;
    control = [pack(join(m.dir, 'packages/old')).sha256, ''];
  } finally {
    m.cleanup();
  }
  linkWorkspace(f.root);
  fromCheckout = pack(join(f.root, 'packages/core')).sha256;
  control[1] = pack(join(f.root, 'packages/old')).sha256;
}, HOOK_TIMEOUT);
afterAll(() => f?.dispose());

describe('I-RELEASE-3: one commit, packed by release:diff and by the release', () => {
  it('control: a package without attributes packs the same from both trees', () => {
    expect(control[0]).toBe(control[1]);
  });

  it('packs to the same bytes', () => {
    expect(fromArchive).toMatch(/^[0-9a-f]{64}$/);
    expect(fromArchive).toBe(fromCheckout);
  });
});
