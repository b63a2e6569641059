#!/usr/bin/env node
// pnpm pack:check — proves that every published package (every workspace package that is not
// `"private": true`, TCB or not, found through pnpm) installs and loads standalone from its tarball,
// the way a consumer gets it from the registry. Policy: TCB_POLICY.md §Packaging.
//
// 1. Manifest and folder, before packing: `exports` has types (first) + import + default (last) on
//    every entry point (`default` is what `require()` matches: Node >= 22.12 loads our ESM from
//    CommonJS), `./package.json` exported, `sideEffects: false`, `publishConfig` public with
//    provenance, `engines.node`; `repository` / `homepage` / `bugs` built from the one repository
//    URL of the root package.json (scripts/lib/published-packages.mjs); LICENSE identical to the
//    root LICENSE and listed in `files`; README links absolute and naming files that exist.
// 2. `pnpm pack` (pnpm rewrites `workspace:^` into version ranges). The tarball must hold README,
//    LICENSE, every `exports` / `main` / `types` / `bin` target, no `.tsbuildinfo`, and only source
//    maps whose `sources` are in the tarball too (we ship src/, so maps resolve).
// 3. publint (warnings fail) and @arethetypeswrong/cli on the tarball — both offline. attw runs
//    with `--profile node16` (node10 resolution cannot see `exports` subpaths; `engines` is >= 22)
//    and ignores `cjs-resolves-to-esm` only: TypeScript 5.6 inside attw predates `require(esm)`,
//    which step 4 proves at run time instead. Every other attw problem fails (types that do not
//    resolve, a module format the types misstate, …). attw does not see a missing `default`
//    condition (TypeScript matches `types` first); step 1 and the require() probe do.
// 4. An empty npm project per package installs its tarball with the tarballs of its `@helm/*`
//    dependencies (transitively; external ones from the npm cache, else the registry). Then, in
//    that install: `import()` of every entry point (non-empty), `require()` of every entry point
//    from CommonJS with the same export names, no `workspace:` left in the installed manifest, and
//    every `bin` runs `--version` and prints the package version.
// 5. Reproducible: every package is packed a second time from a fresh copy of the workspace (a
//    "second clone": new mtimes, owner-only permissions, its own node_modules links) and the two
//    tarballs must be byte-identical (pnpm's workspace-range rewrite orders dependencies by whichever
//    lookup finishes first; the root .pnpmfile.cjs sorts them at pack time, and this step proves it
//    holds); each tarball's SHA-256 is printed and recorded in
//    node_modules/.cache/helm/pack-digests.json (the signed release manifest re-computes them).
// Packs, lints and installs run in parallel. Prints a table; exit 1 on any failure. Needs a prior
// `pnpm build`. A pass is remembered (node_modules/.cache/helm/pack-check.json) under a hash of
// every published package's manifest, README, LICENSE, src/ and dist/, the root manifest, LICENSE
// and lockfile and these scripts: unchanged inputs are not re-checked.
// Flags: --force re-checks anyway; --keep keeps the temp folder; --concurrency=N (default 4);
// --only=@helm/a,@helm/b checks those packages and their @helm/* dependencies (no stamp written);
// --fix writes the mechanical parts of step 1 — repository/homepage/bugs, LICENSE copies, absolute
// README links (from the root package.json and LICENSE), the standard `files` entries and a
// `default` condition equal to `import` where one is missing — then exits: run it after the
// repository URL changes, or on a new package.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  absoluteReadme,
  expectedLinks,
  publishedPackages,
  ROOT,
  readmeProblems,
  repositoryWeb,
} from './lib/published-packages.mjs';

const run = promisify(execFile);
const keep = process.argv.includes('--keep');
const force = process.argv.includes('--force');
const fix = process.argv.includes('--fix');
const concurrency = Number(process.argv.find((a) => a.startsWith('--concurrency='))?.split('=')[1] ?? 4);
const started = performance.now();
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

/** What every package ships besides its own extras (e.g. the CLI's assets): TCB_POLICY.md §Packaging. */
const STANDARD_FILES = ['dist', '!dist/**/*.tsbuildinfo', 'src', 'LICENSE'];

