// The bundle's code cache (dist/code-cache.cjs): an entry is code `helmts` runs, so the attacker here
// is anyone who can write where the cache lives (docs/threat-model.md, I-CLICACHE-1 and -2). The attack is
// played for real: V8 cached data made from a *different* bundle of the same length (its first
// statement throws PWND) is planted under the real bundle's entry name. V8 checks a cache against
// the source's length only, so where the loader accepts the entry the planted code runs — the first
// test shows it does for an entry the user's own cache directory holds (the cache works, and the
// detection works) — and every other test shows a place or a file the loader must refuse.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCurrentBuild } from './cli-process.ts';

const CLI = fileURLToPath(new URL('..', import.meta.url));
// Inside apps/cli, so the copies' dependencies resolve from apps/cli/node_modules as the real ones do.
const work = join(CLI, '.test-codecache', String(process.pid));
const MAGIC = 'helmts-code-cache-v2\n';
const uid = process.getuid?.() ?? -1;
const OLD = 'check Node, package versions';
const NEW = 'CHECK NODE, PACKAGE VERSIONS';
let n = 0;
let evilData: Buffer;

interface Install {
  readonly bundle: string;
  readonly bin: string;
  readonly xdg: string;
  readonly cache: string;
}

/**
 * A copy of the built CLI laid out as an installed package (no bundle/inputs.json: the bundle runs
 * as is), with its own cache directory. dist/code-cache.cjs is a link to the real one (Node loads it
 * by its real path), so its coverage counts.
 */
