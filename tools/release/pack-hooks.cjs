// The pnpm hooks release tooling packs with, instead of the packed repository's own .pnpmfile.cjs:
// release:diff packs refs a contributor wrote, and a pnpmfile is code (it can tell a review pack
// from a publish pack). This one only does what the repository's hook is for: it orders every
// dependency map by name, so `workspace:` rewriting (done concurrently by pnpm) packs the same
// bytes on every run. A ref whose .pnpmfile.cjs or pnpm settings differ is reported by
// release:diff as a change of every published package (evidence.ts PACK_INPUTS).
'use strict';
const KINDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

function beforePacking(pkg) {
  for (const kind of KINDS) {
    const deps = pkg[kind];
    if (deps && typeof deps === 'object') {
      const names = Object.keys(deps).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      pkg[kind] = Object.fromEntries(names.map((n) => [n, deps[n]]));
    }
  }
  return pkg;
}

module.exports = { hooks: { beforePacking } };