/** `exports` entry points that load code (every subpath but ./package.json), as [subpath, target]. */
const entryPoints = (manifest) =>
  Object.entries(manifest.exports ?? {}).filter(([subpath]) => subpath !== './package.json');

/** The one attw rule we ignore, and why: see the header (step 3). */
const ATTW_IGNORED = ['cjs-resolves-to-esm'];
const ATTW_ARGS = [
  '--format',
  'json',
  '--profile',
  'node16',
  '--no-definitely-typed',
  '--ignore-rules',
  ...ATTW_IGNORED,
];

const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const published = publishedPackages();
const publishedNames = new Set(published.map((p) => p.name));
/** `name` and the @helm/* packages it depends on at run time, transitively, per `manifests`. */
function closure(name, manifests, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const manifest = manifests.get(name);
  for (const kind of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const dep of Object.keys(manifest?.[kind] ?? {}))
      if (dep.startsWith('@helm/')) closure(dep, manifests, seen);
  }
  return seen;
}
const allManifests = new Map(published.map((p) => [p.name, p.manifest]));
const selected = only && new Set(only.flatMap((n) => [...closure(n, allManifests)]));
const packages = selected ? published.filter((p) => selected.has(p.name)) : published;
if (packages.length === 0) {
  console.error('pack-check: no published workspace packages found');
  process.exit(1);
}
const web = repositoryWeb();
const rootLicense = readFileSync(join(ROOT, 'LICENSE'));

