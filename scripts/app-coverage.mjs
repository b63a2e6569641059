// Line coverage of an app (apps/cli, apps/server, the gateway) that counts its spawned processes.
//
// vitest's V8 provider sees only the test process and its workers; an app's end-to-end tests spawn
// the built app (`node dist/bin.js …`), whose coverage it cannot see. So (DECISIONS "c8"):
//   1. vitest runs with its V8 coverage, reporting istanbul JSON, and with NODE_V8_COVERAGE set, so
//      every process the tests spawn writes raw V8 coverage when it exits;
//   2. c8 turns that raw coverage into istanbul JSON for src/** through dist's source maps;
//   3. the two are merged by line — a line counts as covered when either run executed it, and the
//      line set is the union of both runs' statement lines — and the gate is checked on lines.
// Usage (from the app's directory): node ../../scripts/app-coverage.mjs --lines 85 [-- <vitest args>]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const own = dash === -1 ? args : args.slice(0, dash);
const vitestArgs = dash === -1 ? [] : args.slice(dash + 1);
const linesAt = own.indexOf('--lines');
const threshold = linesAt === -1 ? 85 : Number(own[linesAt + 1]);
const excludeAt = own.indexOf('--exclude');
const excluded = new Set(excludeAt === -1 ? [] : own[excludeAt + 1].split(','));
const app = process.cwd();
const work = mkdtempSync(join(tmpdir(), 'helm-app-coverage-'));
const rawDir = join(work, 'v8');
const repo = resolve(new URL('..', import.meta.url).pathname);
const bin = (name) => join(repo, 'node_modules', '.bin', name);

function run(command, commandArgs, env = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

try {
  const tests = run(
    bin('vitest'),
    [
      'run',
      '--coverage',
      '--coverage.reporter=json',
      '--coverage.reporter=text-summary',
      `--coverage.reportsDirectory=${join(work, 'vitest')}`,
      // The gate is checked below on the merged lines, not by vitest on its half.
      '--coverage.thresholds.lines=0',
      '--coverage.thresholds.branches=0',
      '--coverage.thresholds.functions=0',
      '--coverage.thresholds.statements=0',
      ...vitestArgs,
    ],
    { NODE_V8_COVERAGE: rawDir },
  );
  if (tests !== 0) process.exit(tests);
  const c8 = run(bin('c8'), [
    'report',
    `--temp-directory=${rawDir}`,
    `--report-dir=${join(work, 'c8')}`,
    '--reporter=json',
    '--src=src',
    '--include=src/**',
    '--exclude-after-remap',
  ]);
  if (c8 !== 0) process.exit(c8);

  /** file → line → hit, from one istanbul coverage-final.json. */
  const lineHits = (path) => {
    const out = new Map();
    let doc = {};
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return out;
    }
    for (const [file, cov] of Object.entries(doc)) {
      const rel = relative(app, resolve(cov.path ?? file));
      if (!rel.startsWith('src/') || excluded.has(rel)) continue;
      const lines = out.get(rel) ?? new Map();
      for (const [id, loc] of Object.entries(cov.statementMap)) {
        const line = loc.start.line;
        lines.set(line, (lines.get(line) ?? false) || cov.s[id] > 0);
      }
      out.set(rel, lines);
    }
    return out;
  };
  const merged = new Map();
  for (const part of [
    lineHits(join(work, 'vitest', 'coverage-final.json')),
    lineHits(join(work, 'c8', 'coverage-final.json')),
  ]) {
    for (const [file, lines] of part) {
      const into = merged.get(file) ?? new Map();
      for (const [line, hit] of lines) into.set(line, (into.get(line) ?? false) || hit);
      merged.set(file, into);
    }
  }
  let total = 0;
  let covered = 0;
  const rows = [];
  for (const [file, lines] of [...merged].sort(([a], [b]) => a.localeCompare(b))) {
    const hit = [...lines.values()].filter(Boolean).length;
    total += lines.size;
    covered += hit;
    rows.push(
      `  ${file.padEnd(40)} ${((100 * hit) / Math.max(1, lines.size)).toFixed(1).padStart(6)}%  (${hit}/${lines.size})`,
    );
  }
  const pct = (100 * covered) / Math.max(1, total);
  const summary = { lines: { total, covered, pct: Number(pct.toFixed(2)) }, threshold };
  mkdirSync(join(app, 'coverage'), { recursive: true });
  writeFileSync(join(app, 'coverage', 'lines.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log('\nLine coverage, in-process and spawned processes merged (scripts/app-coverage.mjs):');
  console.log(rows.join('\n'));
  console.log(
    `  ${'all files'.padEnd(40)} ${pct.toFixed(1).padStart(6)}%  (${covered}/${total}); gate ${threshold}%`,
  );
  if (pct < threshold) {
    console.error(`ERROR: line coverage ${pct.toFixed(2)}% is below the ${threshold}% gate`);
    process.exit(1);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
