#!/usr/bin/env node
// The published entry point of `helmts` (and its alias `helm`). It is CommonJS written in ES5 plus
// one dynamic import(), so that any Node from 10 on parses it, reaches the version check below and
// prints one line instead of a stack trace from loading the ESM code; only then is the CLI imported
// (dist/bin.js, which needs Node >= 22: node:sqlite, import.meta.resolve, module hooks).
var MIN_MAJOR = 22;
var major = Number(String(process.versions.node).split('.')[0]);
if (!(major >= MIN_MAJOR)) {
  process.stderr.write(
    'helmts needs Node ' +
      MIN_MAJOR +
      ' or newer; this is Node ' +
      process.versions.node +
      ' (' +
      process.execPath +
      '). Install Node ' +
      MIN_MAJOR +
      '+, or in a source checkout run ./helmts, which uses the project toolchain.\n',
  );
  process.exit(2);
}

// Start-up cost is almost all module loading (apps/cli/bench/README.md), so two things cut it:
// 1. V8's compile cache, in a directory only this user can write: a cache entry is code this
//    process will run, so a directory another user could plant entries in (the shared default under
//    the OS temp dir) is not used. Anything unexpected (no such API, unwritable, wrong owner or mode)
//    only means no cache. NODE_DISABLE_COMPILE_CACHE=1 turns it off; NODE_COMPILE_CACHE=<dir> picks
//    the directory (Node enables that one itself, before this runs).
// 2. The bundle (dist/bundle/helmts.cjs, scripts/bundle.mjs): one script instead of ~460 modules
//    resolved one by one, run by dist/code-cache.cjs with a V8 code cache written after a successful
//    command (in the user's cache directory, keyed by the bundle's hash; HELMTS_NO_CODE_CACHE=1 turns
//    it off). In a source checkout it is used only while every file it was built from is unchanged
//    (dist/bundle/inputs.json, not published); otherwise dist/bin.js runs, so a plain `tsc -b` never
//    runs stale code.
// (After the check above, so syntax newer than ES5 is fine from here on, short of `?.` and `??`,
// which Node 10 would not parse.)
var fs = require('node:fs') as typeof import('node:fs');
var path = require('node:path') as typeof import('node:path');

function enableCompileCache(): void {
  if (process.env.NODE_DISABLE_COMPILE_CACHE || process.env.NODE_COMPILE_CACHE) return;
  var mod = require('node:module') as { enableCompileCache?: (dir: string) => unknown };
  if (typeof mod.enableCompileCache !== 'function') return;
  try {
    const os = require('node:os') as typeof import('node:os');
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    const dir = path.join(os.tmpdir(), 'helmts-compile-cache' + (uid >= 0 ? '-' + uid : ''));
    fs.mkdirSync(dir, { recursive: true, mode: 448 /* 0o700 */ });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory()) return;
    if (uid >= 0 && (st.uid !== uid || (st.mode & 63) /* 0o077 */ !== 0)) return;
    mod.enableCompileCache(dir);
  } catch (_error) {
    // no cache: slower, never wrong
  }
}

/** Whether dist/bundle is there and built from the files now on disk (see 2. above). */
function bundleIsCurrent(): boolean {
  var bundleDir = path.join(__dirname, 'bundle');
  var inputs: [string, number][];
  try {
    inputs = JSON.parse(fs.readFileSync(path.join(bundleDir, 'inputs.json'), 'utf8'));
  } catch (error) {
    // An installed package has the bundle but not the list (it is not published).
    return (
      (error as { code?: string }).code === 'ENOENT' && fs.existsSync(path.join(bundleDir, 'helmts.cjs'))
    );
  }
  try {
    // The paths are relative to the bundle's directory and the kernel resolves the `..`s: no
    // path.join per file (it was 40% of this check, which stats ~290 files on every start).
    const prefix = bundleDir + path.sep;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as [string, number];
      const st = fs.statSync(prefix + input[0], { throwIfNoEntry: false });
      if (st === undefined || st.mtimeMs !== input[1]) return false;
    }
    return true;
  } catch (_error) {
    return false;
  }
}

enableCompileCache();
// While V8 coverage is being collected (NODE_V8_COVERAGE: the CLI's own test gate) the unbundled
// build runs: c8 maps tsc's one-file-per-source maps line by line, but a bundle's only coarsely.
// Node passes NODE_V8_COVERAGE on to every child process, so the tests of the bundle itself ask
// for it with HELM_CLI_BUNDLED=1; HELM_CLI_UNBUNDLED=1 wins over both.
var wantBundle =
  process.env.HELM_CLI_UNBUNDLED === '1'
    ? false
    : process.env.HELM_CLI_BUNDLED === '1' || !process.env.NODE_V8_COVERAGE;
function failedToStart(error: unknown): void {
  process.stderr.write('helmts: could not start: ' + String(error) + '\n');
  process.exit(2);
}
var entry = './bin.js';
if (wantBundle && bundleIsCurrent()) {
  try {
    (require('./code-cache.cjs') as typeof import('./code-cache.cjs'))
      .runBundle(path.join(__dirname, 'bundle', 'helmts.cjs'))
      .catch(failedToStart);
  } catch (error) {
    failedToStart(error);
  }
} else {
  import(entry).catch(failedToStart);
}
