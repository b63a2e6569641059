#!/usr/bin/env node
// pnpm pack:check — proves that every TCB package installs and imports standalone from its tarball.
//
// 1. `pnpm pack` each TCB package (package.json `"helm": {"tcb": true}`) into a temp folder; pnpm
//    rewrites `workspace:^` into real version ranges.
// 2. For each package, an empty npm project in its own temp folder installs that tarball together
//    with the tarballs of its `@helm/*` dependencies (transitively) — external dependencies come
//    from the npm registry (the npm cache is reused; `--prefer-offline`).
// 3. `import('@helm/<pkg>')` must succeed and export something; the installed manifest must not
//    contain `workspace:` and must ship its declared entry points. The manifest must have an
//    `exports["."]` with types + import, `sideEffects: false`, `publishConfig.provenance`, and the
//    tarball its README; build leftovers (`.tsbuildinfo`) are reported as warnings.
// Installs run in parallel. Prints a table; exit 1 on any failure. Needs a prior `pnpm build`.
// A pass is remembered (node_modules/.cache/helm/pack-check.json) under a hash of every TCB
// package's manifest and dist/, the lockfile and this script: unchanged inputs are not re-checked
// (`--force` re-checks anyway; `--keep` keeps the temp folder; `--concurrency=N`, default 4).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const force = process.argv.includes('--force');
const concurrency = Number(process.argv.find((a) => a.startsWith('--concurrency='))?.split('=')[1] ?? 4);
const started = performance.now();

/** Workspace packages under packages/ that are marked TCB. */
function tcbPackages() {
  const out = [];
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', name);
    const manifestPath = join(dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.helm?.tcb === true) out.push({ dir, manifest });
  }
  return out;
}

async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const errorText = (error) =>
  String(error?.stderr || error?.message || error)
    .trim()
    .split('\n')
    .slice(-3)
    .join(' | ');

const packages = tcbPackages();
if (packages.length === 0) {
  console.error('pack-check: no TCB packages found');
  process.exit(1);
}
const byName = new Map(packages.map((p) => [p.manifest.name, p]));

/** Hash of everything the result depends on. */
function inputsHash() {
  const hash = createHash('sha256');
  const add = (path) => {
    hash.update(`${path}\0`);
    hash.update(readFileSync(path));
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.tsbuildinfo')) add(path);
    }
  };
  add(fileURLToPath(import.meta.url));
  add(join(root, 'pnpm-lock.yaml'));
  for (const p of packages) {
    add(join(p.dir, 'package.json'));
    if (existsSync(join(p.dir, 'dist'))) walk(join(p.dir, 'dist'));
  }
  hash.update(process.version);
  return hash.digest('hex');
}
const stampFile = join(root, 'node_modules', '.cache', 'helm', 'pack-check.json');
const hash = inputsHash();
if (!force && existsSync(stampFile)) {
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  if (stamp.hash === hash) {
    console.log(stamp.table);
    console.log(
      `\npack-check: unchanged since the last pass (inputs ${hash.slice(0, 12)}); --force re-checks`,
    );
    process.exit(0);
  }
}
const work = mkdtempSync(join(tmpdir(), 'helm-pack-check-'));
const tarballDir = join(work, 'tarballs');
mkdirSync(tarballDir);

// 1. Pack (in parallel).
for (const p of packages) {
  if (!existsSync(join(p.dir, 'dist'))) {
    console.error(`pack-check: ${p.manifest.name} has no dist/ — run pnpm build first`);
    process.exit(1);
  }
}
const packed = await pool(packages, concurrency, async (p) => {
  try {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', tarballDir, '--json'], {
      cwd: p.dir,
    });
    const info = JSON.parse(stdout);
    const tarball = info.filename ?? info[0]?.filename;
    const paths = (info.files ?? info[0]?.files ?? []).map((f) => f.path);
    const notes = [];
    const m = p.manifest;
    const entry = m.exports?.['.'];
    if (!entry?.types || !entry?.import) notes.push('exports["."] needs types + import');
    if (m.sideEffects !== false) notes.push('sideEffects must be false');
    if (m.publishConfig?.provenance !== true) notes.push('publishConfig.provenance must be true');
    if (!paths.includes('README.md')) notes.push('README.md not in tarball');
    for (const f of [entry?.types, entry?.import].filter(Boolean)) {
      if (!paths.includes(f.replace(/^\.\//, ''))) notes.push(`${f} not in tarball`);
    }
    const warnings = paths.filter((f) => f.endsWith('.tsbuildinfo')).map((f) => `ships ${f}`);
    return { tarball, files: paths.length, size: statSync(tarball).size, notes, warnings };
  } catch (error) {
    return { error: `pack failed: ${errorText(error)}` };
  }
});
const tarballOf = new Map(packages.map((p, i) => [p.manifest.name, packed[i]]));

/** The package and its @helm/* runtime dependencies, transitively. */
function closure(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const manifest = byName.get(name)?.manifest;
  for (const kind of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const dep of Object.keys(manifest?.[kind] ?? {})) if (byName.has(dep)) closure(dep, seen);
  }
  return seen;
}

