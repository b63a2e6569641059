// pnpm hooks (https://pnpm.io/pnpmfile). Only beforePacking: pnpm pack/publish rewrite `workspace:`
// ranges concurrently and the resulting dependency order varies from run to run (seen by
// pack:check's second-clone check), so the same sources could publish different bytes. The hook
// sorts every dependency map by name. It lives in tools/release/pack-hooks.cjs because release
// tooling packs review refs with that file instead of a ref's own pnpmfile (which is contributor
// code); requiring it here makes `pnpm publish` and `release:manifest` pack with the same hook.
module.exports = require('./tools/release/pack-hooks.cjs');