if (fix) {
  for (const p of packages) {
    const want = expectedLinks(p.dir, web);
    const next = {};
    for (const [key, value] of Object.entries(p.manifest)) {
      if (key in want) continue;
      next[key] = value;
      if (key === 'license') Object.assign(next, want);
    }
    if (!('license' in next)) Object.assign(next, want);
    const files = (next.files ?? ['dist']).filter((f) => f !== '!dist/.tsbuildinfo');
    next.files = [...new Set([...STANDARD_FILES.slice(0, 3), ...files, 'LICENSE'])];
    for (const [subpath, target] of entryPoints(next)) {
      if (typeof target === 'object' && target?.import && !target.default) {
        next.exports[subpath] = { ...target, default: target.import };
      }
    }
    writeFileSync(join(p.absDir, 'package.json'), `${JSON.stringify(next, null, 2)}\n`);
    copyFileSync(join(ROOT, 'LICENSE'), join(p.absDir, 'LICENSE'));
    const readme = join(p.absDir, 'README.md');
    if (existsSync(readme))
      writeFileSync(readme, absoluteReadme(p.absDir, readFileSync(readme, 'utf8'), web));
    console.log(`pack-check --fix: ${p.name}`);
  }
  process.exit(0);
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

/** The telling line of a failed command: Node's `Error …` line if there is one, else the last lines. */
function errorText(error) {
  const lines = String(error?.stderr || error?.stdout || error?.message || error)
    .trim()
    .split('\n');
  return lines.find((l) => /^\w*Error\b/.test(l.trim()))?.trim() ?? lines.slice(-3).join(' | ');
}

/** Step 1: what the manifest and the package folder must say. */
function manifestProblems(p) {
  const m = p.manifest;
  const notes = [];
  const want = expectedLinks(p.dir, web);
  for (const key of ['homepage', 'bugs', 'repository']) {
    if (JSON.stringify(m[key]) !== JSON.stringify(want[key]))
      notes.push(`${key} must be ${JSON.stringify(want[key])} (pack-check --fix)`);
  }
  if (m.license !== 'Apache-2.0') notes.push('license must be Apache-2.0');
  const license = join(p.absDir, 'LICENSE');
  if (!existsSync(license) || !readFileSync(license).equals(rootLicense))
    notes.push('LICENSE must be a copy of the root LICENSE (pack-check --fix)');
  const missingFiles = STANDARD_FILES.filter((f) => !(m.files ?? []).includes(f));
  if (missingFiles.length > 0) notes.push(`files must list ${missingFiles.join(', ')} (pack-check --fix)`);
  if (m.publishConfig?.access !== 'public' || m.publishConfig?.provenance !== true)
    notes.push('publishConfig must be {access: public, provenance: true}');
  if (typeof m.engines?.node !== 'string') notes.push('engines.node missing');
  if (m.exports?.['./package.json'] !== './package.json') notes.push('exports must map ./package.json');
  const entries = entryPoints(m);
  if (entries.length === 0 && !m.bin) notes.push('no entry point in exports and no bin');
  if (entries.length > 0 && m.sideEffects !== false) notes.push('sideEffects must be false');
  for (const [subpath, target] of entries) {
    if (typeof target !== 'object' || target === null) {
      notes.push(`exports["${subpath}"] must be {types, import, default}`);
      continue;
    }
    // Node picks the first matching condition in object order: `types` first (for TypeScript),
    // `default` last (it matches everything); other conditions (e.g. `browser`) may sit between.
    const keys = Object.keys(target);
    if (keys[0] !== 'types' || !keys.includes('import') || keys.at(-1) !== 'default')
      notes.push(`exports["${subpath}"] must be {types, …, import, …, default} in that order, has ${keys}`);
    if (target.default !== target.import)
      notes.push(`exports["${subpath}"]: default must be the import target (require(esm))`);
    if (typeof target.types !== 'string' || !target.types.endsWith('.d.ts'))
      notes.push(`exports["${subpath}"].types must name a .d.ts`);
  }
  const readme = join(p.absDir, 'README.md');
  if (!existsSync(readme)) notes.push('README.md missing');
  else notes.push(...readmeProblems(readFileSync(readme, 'utf8'), web));
  return notes;
}

/** Step 2 on the packed file list: required files present, nothing that must not ship. */
function tarballProblems(p, paths) {
  const m = p.manifest;
  const have = new Set(paths);
  const notes = [];
  for (const f of ['README.md', 'LICENSE', 'package.json'])
    if (!have.has(f)) notes.push(`${f} not in tarball`);
  const targets = [m.main, m.types, ...Object.values(m.bin ?? {})];
  for (const [, target] of entryPoints(m)) targets.push(...Object.values(target ?? {}));
  for (const f of targets.filter((t) => typeof t === 'string')) {
    if (!have.has(posix.normalize(f))) notes.push(`${f} not in tarball`);
  }
  for (const f of paths.filter((f) => f.endsWith('.tsbuildinfo'))) notes.push(`ships ${f}`);
  let unresolved = 0;
  let example;
  for (const f of paths.filter((f) => f.endsWith('.map'))) {
    const map = JSON.parse(readFileSync(join(p.absDir, f), 'utf8'));
    for (const [i, source] of (map.sources ?? []).entries()) {
      const target = posix.normalize(posix.join(posix.dirname(f), map.sourceRoot ?? '', source));
      // A source whose text the map carries (a bundle's code from other packages) needs no file.
      if (!have.has(target) && typeof map.sourcesContent?.[i] !== 'string') {
        unresolved++;
        example ??= `${f} → ${source}`;
      }
    }
  }
  if (unresolved > 0) notes.push(`${unresolved} source-map source(s) not in tarball (e.g. ${example})`);
  return notes;
}

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
  add(join(ROOT, 'scripts', 'lib', 'published-packages.mjs'));
  for (const f of [
    'package.json',
    'pnpm-lock.yaml',
    'LICENSE',
    '.pnpmfile.cjs',
    'tools/release/pack-hooks.cjs',
  ])
    add(join(ROOT, f));
  for (const p of packages) {
    hash.update(`${p.dir}\0`);
    for (const f of ['package.json', 'README.md', 'LICENSE'])
      if (existsSync(join(p.absDir, f))) add(join(p.absDir, f));
    for (const d of ['src', 'dist', ...(p.manifest.files ?? []).filter((f) => !/[!*]/.test(f))]) {
      const path = join(p.absDir, d);
      if (existsSync(path) && statSync(path).isDirectory()) walk(path);
    }
  }
  hash.update(process.version);
  return hash.digest('hex');
}
const stampFile = join(ROOT, 'node_modules', '.cache', 'helm', 'pack-check.json');
const hash = inputsHash();
if (!force && !selected && existsSync(stampFile)) {
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  if (stamp.hash === hash) {
    console.log(stamp.table);
    console.log(
      `\npack-check: unchanged since the last pass (inputs ${hash.slice(0, 12)}); --force re-checks`,
    );
    process.exit(0);
  }
}
for (const p of packages) {
  if (!existsSync(join(p.absDir, 'dist'))) {
    console.error(`pack-check: ${p.name} has no dist/ — run pnpm build first`);
    process.exit(1);
  }
}
const work = mkdtempSync(join(tmpdir(), 'helm-pack-check-'));
const tarballDir = join(work, 'tarballs');
mkdirSync(tarballDir);

