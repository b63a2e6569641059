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
import('./bin.js').catch((error: unknown) => {
  process.stderr.write('helmts: could not start: ' + String(error) + '\n');
  process.exit(2);
});