// 2 + 3. Install each package standalone and import it (in parallel).
const PROBE = `
const name = process.argv[1];
const mod = await import(name);
const keys = Object.keys(mod);
if (keys.length === 0) throw new Error(name + ' exports nothing');
const { createRequire } = await import('node:module');
const require = createRequire(import.meta.url);
const manifest = require(name + '/package.json');
const text = JSON.stringify(manifest);
if (text.includes('workspace:')) throw new Error(name + ' manifest still has workspace: ranges');
const { existsSync } = await import('node:fs');
const { dirname, join } = await import('node:path');
const base = dirname(require.resolve(name + '/package.json'));
for (const f of [manifest.types, manifest.main].filter(Boolean)) {
  if (!existsSync(join(base, f))) throw new Error(name + ' does not ship ' + f);
}
console.log(keys.length);
`;

const results = await pool(packages, concurrency, async (p) => {
  const name = p.manifest.name;
  const t0 = performance.now();
  const pack = tarballOf.get(name);
  const row = { name, version: p.manifest.version, size: pack.size, files: pack.files, deps: 0, exports: 0 };
  if (pack.error) return { ...row, ok: false, detail: pack.error, ms: 0 };
  if (pack.notes.length > 0)
    return { ...row, ok: false, detail: `manifest: ${pack.notes.join('; ')}`, ms: 0 };
  const members = [...closure(name)];
  const missing = members.filter((m) => tarballOf.get(m)?.error);
  if (missing.length > 0)
    return { ...row, ok: false, detail: `dependency not packed: ${missing.join(', ')}`, ms: 0 };
  const project = join(work, name.replace('@', '').replace('/', '-'));
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'probe', private: true, type: 'module' }),
  );
  // External dependencies are registry packages: first from the npm cache alone (`--offline`,
  // integrity-checked, no network — fast and immune to registry stalls); on a cache miss, again
  // with the registry (`--prefer-offline`).
  const install = (mode) =>
    run(
      'npm',
      [
        'install',
        mode,
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--ignore-scripts',
        // A stalled registry connection must not hang the check for npm's default 5 minutes.
        '--fetch-timeout=30000',
        '--fetch-retries=4',
        '--fetch-retry-mintimeout=2000',
        '--fetch-retry-maxtimeout=10000',
        '--loglevel=error',
        ...members.map((m) => tarballOf.get(m).tarball),
      ],
      { cwd: project, env: { ...process.env, npm_config_update_notifier: 'false' } },
    );
  try {
    await install('--offline').catch(() => install('--prefer-offline'));
  } catch (error) {
    return {
      ...row,
      deps: members.length - 1,
      ok: false,
      detail: `npm install failed: ${errorText(error)}`,
      ms: performance.now() - t0,
    };
  }
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE, name], {
      cwd: project,
    });
    return {
      ...row,
      deps: members.length - 1,
      exports: Number(stdout.trim()),
      ok: true,
      detail: 'ok',
      ms: performance.now() - t0,
    };
  } catch (error) {
    return {
      ...row,
      deps: members.length - 1,
      ok: false,
      detail: `import failed: ${errorText(error)}`,
      ms: performance.now() - t0,
    };
  }
});

const header = [
  'package',
  'version',
  'tarball',
  'files',
  '@helm deps',
  'exports',
  'install+import',
  'result',
];
const rows = results.map((r) => [
  r.name,
  r.version,
  r.size ? `${(r.size / 1024).toFixed(1)} kB` : '-',
  String(r.files ?? '-'),
  String(r.deps),
  String(r.exports),
  `${(r.ms / 1000).toFixed(1)} s`,
  r.ok ? 'PASS' : `FAIL: ${r.detail}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) =>
  r
    .map((c, i) => c.padEnd(widths[i]))
    .join('  ')
    .trimEnd();
const table = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
console.log(table);
const warnings = packed.flatMap((p, i) =>
  (p.warnings ?? []).map((w) => `${packages[i].manifest.name}: ${w}`),
);
for (const w of warnings) console.log(`warning: ${w}`);
const failed = results.filter((r) => !r.ok).length;
rmSync(stampFile, { force: true });
if (failed === 0) {
  mkdirSync(dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, JSON.stringify({ hash, table }));
}
console.log(
  `\npack-check: ${results.length - failed}/${results.length} TCB tarballs install and import standalone (${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
if (keep) console.log(`pack-check: kept ${work}`);
else rmSync(work, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