// 1–3. Check the manifest, pack, check the file list, lint the tarball (in parallel).
const packed = await pool(packages, concurrency, async (p) => {
  const notes = manifestProblems(p);
  let tarball;
  let paths;
  try {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', tarballDir, '--json'], {
      cwd: p.absDir,
    });
    const info = JSON.parse(stdout);
    tarball = info.filename ?? info[0]?.filename;
    paths = (info.files ?? info[0]?.files ?? []).map((f) => f.path);
  } catch (error) {
    return { error: `pack failed: ${errorText(error)}`, notes };
  }
  notes.push(...tarballProblems(p, paths));
  const lint = { publint: 'ok', attw: 'ok' };
  try {
    const { stdout } = await run(bin('publint'), ['run', tarball, '--level', 'warning', '--strict']);
    if (!/All good!/.test(stdout)) throw { stdout };
  } catch (error) {
    lint.publint = 'FAIL';
    const items = String(error?.stdout ?? '').match(/^\s*\d+\. .*$/gm);
    notes.push(`publint: ${items ? items.map((l) => l.trim()).join(' ') : errorText(error)}`);
  }
  try {
    await run(bin('attw'), [tarball, ...ATTW_ARGS], { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    lint.attw = 'FAIL';
    let detail = errorText(error);
    try {
      const problems = Object.values(JSON.parse(error.stdout).problems ?? {}).flat();
      detail = problems
        .map((q) => `${q.kind} ${q.entrypoint ?? ''} ${q.resolutionKind ?? ''}`.trim())
        .join('; ');
    } catch {}
    notes.push(`attw: ${detail}`);
  }
  const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  return { tarball, files: paths.length, size: statSync(tarball).size, sha256, notes, lint };
});

// 5. The second clone: copies of the packed packages (without node_modules, coverage), owner-only
// permissions, and the node_modules/@helm links pnpm needs to rewrite `workspace:` ranges.
const clone = join(work, 'clone');
mkdirSync(join(clone, 'tarballs'), { recursive: true });
// .pnpmfile.cjs sorts dependency maps at pack time (the reason packs are reproducible at all); it
// requires tools/release/pack-hooks.cjs, the one hook publish and release tooling share.
mkdirSync(join(clone, 'tools', 'release'), { recursive: true });
for (const f of ['package.json', 'pnpm-workspace.yaml', '.pnpmfile.cjs', 'tools/release/pack-hooks.cjs'])
  copyFileSync(join(ROOT, f), join(clone, f));
