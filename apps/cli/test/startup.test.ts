// How `helmts` starts (dist/bin.cjs): the bundle runs only while it matches the files it was built
// from, and the V8 compile cache — code this process will run — is used only from a directory that
// no other user can write.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, requireCurrentBuild } from './cli-process.ts';
import { ECHO_TOOL, tempRoot } from './helpers.ts';

const root = tempRoot('helm-startup-');
let n = 0;

/** A preload printing every file: module the process loads (on stderr, `LOAD <url>`). */
const LOAD_HOOK = `data:text/javascript,${encodeURIComponent(
  "import{registerHooks}from'node:module';registerHooks({load(u,c,n){if(u.startsWith('file:'))process.stderr.write('LOAD '+u+'\\n');return n(u,c)}})",
)}`;

/** The built CLI from its bundle (when current), as a user runs it, also under the coverage gate. */
function bundled(args: readonly string[]): { status: number | null; stdout: string; loaded: string[] } {
  const env = { ...process.env, HELM_CLI_BUNDLED: '1', XDG_CACHE_HOME: join(root, 'xdg') };
  const r = spawnSync(process.execPath, ['--import', LOAD_HOOK, BIN, ...args], { encoding: 'utf8', env });
  const lines = r.stderr.split('\n');
  const loaded = lines.filter((l) => l.startsWith('LOAD '));
  expect(lines.filter((l) => l !== '' && !l.startsWith('LOAD ')).join('\n')).toBe('');
  expect(r.status, r.stdout).toBe(0);
  return { status: r.status, stdout: r.stdout, loaded };
}

/** A dist/ laid out like the CLI's, whose two entry points print which one ran. */
function fakeDist(): { dist: string; input: string; run: (env?: Record<string, string>) => string } {
  const dist = join(root, `dist-${++n}`);
  mkdirSync(join(dist, 'bundle'), { recursive: true });
  copyFileSync(BIN, join(dist, 'bin.cjs'));
  copyFileSync(join(dirname(BIN), 'code-cache.cjs'), join(dist, 'code-cache.cjs'));
  writeFileSync(join(dist, 'bin.js'), "process.stdout.write('unbundled');\n");
  writeFileSync(
    join(dist, 'bundle', 'helmts.cjs'),
    "(function (module) { module.exports = { start: async () => { process.stdout.write('bundle'); } }; })\n",
  );
  const input = join(dist, 'input.js');
  writeFileSync(input, '// built from\n');
  writeFileSync(
    join(dist, 'bundle', 'inputs.json'),
    JSON.stringify([['../input.js', statSync(input).mtimeMs]]),
  );
  const run = (env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(dist, 'bin.cjs')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        NODE_DISABLE_COMPILE_CACHE: '1',
        HELM_CLI_BUNDLED: '1',
        XDG_CACHE_HOME: join(dist, 'xdg'),
        ...env,
      },
    });
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  return { dist, input, run };
}

