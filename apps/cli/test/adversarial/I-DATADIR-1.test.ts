// I-DATADIR-1 — a name or id that comes from input (a descriptor, a flag, a data-dir file) never
// steers a file operation outside its directory: every such name passes ONE rule (src/names.ts)
// before any file is touched, the resolved path is checked to stay inside its directory, and a
// refused name changes nothing on disk (exit 2, NAME_INVALID).
//
// Written from the attacker's side, through the `helm` command line run in-process.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ECHO_TOOL, initEchoHome, runCli, snapshotTree, tempRoot } from '../helpers.ts';

/** Fixed seed and modest run counts: deterministic, and fast enough for `make test`. */
const SEED = 0x1d47a1;
const RUNS = 40;

const base = tempRoot('helm-adv-datadir-');
/** Everything a traversal of up to five `..` from `<home>/tools` (or keys, modules) can reach. */
const watched = join(base, 'a');
const home = join(watched, 'b', 'c', 'd', 'home');
const inputs = join(base, 'inputs');
const echoWasm = new URL('../../assets/wasm/echo.wasm', import.meta.url).pathname;

/** Plain path segments an attacker would aim at. */
const segment = fc.constantFrom('x', 'policy', 'p0', 'tools', 'keys', 'root', 'echo', 'fs.read', 'config');

/** Names no command may turn into a path: traversal, separators, absolute paths, dots, NUL, … */
const hostileName: fc.Arbitrary<string> = fc.oneof(
  // ../x, ../../policy/p0, ..\..\x
  fc
    .tuple(
      fc.integer({ min: 1, max: 5 }),
      fc.constantFrom('/', '\\'),
      fc.array(segment, { minLength: 1, maxLength: 2 }),
    )
    .map(([ups, sep, segs]) => `${`..${sep}`.repeat(ups)}${segs.join(sep)}`),
  // a/b, a\b, policy/p0
  fc
    .tuple(fc.array(segment, { minLength: 2, maxLength: 3 }), fc.constantFrom('/', '\\'))
    .map(([segs, sep]) => segs.join(sep)),
  // absolute paths (POSIX, into the watched tree; Windows drive and UNC forms)
  fc.constantFrom(join(watched, 'abs'), '/etc/passwd', '/', 'C:\\x', 'c:x', '\\\\server\\share\\x', '//x'),
  // dot forms and leading/trailing dots
  fc.constantFrom('.', '..', '...', '.hidden', 'a.', 'a..b', '..x', 'x/..', 'x/.'),
  // NUL and other control or blank characters
  fc
    .tuple(segment, fc.constantFrom('\0', '\n', '\r', '\t', '\x7f', ' ', '\x1b'), segment)
    .map(([a, c, b]) => `${a}${c}${b}`),
  // unicode lookalikes of '.', '/', '\', letters; zero-width and bidi controls; non-ASCII
  fc
    .tuple(
      segment,
      fc.constantFrom(
        '\u2024', // one dot leader
        '\uff0e', // fullwidth full stop
        '\u2215', // division slash
        '\u2044', // fraction slash
        '\uff0f', // fullwidth solidus
        '\u29f5', // reverse solidus operator
        '\uff3c', // fullwidth reverse solidus
        '\u0131', // dotless i
        '\u212a', // Kelvin sign (folds to k)
        '\u200b', // zero-width space
        '\u202e', // right-to-left override
        '\u00e9',
      ),
      segment,
    )
    .map(([a, c, b]) => `${a}${c}${b}`),
  // other characters outside the rule (case folding collisions, shell/URL/Windows specials)
  fc
    .tuple(segment, fc.constantFrom('A', 'Echo', '%2e%2e%2f', ':', '*', '?', '"', '<', '>', '|', '$', '~'))
    .map(([a, c]) => `${a}${c}`),
  // Windows device names (also with an extension)
  fc.constantFrom('con', 'nul', 'aux', 'prn', 'com1', 'lpt9', 'con.json', 'nul.x', 'aux.tool'),
  // empty and very long
  fc.constant(''),
  fc.integer({ min: 129, max: 400 }).map((n) => 'a'.repeat(n)),
);