const cloneDir = (p) => join(clone, p.dir);
for (const p of packages) {
  cpSync(p.absDir, cloneDir(p), {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|coverage)$/.test(src),
  });
}
// pnpm rewrites the `workspace:` range of every dependency kind (devDependencies too), reading the
// target's package.json through node_modules; a target that is not packed here gets its manifest only.
for (const p of packages) {
  const kinds = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
  for (const [dep, range] of kinds.flatMap((k) => Object.entries(p.manifest[k] ?? {}))) {
    if (!String(range).startsWith('workspace:')) continue;
    const real = realpathSync(join(p.absDir, 'node_modules', ...dep.split('/')));
    const target = join(clone, relative(ROOT, real));
    if (!existsSync(target)) {
      mkdirSync(target, { recursive: true });
      copyFileSync(join(real, 'package.json'), join(target, 'package.json'));
    }
    const link = join(cloneDir(p), 'node_modules', ...dep.split('/'));
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), target), link);
  }
}
const restrict = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      chmodSync(path, 0o700);
      restrict(path);
    } else chmodSync(path, statSync(path).mode & 0o700);
  }
};
restrict(clone);
await pool(packages, concurrency, async (p, i) => {
  const first = packed[i];
  if (first.error) return;
  const dest = join(clone, 'tarballs', p.dir.replace('/', '-'));
  mkdirSync(dest, { recursive: true });
  try {
    await run('pnpm', ['pack', '--pack-destination', dest], { cwd: cloneDir(p) });
    const again = join(
      dest,
      readdirSync(dest).find((f) => f.endsWith('.tgz')),
    );
    const sha = createHash('sha256').update(readFileSync(again)).digest('hex');
    if (sha !== first.sha256) {
      first.notes.push(
        `not reproducible: second clone packs ${sha.slice(0, 12)}, first ${first.sha256.slice(0, 12)} (extract both with tar -xzf and diff)`,
      );
      first.reproducible = 'FAIL';
    } else first.reproducible = 'ok';
  } catch (error) {
    first.notes.push(`second-clone pack failed: ${errorText(error)}`);
    first.reproducible = 'FAIL';
  }
});
const tarballOf = new Map(packages.map((p, i) => [p.name, packed[i]]));

// 4. Probes, run inside each standalone install.
const ESM_PROBE = `
const [name, subpaths] = [process.argv[2], JSON.parse(process.argv[3])];
const out = {};
for (const subpath of subpaths) {
  const spec = subpath === '.' ? name : name + subpath.slice(1);
  const keys = Object.keys(await import(spec)).sort();
  if (keys.length === 0) {
    // A types-only entry point (e.g. interfaces shared by several packages) loads as an empty
    // module; it is accepted only when its declaration file does export something.
    const { createRequire } = await import('node:module');
    const { readFileSync } = await import('node:fs');
    const { dirname, join } = await import('node:path');
    const req = createRequire(import.meta.url);
    const manifestPath = req.resolve(name + '/package.json');
    const types = req(manifestPath).exports?.[subpath]?.types;
    const dts = types ? readFileSync(join(dirname(manifestPath), types), 'utf8') : '';
    if (!/^export /m.test(dts)) throw new Error(spec + ' exports nothing');
  }
  out[subpath] = keys;
}
const { createRequire } = await import('node:module');
const manifest = createRequire(import.meta.url)(name + '/package.json');
if (JSON.stringify(manifest).includes('workspace:')) throw new Error(name + ' manifest still has workspace: ranges');
console.log(JSON.stringify(out));
`;
const CJS_PROBE = `'use strict';
const [name, subpaths] = [process.argv[2], JSON.parse(process.argv[3])];
const out = {};
for (const subpath of subpaths) {
  const spec = subpath === '.' ? name : name + subpath.slice(1);
  out[subpath] = Object.keys(require(spec)).filter((k) => k !== '__esModule').sort();
}
console.log(JSON.stringify(out));
`;

