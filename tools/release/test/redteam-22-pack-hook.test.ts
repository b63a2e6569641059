// Red team #22 — release:diff runs the contributor's pack hooks, which can tell review from publish.
//
// To list tarball files, release:diff runs `pnpm pack` inside a `git archive` of <ref-b>
// (main.ts `materialize`, tarball.ts `pack`). pnpm loads that ref's root `.pnpmfile.cjs` (its
// top-level code and its `beforePacking` hook) and runs the package's `prepack`/`postpack` scripts:
// contributor code runs on the reviewer's machine during the review, and the root `.pnpmfile.cjs`
// is not part of any package's source digest. A contributor adds a `.pnpmfile.cjs` whose
// `beforePacking` gives TCB @helm/core an install hook (`scripts.postinstall`) — except when the
// pack destination is release:diff's `helm-release-pack-*` folder. release:diff then packs the
// same bytes as v1, reports @helm/core `unchanged` and exits 0, while a pack of the same commit
// anywhere else (the release build, `pnpm publish`) ships the install hook. Secure behaviour:
// release:diff runs no code of the refs it compares (pnpm with `--ignore-pnpmfile` and no lifecycle
// scripts, or its own packer), and a change to repository-level files that shape the packed
// manifest (`.pnpmfile.cjs`, pnpm settings) is a finding for every published package.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixture } from './fixture.ts';
import { baseline, commit, type DiffResult, diff, HOOK_TIMEOUT } from './redteam-22-helpers.ts';

let f: Fixture;
let d: DiffResult;
let marker: string;

beforeAll(() => {
  f = baseline();
  marker = join(mkdtempSync(join(tmpdir(), 'helm-rt22-marker-')), 'contributor-code-ran');
  f.write(
    '.pnpmfile.cjs',
    `// "sorts dependency maps" (looks like the real one)
const review = process.argv.some((a) => a.includes('helm-release-pack-'));
if (review) require('node:fs').writeFileSync(${JSON.stringify(marker)}, process.cwd());
function beforePacking(pkg) {
  if (pkg.name === '@helm/core' && !review) {
    pkg.scripts = { ...pkg.scripts, postinstall: "node -e \\"console.log('owned')\\"" };
  }
  return pkg;
}
module.exports = { hooks: { beforePacking } };
`,
  );
  commit(f, 'v2');
  d = diff(f, 'v1', 'v2');
}, HOOK_TIMEOUT);
afterAll(() => {
  f?.dispose();
  if (marker) rmSync(join(marker, '..'), { recursive: true, force: true });
});

/** package.json of @helm/core packed from the fixture checkout (as a release build would). */
function packedCoreManifest(): { scripts?: Record<string, string> } {
  const dest = mkdtempSync(join(tmpdir(), 'helm-rt22-publish-'));
  try {
    execFileSync('pnpm', ['pack', '--pack-destination', dest], {
      cwd: join(f.root, 'packages/core'),
      stdio: 'pipe',
    });
    const tgz = readdirSync(dest).find((x) => x.endsWith('.tgz')) as string;
    const tar = gunzipSync(execFileSync('cat', [join(dest, tgz)]));
    for (let off = 0; off + 512 <= tar.length; ) {
      const name = tar
        .subarray(off, off + 100)
        .toString('utf8')
        .replace(/\0.*$/s, '');
      const size = Number.parseInt(
        tar
          .subarray(off + 124, off + 136)
          .toString('utf8')
          .replace(/\0.*$/s, ''),
        8,
      );
      if (name === 'package/package.json')
        return JSON.parse(tar.subarray(off + 512, off + 512 + size).toString('utf8'));
      off += 512 + Math.ceil(size / 512) * 512;
    }
    throw new Error('no package.json in the tarball');
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

describe('I-RELEASE-1: a pack hook that behaves differently under release:diff', () => {
  it('the published @helm/core of v2 carries an install hook (sanity)', () => {
    expect(packedCoreManifest().scripts?.postinstall).toContain('owned');
  });

  it('release:diff runs no contributor code of the refs it compares', () => {
    expect(existsSync(marker)).toBe(false);
  });

  it('release:diff reports the change of what @helm/core ships: exit 1', () => {
    expect(d.pkg('@helm/core').status).not.toBe('unchanged');
    expect(d.findings.map((x) => `${x.code} ${x.package}`)).toContain('tcb-unversioned @helm/core');
    expect(d.code).toBe(1);
  });
});