function install(): Install {
  const dir = join(work, String(++n));
  mkdirSync(join(dir, 'dist', 'bundle'), { recursive: true });
  copyFileSync(join(CLI, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(CLI, 'dist', 'bin.cjs'), join(dir, 'dist', 'bin.cjs'));
  symlinkSync(join(CLI, 'dist', 'code-cache.cjs'), join(dir, 'dist', 'code-cache.cjs'));
  copyFileSync(join(CLI, 'dist', 'bundle', 'helmts.cjs'), join(dir, 'dist', 'bundle', 'helmts.cjs'));
  const xdg = join(dir, 'xdg');
  return {
    bundle: join(dir, 'dist', 'bundle', 'helmts.cjs'),
    bin: join(dir, 'dist', 'bin.cjs'),
    xdg,
    cache: join(xdg, 'helmts'),
  };
}

function helmts(at: Install, args: readonly string[], env: Record<string, string> = {}, cwd?: string) {
  // No inherited NODE_OPTIONS (part of the cache key) and the bundle even under the coverage gate.
  // NODE_V8_COVERAGE empty (coverage off): under coverage the cache is off (tested below), and Node
  // hands a coverage parent's NODE_V8_COVERAGE to any child whose env lacks the variable.
  const { NODE_OPTIONS: _o, HELMTS_NO_CODE_CACHE: _c, ...base } = process.env;
  return spawnSync(process.execPath, [at.bin, ...args], {
    encoding: 'utf8',
    ...(cwd === undefined ? {} : { cwd }),
    env: {
      ...base,
      HELM_CLI_BUNDLED: '1',
      NODE_DISABLE_COMPILE_CACHE: '1',
      NODE_V8_COVERAGE: '',
      XDG_CACHE_HOME: at.xdg,
      ...env,
    },
  });
}

const entries = (at: Install) => readdirSync(at.cache).filter((f) => f.endsWith('.v8cache'));
const entryOf = (at: Install) => {
  const found = entries(at);
  expect(found).toHaveLength(1);
  return join(at.cache, found[0] as string);
};
/** Where V8's data starts in an entry: after MAGIC and the 32-byte key. */
const dataStart = (_bytes: Buffer) => MAGIC.length + 32;

/** `--help` ran the real bundle (exit 0, its own text) and not the planted code. */
function ranTheRealBundle(r: ReturnType<typeof helmts>): void {
  expect(r.stderr).not.toContain('PWND');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(OLD);
}

/** An installed copy whose cache entry for its bundle holds the planted code (same header). */
function planted(): { at: Install; entry: string } {
  const at = install();
  ranTheRealBundle(helmts(at, ['--help']));
  const entry = entryOf(at);
  const bytes = readFileSync(entry);
  writeFileSync(entry, Buffer.concat([bytes.subarray(0, dataStart(bytes)), evilData]));
  return { at, entry };
}

beforeAll(() => {
  requireCurrentBuild();
  mkdirSync(work, { recursive: true });
  // The attacker's cache: made by a clean Node (V8 also checks its flags) from the bundle with its
  // first statement replaced, at the same length.
  const source = readFileSync(join(CLI, 'dist', 'bundle', 'helmts.cjs'), 'utf8');
  const evil = source.replace('{"use strict";', '{throw "PWND";');
  expect(evil.length).toBe(source.length);
  expect(evil).not.toBe(source);
  const make = `const vm = require('node:vm');
const s = new vm.Script(require('node:fs').readFileSync(0, 'utf8'), { filename: 'x' });
process.stdout.write(s.createCachedData().toString('base64'));`;
  const { NODE_OPTIONS: _o, ...env } = process.env;
  const r = spawnSync(process.execPath, ['-e', make], {
    input: evil,
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 28,
  });
  expect(r.status, r.stderr).toBe(0);
  evilData = Buffer.from(r.stdout, 'base64');
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(uid < 0)(
  'I-CLICACHE-1/2: the code cache runs only what its user wrote for this exact bundle',
  () => {
    it('an entry in the user-only directory is used: planted code in it runs (the threat, and the cache, are real)', () => {
      const { at } = planted();
      const r = helmts(at, ['--help']);
      expect(r.stderr).toContain('PWND');
      expect(r.status).not.toBe(0);
    });

    it('is created 0700 with entries 0600, after a successful command, and not rewritten by a repeat', () => {
      const at = install();
      ranTheRealBundle(helmts(at, ['--help']));
      expect(statSync(at.cache).mode & 0o777).toBe(0o700);
      const entry = entryOf(at);
      expect(statSync(entry).mode & 0o777).toBe(0o600);
      expect(readFileSync(entry).subarray(0, MAGIC.length).toString('latin1')).toBe(MAGIC);
      utimesSync(entry, new Date(1000), new Date(1000));
      const before = statSync(entry).mtimeMs;
      ranTheRealBundle(helmts(at, ['--help']));
      expect(statSync(entry).mtimeMs).toBe(before);
      expect(readdirSync(at.cache).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
    });

    it('a same-length update of the bundle runs the new code, not the old cached code', () => {
      const at = install();
      ranTheRealBundle(helmts(at, ['--help']));
      ranTheRealBundle(helmts(at, ['--help'])); // from the cache, which holds the help text's code
      const source = readFileSync(at.bundle, 'latin1');
      const updated = source.replace(OLD, NEW);
      expect(updated.length).toBe(source.length);
      writeFileSync(at.bundle, updated, 'latin1');
      const r = helmts(at, ['--help']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(NEW);
      expect(r.stdout).not.toContain(OLD);
      expect(entries(at)).toHaveLength(2); // a new key, so a new entry
    });

    // The loader reads an ASCII bundle as latin1 (an external one-byte string); a bundle with any
    // other byte must still be decoded as UTF-8, or its text would change under it.
    it('a bundle that is not ASCII is decoded as UTF-8: its text reaches the output intact', () => {
      const at = install();
      const utf8 = 'ch\u00e9ck N\u00f6de, package versions \u2014 \u{1f512}';
      writeFileSync(at.bundle, readFileSync(at.bundle, 'utf8').replace(OLD, utf8));
      for (let i = 0; i < 2; i++) {
        // the second run from the entry the first wrote
        const r = helmts(at, ['--help']);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain(utf8);
      }
    });

    it('an entry whose header names another key is not used', () => {
      const { at, entry } = planted();
      const bytes = readFileSync(entry);
      bytes[MAGIC.length] = (bytes[MAGIC.length] as number) ^ 1;
      writeFileSync(entry, bytes);
      ranTheRealBundle(helmts(at, ['--help']));
    });

    it('an entry others can write is not used', () => {
      const { at, entry } = planted();
      chmodSync(entry, 0o620);
      ranTheRealBundle(helmts(at, ['--help']));
      chmodSync(entry, 0o602);
      ranTheRealBundle(helmts(at, ['--help']));
    });

    it('a directory others can write is neither read nor written', () => {
      const { at, entry } = planted();
      chmodSync(at.cache, 0o770);
      ranTheRealBundle(helmts(at, ['--help']));
      rmSync(entry);
      ranTheRealBundle(helmts(at, ['--help']));
      expect(entries(at)).toEqual([]);
    });

    it('an entry that is a symbolic link is not followed', () => {
      const { at, entry } = planted();
      const elsewhere = join(at.xdg, 'elsewhere.v8cache');
      renameSync(entry, elsewhere);
      symlinkSync(elsewhere, entry);
      ranTheRealBundle(helmts(at, ['--help']));
    });

    it('a cache directory that is a symbolic link is not followed', () => {
      const { at } = planted();
      const elsewhere = join(at.xdg, 'elsewhere');
      renameSync(at.cache, elsewhere);
      symlinkSync(elsewhere, at.cache);
      ranTheRealBundle(helmts(at, ['--help']));
    });

    it.skipIf(uid !== 0)(
      "a directory or entry another user owns is not used (e.g. `sudo` with the user's HOME)",
      () => {
        const a = planted();
        chownSync(a.entry, 65534, 65534);
        ranTheRealBundle(helmts(a.at, ['--help']));
        const b = planted();
        chownSync(b.at.cache, 65534, 65534);
        ranTheRealBundle(helmts(b.at, ['--help']));
        rmSync(b.entry);
        ranTheRealBundle(helmts(b.at, ['--help']));
        expect(entries(b.at)).toEqual([]);
      },
    );

    it.skipIf(uid !== 0)(
      "creates nothing in another user's cache base (`sudo` keeping the user's HOME)",
      () => {
        const at = install();
        mkdirSync(at.xdg, { mode: 0o755 });
        chownSync(at.xdg, 65534, 65534);
        ranTheRealBundle(helmts(at, ['--help']));
        expect(readdirSync(at.xdg)).toEqual([]);
      },
    );

    it('HELMTS_NO_CODE_CACHE=1 reads nothing and writes nothing', () => {
      const { at, entry } = planted();
      ranTheRealBundle(helmts(at, ['--help'], { HELMTS_NO_CODE_CACHE: '1' }));
      rmSync(entry);
      ranTheRealBundle(helmts(at, ['--help'], { HELMTS_NO_CODE_CACHE: '1' }));
      expect(entries(at)).toEqual([]);
    });
  },
);

describe.skipIf(uid < 0)(
  'I-CLICACHE-2: the code cache is written only after a successful command, and never fails one',
  () => {
    it('under V8 coverage (NODE_V8_COVERAGE) the cache is neither read nor written', () => {
      const { at } = planted();
      const before = readFileSync(entryOf(at));
      const coverage = join(work, `coverage-${++n}`);
      mkdirSync(coverage, { recursive: true });
      ranTheRealBundle(helmts(at, ['--help'], { NODE_V8_COVERAGE: coverage }));
      expect(readFileSync(entryOf(at)).equals(before)).toBe(true);
    });

    it('a command that fails writes nothing', () => {
      const at = install();
      const r = helmts(at, ['no-such-command']);
      expect(r.status).toBe(2);
      expect(readdirSync(at.cache)).toEqual([]);
    });

    it('an entry V8 rejects is rewritten, and the command runs', () => {
      const at = install();
      ranTheRealBundle(helmts(at, ['--help']));
      const entry = entryOf(at);
      const good = readFileSync(entry);
      const garbage = Buffer.alloc(good.length - dataStart(good), 0x5a);
      writeFileSync(entry, Buffer.concat([good.subarray(0, dataStart(good)), garbage]));
      ranTheRealBundle(helmts(at, ['--help']));
      const rewritten = readFileSync(entry);
      expect(rewritten.subarray(dataStart(rewritten)).equals(garbage)).toBe(false);
      ranTheRealBundle(helmts(at, ['--help']));
    });

    it('an entry is written once, by whichever command ran first, and other commands do not rewrite it', () => {
      const at = install();
      expect(helmts(at, ['--version']).status).toBe(0);
      const entry = entryOf(at);
      const first = readFileSync(entry);
      ranTheRealBundle(helmts(at, ['--help']));
      expect(readFileSync(entry).equals(first)).toBe(true);
    });

    it('an entry of the older format (v1, taken after a run) is not used, and is replaced', () => {
      const at = install();
      ranTheRealBundle(helmts(at, ['--help']));
      const entry = entryOf(at);
      const good = readFileSync(entry);
      // The planted code under a v1 header naming the right key: were it used, PWND would run.
      const v1 = Buffer.concat([
        Buffer.from('helmts-code-cache-v1\n', 'latin1'),
        good.subarray(MAGIC.length, MAGIC.length + 32),
        Buffer.from([0, 0]),
        evilData,
      ]);
      writeFileSync(entry, v1);
      ranTheRealBundle(helmts(at, ['--help']));
      expect(readFileSync(entry).subarray(0, MAGIC.length).toString('latin1')).toBe(MAGIC);
    });

    it('keeps at most four entries, dropping the oldest', () => {
      const at = install();
      mkdirSync(at.cache, { recursive: true, mode: 0o700 });
      for (let i = 0; i < 6; i++) {
        const old = join(at.cache, `bundle-${String(i).repeat(64)}.v8cache`);
        writeFileSync(old, 'old', { mode: 0o600 });
        utimesSync(old, new Date(1000 * i), new Date(1000 * i));
      }
      ranTheRealBundle(helmts(at, ['--help']));
      expect(entries(at).sort()).toEqual(
        [
          ...['3', '4', '5'].map((i) => `bundle-${i.repeat(64)}.v8cache`),
          entries(at).find((f) => !/^bundle-(\d)\1{63}\./.test(f)),
        ].sort(),
      );
    });
  },
);

describe.skipIf(uid < 0)('the code cache never changes what runs', () => {
  // A cache made by one command, used by others: each must answer exactly as it does with no cache.
  // A cache taken after a run broke here (class private-member brand checks failed, "Receiver must be
  // class #…", and the process crashed): functions deserialized from one command's run were mixed
  // with functions another command compiled afresh.
  const outcome = (r: ReturnType<typeof helmts>) => {
    let body: { ok?: unknown; reason_code?: unknown; error?: { code?: unknown } } = {};
    try {
      body = JSON.parse(r.stdout);
    } catch {}
    return { status: r.status, signal: r.signal, ok: body.ok, reason: body.reason_code ?? body.error?.code };
  };
  const COMMANDS: readonly (readonly string[])[] = [
    ['init', '--json'],
    ['tool', 'list', '--json'],
    ['keys', 'list', '--json'],
    ['run', '--tool', 'echo', '--principal', 'alice', '--args', '{"message":"hi"}', '--json'],
    ['export', '--out', 'pack.tar', '--json'],
    ['verify', 'pack.tar', '--json'],
  ];
  for (const producer of [['--version'], ['--help'], ['init', '--json']]) {
    it(`a cache made by \`${producer.join(' ')}\` runs init, tool list, keys list, run, export and verify as no cache does`, () => {
      const at = install();
      const cached = join(work, `cached-${++n}`);
      const plain = join(work, `plain-${n}`);
      const scratch = join(work, `producer-${n}`);
      for (const d of [cached, plain, scratch]) mkdirSync(d, { recursive: true });
      expect(helmts(at, producer, {}, scratch).status).toBe(0);
      expect(entries(at)).toHaveLength(1);
      for (const args of COMMANDS) {
        const withCache = outcome(helmts(at, args, {}, cached));
        const without = outcome(helmts(at, args, { HELMTS_NO_CODE_CACHE: '1' }, plain));
        expect({ args, ...withCache }).toEqual({ args, ...without });
        expect(withCache.reason).not.toBe('INTERNAL');
      }
    });
  }
});

describe("the bundle keeps the ES-module bundle's strict mode", () => {
  it('its one function starts with the "use strict" directive, so all of it (dependencies included) is strict', () => {
    requireCurrentBuild();
    const source = readFileSync(join(CLI, 'dist', 'bundle', 'helmts.cjs'), 'latin1');
    expect(
      source.startsWith('(function (module, exports, require, __filename, __dirname) {"use strict";\n'),
    ).toBe(true);
  });
});