const results = await pool(packages, concurrency, async (p) => {
  const name = p.name;
  const t0 = performance.now();
  const pack = tarballOf.get(name);
  const subpaths = entryPoints(p.manifest).map(([s]) => s);
  const row = {
    name,
    version: p.manifest.version,
    size: pack.size,
    files: pack.files,
    deps: 0,
    entries: subpaths.length,
    names: 0,
    lint: pack.lint,
    loads: '-',
    sha256: pack.sha256,
    reproducible: pack.reproducible ?? '-',
  };
  const done = (ok, detail) => ({ ...row, ok, detail, ms: performance.now() - t0 });
  if (pack.error) return done(false, [...pack.notes, pack.error].join('; '));
  const members = [...closure(name, allManifests)];
  row.deps = members.length - 1;
  const unpublished = members.filter((m) => !publishedNames.has(m));
  if (unpublished.length > 0)
    return done(false, `depends on unpublished package(s): ${unpublished.join(', ')}`);
  const missing = members.filter((m) => tarballOf.get(m)?.error);
  if (missing.length > 0) return done(false, `dependency not packed: ${missing.join(', ')}`);
  const notes = [...pack.notes];
  const project = join(work, name.replace('@', '').replace('/', '-'));
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'probe', private: true }));
  writeFileSync(join(project, 'probe.mjs'), ESM_PROBE);
  writeFileSync(join(project, 'probe.cjs'), CJS_PROBE);
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
    return done(false, [...notes, `npm install failed: ${errorText(error)}`].join('; '));
  }
  const loads = [];
  if (subpaths.length > 0) {
    const arg = JSON.stringify(subpaths);
    let esm;
    try {
      const { stdout } = await run(process.execPath, ['probe.mjs', name, arg], { cwd: project });
      esm = JSON.parse(stdout);
      row.names = Object.values(esm).reduce((n, keys) => n + keys.length, 0);
      loads.push('esm');
    } catch (error) {
      notes.push(`import failed: ${errorText(error)}`);
    }
    try {
      const { stdout } = await run(process.execPath, ['probe.cjs', name, arg], { cwd: project });
      const cjs = JSON.parse(stdout);
      const differ = subpaths.filter((s) => esm && JSON.stringify(cjs[s]) !== JSON.stringify(esm[s]));
      if (differ.length > 0)
        notes.push(`require() and import() export different names for ${differ.join(', ')}`);
      else loads.push('cjs');
    } catch (error) {
      notes.push(`require failed: ${errorText(error)}`);
    }
  }
  for (const [command, target] of Object.entries(p.manifest.bin ?? {})) {
    const path = join(project, 'node_modules', ...name.split('/'), target);
    try {
      const { stdout } = await run(process.execPath, [path, '--version'], { cwd: project });
      if (!stdout.includes(p.manifest.version)) throw new Error(`printed ${stdout.trim()}`);
      loads.push(`bin ${command}`);
    } catch (error) {
      notes.push(`bin ${command} --version failed: ${errorText(error)}`);
    }
  }
  row.loads = loads.join('+') || '-';
  return done(notes.length === 0, notes.length === 0 ? 'ok' : notes.join('; '));
});

const header = [
  'package',
  'version',
  'tarball',
  'files',
  '@helm deps',
  'entries',
  'names',
  'publint',
  'attw',
  'loads',
  'repro',
  'sha256',
  'time',
  'result',
];
const rows = results.map((r) => [
  r.name,
  r.version,
  r.size ? `${(r.size / 1024).toFixed(1)} kB` : '-',
  String(r.files ?? '-'),
  String(r.deps),
  String(r.entries),
  String(r.names),
  r.lint?.publint ?? '-',
  r.lint?.attw ?? '-',
  r.loads,
  r.reproducible ?? '-',
  r.sha256 ? r.sha256.slice(0, 16) : '-',
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
const failed = results.filter((r) => !r.ok).length;
if (!selected) rmSync(stampFile, { force: true });
const digestFile = join(dirname(stampFile), 'pack-digests.json');
mkdirSync(dirname(stampFile), { recursive: true });
writeFileSync(
  digestFile,
  `${JSON.stringify(Object.fromEntries(results.map((r) => [r.name, { version: r.version, sha256: r.sha256 ?? null, reproducible: r.reproducible === 'ok' }])), null, 2)}\n`,
);
if (failed === 0 && !selected) {
  writeFileSync(stampFile, JSON.stringify({ hash, table }));
}
console.log(
  `\npack-check: ${results.length - failed}/${results.length} published packages pack, lint clean (publint, attw) and load standalone (import + require), byte-identical from a second clone (SHA-256: ${digestFile.slice(ROOT.length + 1)}) (${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
if (keep) console.log(`pack-check: kept ${work}`);
else rmSync(work, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
