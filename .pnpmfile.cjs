// pnpm hooks (https://pnpm.io/pnpmfile). Only beforePacking: pnpm pack/publish rewrite `workspace:`
// ranges concurrently and the resulting dependency order varies from run to run (seen by
// pack:check's second-clone check), so the same sources could publish different bytes. Sorting
// every dependency map by name makes the packed package.json — and the tarball — reproducible.
const KINDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

function beforePacking(pkg) {
  for (const kind of KINDS) {
    const deps = pkg[kind];
    if (deps && typeof deps === 'object') {
      pkg[kind] = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  }
  return pkg;
}

module.exports = { hooks: { beforePacking } };