describe('the bundle runs only while it is current', () => {
  it('a changed input file (a later `tsc -b`) makes the CLI run the unbundled build', () => {
    const { input, run } = fakeDist();
    expect(run()).toBe('bundle');
    utimesSync(input, new Date(), new Date(Date.now() + 5_000));
    expect(run()).toBe('unbundled');
  });

  it('a missing input file, or a malformed list, falls back too', () => {
    const a = fakeDist();
    writeFileSync(join(a.dist, 'bundle', 'inputs.json'), JSON.stringify([['../gone.js', 1]]));
    expect(a.run()).toBe('unbundled');
    const b = fakeDist();
    writeFileSync(join(b.dist, 'bundle', 'inputs.json'), '{not json');
    expect(b.run()).toBe('unbundled');
  });

  it('an installed package (no input list) runs the bundle; no bundle, or HELM_CLI_UNBUNDLED=1, runs dist/bin.js', () => {
    const { dist, run } = fakeDist();
    expect(run({ HELM_CLI_UNBUNDLED: '1' })).toBe('unbundled');
    spawnSync('rm', [join(dist, 'bundle', 'inputs.json')]);
    expect(run()).toBe('bundle');
    spawnSync('rm', [join(dist, 'bundle', 'helmts.cjs')]);
    expect(run()).toBe('unbundled');
  });

  it('the build in this checkout starts from its bundle', () => {
    requireCurrentBuild();
    const loaded = bundled(['--version']).loaded;
    // The bundle itself is read and compiled by dist/code-cache.cjs, not loaded as a module.
    expect(loaded.some((l) => l.endsWith('/apps/cli/dist/code-cache.cjs'))).toBe(true);
    expect(loaded.some((l) => l.endsWith('/dist/bin.js'))).toBe(false);
    // A handful of files, not the ~460 the unbundled build resolves one by one (a few are ~1 KB
    // chunks esbuild splits off for built-in modules shared by the lazily loaded commands).
    expect(loaded.length).toBeLessThan(16);
  });

  it('under V8 coverage collection (the test gate) the unbundled build runs, which c8 maps line by line', () => {
    const r = spawnSync(process.execPath, ['--import', LOAD_HOOK, BIN, '--version'], {
      encoding: 'utf8',
      env: { ...process.env, HELM_CLI_BUNDLED: '', NODE_V8_COVERAGE: join(root, 'v8') },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('/dist/bin.js\n');
    expect(r.stderr).not.toContain('/apps/cli/dist/bundle/');
  });

  // The other suites run the CLI under coverage, so unbundled: here the bundle does the work whose
  // code finds files relative to itself — the WAT compiler (wabt, external), the sandbox's child
  // process entry, the parallel verifier's workers — end to end.
  it('the bundle governs a sandboxed call, exports and verifies the pack with workers', () => {
    requireCurrentBuild();
    const home = join(root, 'bundle-home');
    const cli = (...args: string[]) => {
      const r = bundled(['--data-dir', home, ...args]);
      expect(r.loaded.some((l) => l.endsWith('/apps/cli/dist/code-cache.cjs'))).toBe(true);
      return r;
    };
    expect(cli('init').status).toBe(0);
    const descriptor = join(root, 'wat-echo.json');
    writeFileSync(descriptor, JSON.stringify({ ...ECHO_TOOL, input_schema: { type: 'object' } }));
    const wat = fileURLToPath(new URL('../assets/wasm/echo.wat', import.meta.url));
    const registered = cli('tool', 'register', descriptor, '--wasm', wat);
    expect(registered.stdout).toContain('module compiled from WebAssembly text with wabt');
    const run = cli('run', '--tool', 'echo', '--principal', 'local', '--args', '{"from":"bundle"}');
    expect(run.stdout).toMatch(/^SUCCEEDED ALLOW/);
    expect(run.stdout).toContain('output: {"from":"bundle"}');
    const pack = join(root, 'bundle.tar');
    expect(cli('export', '-o', pack).status).toBe(0);
    const anchor = (JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { trust_anchor: string })
      .trust_anchor;
    const verified = cli('verify', pack, '--trust-anchor', anchor, '--workers', '2');
    expect(verified.stdout).toContain('PASS: every check passed.');
    // A dynamic `import('node:…')` (replay's scratch copy reads `tmpdir`) gets Node's module, not a
    // default-only shim chunk: this run failed INTERNAL "tmpdir is not a function" before.
    const replay = cli('replay', '--reexecute', '--json');
    expect(replay.stdout).not.toContain('INTERNAL');
    expect(replay.status).toBe(0);
  });

  it("no chunk of the bundle is a default-only shim of a Node built-in (dynamic imports stay Node's)", () => {
    requireCurrentBuild();
    const dir = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
    for (const chunk of readdirSync(dir).filter((f) => f.endsWith('.cjs')))
      expect(readFileSync(join(dir, chunk), 'utf8'), chunk).not.toMatch(/^export default require_node_/m);
  });
});

// What a bundled start costs beyond the work itself (scripts/bundle.mjs, docs/PERFORMANCE.md): Node
// built-ins by `require`, so no ESM namespace runs every lazy getter of node:fs / node:util /
// node:crypto, and the ones `run` never calls (worker pools, the sandbox's child process, the HTTP
// server) loaded on first use; and chunks V8 can hold as one-byte strings.
describe('a bundled `helmts run` loads only what it uses', () => {
  /** Built-in modules a bundled `run` loaded (process.moduleLoadList, printed at exit). */
  function builtinsOfRun(home: string): string[] {
    const preload = `data:text/javascript,${encodeURIComponent(
      "process.on('exit',()=>process.stderr.write(process.moduleLoadList.filter(m=>m.startsWith('NativeModule ')).map(m=>'BUILTIN '+m.slice(13)+'\\n').join('')))",
    )}`;
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        preload,
        BIN,
        '--data-dir',
        home,
        'run',
        '--tool',
        'echo',
        '--principal',
        'local',
        '--args',
        '{"x":1}',
      ],
      { encoding: 'utf8', env: { ...process.env, HELM_CLI_BUNDLED: '1', XDG_CACHE_HOME: join(root, 'xdg') } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^SUCCEEDED ALLOW/);
    return r.stderr
      .split('\n')
      .filter((l) => l.startsWith('BUILTIN '))
      .map((l) => l.slice(8));
  }

  // (net is loaded anyway here: the test's stdout is a pipe, which Node wraps in a net.Socket.)
  it('no worker_threads, child_process, nor the lazy exports of node:fs and node:util', () => {
    requireCurrentBuild();
    const home = join(root, 'builtins-home');
    const init = bundled(['--data-dir', home, 'init']);
    expect(init.status).toBe(0);
    const descriptor = join(root, 'builtins-echo.json');
    writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
    expect(bundled(['--data-dir', home, 'tool', 'register', descriptor]).status).toBe(0);
    const loaded = builtinsOfRun(home);
    // The call itself ran: crypto and SQLite are loaded.
    expect(loaded).toContain('crypto');
    expect(loaded).toContain('sqlite');
    for (const unused of [
      'worker_threads',
      'child_process',
      'internal/fs/promises',
      'internal/readline/interface',
      'internal/util/parse_args/parse_args',
      'internal/util/diff',
    ])
      expect(loaded, unused).not.toContain(unused);
  });

  // LAZY_PACKAGES (scripts/bundle.mjs): the WebAssembly sandbox's module graph — whose top level
  // resolves its worker entry points through the package resolver — runs on first use only. V8's
  // precise coverage of the bundle says which module initialisers ran: esbuild names each one
  // after its file.
  it('a `run` of a function tool never initialises @helm/runtime-sandbox nor resolves a package', () => {
    requireCurrentBuild();
    const home = join(root, 'lazy-home');
    expect(bundled(['--data-dir', home, 'init']).status).toBe(0);
    const descriptor = join(root, 'lazy-echo.json');
    writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
    expect(bundled(['--data-dir', home, 'tool', 'register', descriptor]).status).toBe(0);
    const coverage = join(root, 'lazy-coverage');
    const r = spawnSync(
      process.execPath,
      [BIN, '--data-dir', home, 'run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":1}'],
      {
        encoding: 'utf8',
        env: { ...process.env, HELM_CLI_BUNDLED: '1', HELMTS_NO_CODE_CACHE: '1', NODE_V8_COVERAGE: coverage },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^SUCCEEDED ALLOW/);
    const bundleFile = fileURLToPath(new URL('../dist/bundle/helmts.cjs', import.meta.url));
    const source = readFileSync(bundleFile, 'latin1');
    /** How often the bundle's function starting at `start` ran. */
    const callsAt = (start: number): number => {
      let count = 0;
      for (const name of readdirSync(coverage)) {
        const report = JSON.parse(readFileSync(join(coverage, name), 'utf8')) as {
          result: { url: string; functions: { ranges: { startOffset: number; count: number }[] }[] }[];
        };
        for (const script of report.result.filter((s) => s.url.endsWith('/dist/bundle/helmts.cjs')))
          for (const fn of script.functions)
            for (const range of fn.ranges) if (range.startOffset === start) count += range.count;
      }
      return count;
    };
    /** How often the initialiser of the bundled module `file` (a path ending) ran. */
    const runs = (file: string): number => {
      const at = source.search(new RegExp(`"(\\.\\./)*${file.replaceAll('.', '\\.')}"\\(\\)\\{`));
      expect(at, file).toBeGreaterThan(0);
      return callsAt(at);
    };
    // The method sees module initialisers: the runtime's ran.
    expect(runs('packages/runtime/dist/index.js')).toBe(1);
    expect(runs('packages/runtime-sandbox/dist/index.js')).toBe(0);
    expect(runs('packages/runtime-sandbox/dist/internal/isolation.js')).toBe(0);
    // Nor is any package located through the resolver (the bundle's `import.meta.url` of a workspace
    // file): worker entry points are found when a worker starts, not when their module loads.
    const resolver = source.indexOf('function __helmPackageUrl(');
    expect(resolver).toBeGreaterThan(0);
    expect(callsAt(resolver)).toBe(0);
  });

  it('every chunk of the bundle is ASCII (one-byte source strings)', () => {
    requireCurrentBuild();
    const dir = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
    // One classic script now (scripts/bundle.mjs), no ES-module chunks.
    const chunks = readdirSync(dir).filter((f) => /\.[cm]?js$/.test(f));
    expect(chunks).toEqual(['helmts.cjs']);
    for (const chunk of chunks) {
      const bytes = readFileSync(join(dir, chunk));
      expect(
        bytes.findIndex((b) => b > 0x7f),
        chunk,
      ).toBe(-1);
    }
  });
});

describe('I-CLICACHE-1: the compile cache is used only from a directory no one else can write', () => {
  const uid = process.getuid?.() ?? -1;
  const cacheOf = (tmp: string) => join(tmp, `helmts-compile-cache-${uid}`);
  const version = (tmp: string) => {
    const { NODE_COMPILE_CACHE: _a, NODE_DISABLE_COMPILE_CACHE: _b, ...env } = process.env;
    const r = spawnSync(process.execPath, [BIN, '--version'], {
      encoding: 'utf8',
      env: { ...env, TMPDIR: tmp },
    });
    expect(r.status).toBe(0);
  };
  const fresh = () => {
    const tmp = join(root, `tmp-${++n}`);
    mkdirSync(tmp);
    return tmp;
  };

  it.skipIf(uid < 0)('creates its own directory, mode 0700, and fills it', () => {
    const tmp = fresh();
    version(tmp);
    const st = statSync(cacheOf(tmp));
    expect(st.mode & 0o777).toBe(0o700);
    expect(readdirSync(cacheOf(tmp)).length).toBeGreaterThan(0);
  });

  it.skipIf(uid < 0)('a directory others can write (planted beforehand) is not used', () => {
    const tmp = fresh();
    mkdirSync(cacheOf(tmp));
    chmodSync(cacheOf(tmp), 0o777);
    version(tmp);
    expect(readdirSync(cacheOf(tmp))).toEqual([]);
  });

  it.skipIf(uid < 0)('a symbolic link in its place is not followed', () => {
    const tmp = fresh();
    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, cacheOf(tmp));
    version(tmp);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it.skipIf(uid !== 0)("another user's directory is not used", () => {
    const tmp = fresh();
    mkdirSync(cacheOf(tmp), { mode: 0o700 });
    chownSync(cacheOf(tmp), 65534, 65534);
    version(tmp);
    expect(readdirSync(cacheOf(tmp))).toEqual([]);
  });
});