let counter = 0;
function input(name: string, value: unknown): string {
  const path = join(inputs, `${name}-${counter++}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

function expectRefused(
  run: { code: number; json: Record<string, unknown> | undefined; out: string },
  hint = /lowercase letters/,
): void {
  expect(run.code, run.out).toBe(2);
  const error = run.json?.error as { code?: string; hint?: string } | undefined;
  expect(error?.code, run.out).toBe('NAME_INVALID');
  expect(error?.hint).toMatch(hint);
}

beforeAll(async () => {
  mkdirSync(inputs, { recursive: true });
  const { data } = await initEchoHome(join(watched, 'b', 'c', 'd'), 'home');
  data.close();
});

describe('I-DATADIR-1: names never become paths outside their directory', () => {
  it('tool register: a hostile descriptor name is refused (NAME_INVALID, exit 2) and nothing on disk changes', async () => {
    const before = snapshotTree(watched);
    await fc.assert(
      fc.asyncProperty(hostileName, async (name) => {
        const file = input('desc', { ...ECHO_TOOL, name });
        expectRefused(await runCli(['-d', home, 'tool', 'register', file, '--json']));
        expect(snapshotTree(watched)).toEqual(before);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('tool register --wasm: the name is refused before the module is written', async () => {
    const before = snapshotTree(watched);
    await fc.assert(
      fc.asyncProperty(hostileName, async (name) => {
        const file = input('wasm-desc', {
          ...ECHO_TOOL,
          name,
          input_schema: { type: 'object' },
          driver: { kind: 'sandbox', ref: 'set-by-register', timeout_ms: 5000 },
        });
        expectRefused(await runCli(['-d', home, 'tool', 'register', file, '--wasm', echoWasm, '--json']));
        expect(snapshotTree(watched)).toEqual(before);
      }),
      { seed: SEED, numRuns: 15 },
    );
  });

  it('tool register: a sandbox driver.ref that is not a sha256 digest never names a module file', async () => {
    // A module planted outside the modules directory, where `sha256:../../evil` would point.
    copyFileSync(echoWasm, join(home, 'evil.wasm'));
    copyFileSync(echoWasm, join(watched, 'evil.wasm'));
    const before = snapshotTree(watched);
    const ref = fc.oneof(
      hostileName.map((n) => `sha256:${n}`),
      hostileName,
      fc.constantFrom('sha256:../evil', 'sha256:../../evil', `sha256:${join(watched, 'evil')}`, 'sha256:abc'),
    );
    await fc.assert(
      fc.asyncProperty(ref, async (r) => {
        const file = input('ref-desc', {
          ...ECHO_TOOL,
          name: 'planted',
          input_schema: { type: 'object' },
          driver: { kind: 'sandbox', ref: r, timeout_ms: 5000 },
        });
        expectRefused(await runCli(['-d', home, 'tool', 'register', file, '--json']), /sha256:<64/);
        expect(snapshotTree(watched)).toEqual(before);
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  for (const [command, extra] of [
    ['generate', ['--role', 'approver']],
    ['rotate', []],
    ['revoke', []],
  ] as const) {
    it(`keys ${command}: a hostile key name is refused (NAME_INVALID, exit 2) and nothing on disk changes`, async () => {
      const before = snapshotTree(watched);
      await fc.assert(
        fc.asyncProperty(hostileName, async (name) => {
          expectRefused(await runCli(['-d', home, 'keys', command, ...extra, '--json', '--', name]));
          expect(snapshotTree(watched)).toEqual(before);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  it('a descriptor named ../policy/p0 leaves the P0 policy in place; ../../x writes nothing outside', async () => {
    const p0 = readFileSync(join(home, 'policy', 'p0.json'));
    const before = snapshotTree(watched);
    for (const name of ['../policy/p0', '../../x', '../keys/root', '../config']) {
      expectRefused(
        await runCli(['-d', home, 'tool', 'register', input('p0', { ...ECHO_TOOL, name }), '--json']),
      );
    }
    expect(snapshotTree(watched)).toEqual(before);
    expect(readFileSync(join(home, 'policy', 'p0.json'))).toEqual(p0);
    expect(existsSync(join(home, '..', 'x.json'))).toBe(false);
    expect((await runCli(['-d', home, 'policy', 'show', '--json'])).code).toBe(0);
  });

  it('a rejected descriptor under an existing tool name leaves that tool and the modules in place', async () => {
    const tools = snapshotTree(join(home, 'tools'));
    // Under the registered name: refused before anything is read or written (I-TOOL-1).
    const rejected = input('rejected', {
      ...ECHO_TOOL,
      driver: { kind: 'function', ref: 'no.such.fn', timeout_ms: 1 },
    });
    const run = await runCli(['-d', home, 'tool', 'register', rejected, '--json']);
    expect(run.code, run.out).toBe(2);
    expect(run.json?.error).toMatchObject({ code: 'TOOL_ALREADY_REGISTERED' });
    const wasmRejected = input('rejected-wasm', { ...ECHO_TOOL, input_schema: { type: 'nope' } });
    expect(
      (await runCli(['-d', home, 'tool', 'register', wasmRejected, '--wasm', echoWasm, '--json'])).code,
    ).toBe(2);
    // Under a new name: the executor rejects it, and its module is removed again.
    const fresh = input('rejected-new', { ...ECHO_TOOL, name: 'fresh', input_schema: { type: 'nope' } });
    const freshRun = await runCli(['-d', home, 'tool', 'register', fresh, '--wasm', echoWasm, '--json']);
    expect(freshRun.json?.error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(snapshotTree(join(home, 'tools'))).toEqual(tools);
    const modules = join(home, 'modules');
    expect(existsSync(modules) ? readdirSync(modules) : []).toEqual([]);
    expect((await runCli(['-d', home, 'run', '--tool', 'echo', '--principal', 'local', '--json'])).code).toBe(
      0,
    );
  });

  it('export: a chain id edited into config.json never names the default output file', async () => {
    const configPath = join(home, 'config.json');
    const original = readFileSync(configPath);
    const cwdBefore = readdirSync(process.cwd()).sort();
    try {
      for (const chain of ['../../escaped', '/tmp/escaped', 'a/b', '..']) {
        writeFileSync(configPath, JSON.stringify({ ...JSON.parse(String(original)), chain_id: chain }));
        const before = snapshotTree(watched);
        expectRefused(await runCli(['-d', home, 'export', '--json']));
        expect(snapshotTree(watched)).toEqual(before);
      }
    } finally {
      writeFileSync(configPath, original);
    }
    expect(readdirSync(process.cwd()).sort()).toEqual(cwdBefore);
  });

  it('entries of keys/ and tools/ whose names break the rule are refused, not loaded', async () => {
    const planted = join(home, 'tools', 'Echo2.json');
    writeFileSync(planted, JSON.stringify({ ...ECHO_TOOL, name: 'echo2' }));
    try {
      expectRefused(await runCli(['-d', home, 'run', '--tool', 'echo2', '--principal', 'local', '--json']));
    } finally {
      rmSync(planted);
    }
    const key = join(home, 'keys', 'Root.json');
    copyFileSync(join(home, 'keys', 'root.json'), key);
    try {
      expectRefused(await runCli(['-d', home, 'keys', 'list', '--json']));
    } finally {
      rmSync(key);
    }
  });

  it('defence in depth: a path that leaves its directory is refused even if a name passed', async () => {
    const { pathInside } = await import('../../../../packages/runtime/src/internal/names.ts');
    const dir = join(base, 'dir');
    expect(pathInside(dir, join(dir, 'x.json'), 'tool')).toBe(join(dir, 'x.json'));
    for (const escaped of [
      join(dir, '..', 'x.json'),
      `${dir}-evil/x.json`,
      dir,
      join(dir, 'a', 'x.json'),
      '/x',
    ]) {
      expect(() => pathInside(dir, escaped, 'tool')).toThrow(
        expect.objectContaining({ code: 'NAME_INVALID' }),
      );
    }
  });

  it('valid names keep working: dotted tool names up to 128 characters, key names with dots and dashes', async () => {
    const okHome = join(base, 'ok');
    const { data } = await initEchoHome(base, 'ok');
    data.close();
    const toolName = fc
      .array(fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/), { minLength: 1, maxLength: 6 })
      .map((segs) => segs.join('.'))
      .filter((n) => n.length <= 128 && !/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/.test(n));
    await fc.assert(
      fc.asyncProperty(toolName, async (name) => {
        const file = input('ok', { ...ECHO_TOOL, name });
        const run = await runCli(['-d', okHome, 'tool', 'register', file, '--json']);
        expect(run.code, run.out).toBe(0);
        expect(existsSync(join(okHome, 'tools', `${name}.json`))).toBe(true);
      }),
      {
        seed: SEED,
        numRuns: 6,
        examples: [['fs.read'], ['weather-lookup'], [`t${'.abcdefg'.repeat(15)}hijklmn`]],
      },
    );
    for (const name of ['ck-2', 'approver.eu-1', 'ops_1']) {
      const run = await runCli(['-d', okHome, 'keys', 'generate', name, '--role', 'approver', '--json']);
      expect(run.code, run.out).toBe(0);
      expect((await runCli(['-d', okHome, 'keys', 'rotate', name, '--json'])).code).toBe(0);
    }
  });

  it('a function driver ref naming an Object member (constructor, __proto__, toString) binds no driver', async () => {
    for (const ref of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const file = join(inputs, `ref-${ref}.json`);
      writeFileSync(
        file,
        JSON.stringify({ ...ECHO_TOOL, name: 'objref', driver: { ...ECHO_TOOL.driver, ref } }),
      );
      const run = await runCli(['-d', home, 'tool', 'register', file, '--json']);
      expect(run.code, run.out).toBe(2);
      expect((run.json?.error as { code?: string } | undefined)?.code).toBe('INVALID_INPUT');
      expect(existsSync(join(home, 'tools', 'objref.json'))).toBe(false);
    }
  });

  it('a symlink planted where a tool or key file will be written is never written through', async () => {
    const outside = join(base, 'outside-target.txt');
    writeFileSync(outside, 'precious');
    const toolLink = join(home, 'tools', 'linked.json');
    rmSync(toolLink, { force: true });
    symlinkSync(outside, toolLink);
    const file = join(inputs, 'linked.json');
    writeFileSync(file, JSON.stringify({ ...ECHO_TOOL, name: 'linked' }));
    // A registration refuses the link (it is neither a registered tool nor a free name).
    const run = await runCli(['-d', home, 'tool', 'register', file, '--json']);
    expect(run.code, run.out).toBe(2);
    expect(run.json?.error).toMatchObject({ code: 'DATA_DIR_UNSAFE' });
    expect(readFileSync(outside, 'utf8')).toBe('precious');
    rmSync(toolLink);

    const keyLink = join(home, 'keys', 'linked-key.json');
    symlinkSync(outside, keyLink);
    const keys = await runCli([
      '-d',
      home,
      'keys',
      'generate',
      '--role',
      'approver',
      '--json',
      '--',
      'linked-key',
    ]);
    // refused because the name exists, or written beside the link — never through it
    expect(readFileSync(outside, 'utf8')).toBe('precious');
    expect([0, 2]).toContain(keys.code);
  });

  it('a tools/ or keys/ directory replaced by a link to elsewhere is refused (DATA_DIR_UNSAFE); nothing lands outside', async () => {
    const { dir, data } = await initEchoHome(join(base, 'linked-dirs'), 'home');
    data.close();
    for (const sub of ['tools', 'keys']) {
      const outside = join(base, `outside-${sub}`);
      mkdirSync(outside, { recursive: true });
      renameSync(join(dir, sub), join(dir, `${sub}.real`));
      symlinkSync(outside, join(dir, sub));
    }
    const file = join(inputs, 'via-link.json');
    writeFileSync(file, JSON.stringify({ ...ECHO_TOOL, name: 'via-link' }));
    const register = await runCli(['-d', dir, 'tool', 'register', file, '--json']);
    const keys = await runCli([
      '-d',
      dir,
      'keys',
      'generate',
      '--role',
      'approver',
      '--json',
      '--',
      'approver-9',
    ]);
    for (const run of [register, keys]) {
      expect(run.code, run.out).toBe(2);
      expect((run.json?.error as { code?: string } | undefined)?.code).toBe('DATA_DIR_UNSAFE');
    }
    expect(readdirSync(join(base, 'outside-tools'))).toEqual([]);
    expect(readdirSync(join(base, 'outside-keys'))).toEqual([]);
  });
});
