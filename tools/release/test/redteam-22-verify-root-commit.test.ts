// Red team #22 — release:verify --root accepts a checkout of another commit.
//
// docs/spec/release-manifest.md §2 has the verifier re-hash the API reports and SBOMs "of a
// checkout of `commit`", and `--root` is how the reviewer ties the signed tarballs to the sources
// they reviewed. verifyManifest never compares the manifest's `commit` (nor its package versions)
// with the checkout: any root whose committed API reports, SBOMs and TCB report happen to hash the
// same passes. Those files do not change when only implementation changes. So an older signed
// release — here v1, whose TCB @helm/core allows every tool —
// with its own tarballs, handed to a reviewer who checked out the reviewed commit v2 (the fix,
// same versions, changeset pending), verifies: `signature valid; N digest(s) match`, exit 0, and
// the reviewer installs v1's gate believing it is v2's. Secure behaviour: with `--root`, a
// manifest whose `commit` is not the checkout's HEAD (or whose versions differ from it) fails.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyPairFromSeed } from '@helm/crypto';
import { exportPrivateKeyPem, exportPublicKeyPem } from '@helm/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from '../src/tarball.ts';
import { createFixture, type Fixture, git, run } from './fixture.ts';
import { ALLOW_ALL_GATE, commit, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let dir: string;
let manifestCommit: string;

beforeAll(() => {
  f = createFixture();
  f.write('packages/core/src/index.js', ALLOW_ALL_GATE); // the vulnerable release
  commit(f, 'v1');
  dir = join(f.root, '..', `${f.root.split('/').pop()}-release`);
  mkdirSync(join(dir, 'tarballs'), { recursive: true });
  const seed = new Uint8Array(32).fill(7);
  writeFileSync(join(dir, 'release.pem'), exportPrivateKeyPem(seed));
  writeFileSync(join(dir, 'release.pub.pem'), exportPublicKeyPem(keyPairFromSeed(seed).publicKey));
  for (const pkg of ['packages/core', 'packages/app', 'packages/old']) {
    const t = pack(join(f.root, pkg));
    writeFileSync(join(dir, 'tarballs', t.filename), t.bytes);
  }
  const r = run(['manifest', '--key', join(dir, 'release.pem'), '--out', join(dir, 'manifest.json')], f.root);
  if (r.code !== 0) throw new Error(r.err);
  manifestCommit = git(f.root, 'rev-parse', 'HEAD');
  // the reviewed commit: the gate fixed, a changeset pending, versions unchanged
  f.write(
    'packages/core/src/index.js',
    "export function gate(tool) {\n  return tool === 'ok' ? 'ALLOW' : 'DENY_TOOL';\n}\nexport const REASON_CODES = { ALLOW: 'ALLOW', DENY_TOOL: 'DENY_TOOL' };\n",
  );
  f.write('.changeset/core-fix.md', '---\n"@helm/core": patch\n---\n\ncore: deny unknown tools.\n');
  commit(f, 'v2');
}, HOOK_TIMEOUT);
afterAll(() => {
  f?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('I-RELEASE-2: a signed manifest of another commit against the reviewed checkout', () => {
  it('the checkout is not the manifest commit (sanity)', () => {
    expect(git(f.root, 'rev-parse', 'HEAD')).not.toBe(manifestCommit);
  });

  it('is refused by release:verify --root', () => {
    const r = run(
      [
        'verify',
        join(dir, 'manifest.json'),
        '--public-key',
        join(dir, 'release.pub.pem'),
        '--tarballs',
        join(dir, 'tarballs'),
        '--root',
        '.',
      ],
      f.root,
    );
    expect(r.out).not.toContain('signature valid');
    expect(r.code).toBe(1);
  });
});
