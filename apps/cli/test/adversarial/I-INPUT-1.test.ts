// I-INPUT-1 — JSON the CLI accepts from a caller or a file is parsed strictly (RFC 8259 via
// @helm/crypto parseStrictJson): duplicate keys, lone surrogates, invalid UTF-8 and any other
// deviation are refused, never silently collapsed. `run --args` text reaches the executor unchanged
// (args_text), so its strict PEP refuses it with a receipted ARGS_MALFORMED denial; a file (tool
// descriptor, policy, anything in the data directory) is refused with JSON_INVALID (exit 2).
//
// Written from the attacker's side, through the `helm` command line run in-process.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_LOCK_FILE } from '@helm/runtime';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCall } from '../../src/commands/index.ts';
import type { DataDir } from '../../src/datadir.ts';
import { ECHO_TOOL, initEchoHome, runCli, snapshotTree, tempRoot } from '../helpers.ts';

const SEED = 0x1e1;

const base = tempRoot('helm-adv-input-');
const home = join(base, 'home');
let data: DataDir;

beforeAll(async () => {
  ({ data } = await initEchoHome(base, 'home'));
});

/** Well-formed JSON object text with one key repeated (at the top, nested, or inside an array). */
const duplicateKeyText: fc.Arbitrary<string> = fc
  .tuple(
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), {
      minKeys: 1,
      maxKeys: 4,
    }),
    fc.nat(),
    fc.jsonValue({ maxDepth: 1 }),
    fc.constantFrom('top', 'first', 'nested', 'array'),
  )
  .map(([obj, i, value, where]) => {
    const keys = Object.keys(obj);
    const key = JSON.stringify(keys[i % keys.length]);
    const text = JSON.stringify(obj);
    const dup =
      where === 'first'
        ? `{${key}:${JSON.stringify(value)},${text.slice(1)}`
        : `${text.slice(0, -1)},${key}:${JSON.stringify(value)}}`;
    return where === 'nested' ? `{"x":${dup}}` : where === 'array' ? `{"x":[1,${dup}]}` : dup;
  });

/**
 * A lone surrogate in a string value or a key: escaped (`\ud800`, plain ASCII: what a command line
 * can carry) or raw (a lone UTF-16 unit: only an in-process caller can pass one).
 */
const loneSurrogateText = (raw: boolean): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.boolean(),
      fc.boolean(),
      fc.string({ unit: 'binary-ascii', maxLength: 4 }).map((s) => s.replace(/["\\\u0000-\u001f]/g, '')),
    )
    .map(([unit, upper, inKey, pad]) => {
      const hex = upper ? unit.toString(16).toUpperCase() : unit.toString(16);
      const lone = raw ? String.fromCharCode(unit) : `\\u${hex}`;
      return inKey ? `{"${pad}${lone}":1}` : `{"x":"${pad}${lone}${pad}"}`;
    });

/** Text JSON.parse accepts, or that a lax parser would, but RFC 8259 does not. */
const NON_STRICT = [
  '{"x":1,}',
  '{"x":1}//c',
  '/*c*/{"x":1}',
  '\ufeff{"x":1}',
  '{"x":NaN}',
  "{'x':1}",
  '{"x":01}',
  '{"x":1e999}',
  '{"x":"\t"}',
  '{"x":1} {"x":2}',
  '{bad',
  '',
  `${'['.repeat(200)}${']'.repeat(200)}`,
];

async function expectArgsRefused(args: string): Promise<void> {
  const before = data.store.receiptsSync().length;
  const r = await runCall(data, { tool: 'echo', principal: 'local', args });
  expect(r.exitCode, JSON.stringify(r.json)).toBe(1);
  expect(r.json).toMatchObject({ status: 'DENIED', reason_code: 'ARGS_MALFORMED', output: null });
  // The refusal is receipted: the call is on the chain, and the tool never ran.
  const receipts = data.store.receiptsSync();
  expect(receipts.length).toBe(before + 1);
  expect(receipts[receipts.length - 1]?.hash).toBe(r.json.receipt_hash);
}

/** Write `text` over `path` (relative to the data dir), run `fn`, restore the file. */
async function tampered(path: string, text: string | Uint8Array, fn: () => Promise<void>): Promise<void> {
  const full = join(home, path);
  const original = readFileSync(full);
  writeFileSync(full, text);
  try {
    await fn();
  } finally {
    writeFileSync(full, original);
  }
}

function expectJsonInvalid(run: {
  code: number;
  json: Record<string, unknown> | undefined;
  out: string;
}): void {
  expect(run.code, run.out).toBe(2);
  expect((run.json?.error as { code?: string } | undefined)?.code, run.out).toBe('JSON_INVALID');
}

/** `{"<key>":<value>,` + the rest of `json`: a duplicate that JSON.parse would silently drop. */
function smuggle(json: unknown, key: string, value: unknown): string {
  return `{${JSON.stringify(key)}:${JSON.stringify(value)},${JSON.stringify(json).slice(1)}`;
}

describe('I-INPUT-1: caller and file JSON is parsed strictly', () => {
  it('run --args: duplicate keys, lone surrogates, non-RFC 8259 text are a receipted ARGS_MALFORMED denial', async () => {
    const hostileArgs = fc.oneof(duplicateKeyText, loneSurrogateText(false), fc.constantFrom(...NON_STRICT));
    await fc.assert(fc.asyncProperty(hostileArgs, expectArgsRefused), {
      seed: SEED,
      numRuns: 40,
      examples: [['{"x":1,"x":2}'], ['{"x":2,"x":1}'], ...NON_STRICT.map((t) => [t] as [string])],
    });
  });

  it('run --args: a raw lone surrogate (in-process callers only) is JSON_INVALID before anything runs', async () => {
    await fc.assert(
      fc.asyncProperty(loneSurrogateText(true), async (args) => {
        const before = data.store.receiptsSync().length;
        await expect(runCall(data, { tool: 'echo', principal: 'local', args })).rejects.toMatchObject({
          code: 'JSON_INVALID',
        });
        expect(data.store.receiptsSync().length).toBe(before);
      }),
      { seed: SEED, numRuns: 10 },
    );
    data.close();
  });

  it('helmts run --args: exit 1 with the receipt; the pack holding the refused calls verifies and replays', async () => {
    const run = await runCli([
      '-d',
      home,
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"x":1,"x":2}',
      '--json',
    ]);
    expect(run.code, run.out).toBe(1);
    expect(run.json).toMatchObject({
      reason_code: 'ARGS_MALFORMED',
      output: null,
      receipt_hash: expect.stringMatching(/^sha256:/),
    });
    const escaped = await runCli([
      '-d',
      home,
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"x":"\\ud800"}',
      '--json',
    ]);
    expect(escaped.json).toMatchObject({ reason_code: 'ARGS_MALFORMED' });
    const human = await runCli([
      '-d',
      home,
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"x":1',
    ]);
    expect(human.code).toBe(1);
    expect(human.out).toContain('strict JSON');
    const strict = await runCli([
      '-d',
      home,
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"x":7}',
      '--json',
    ]);
    expect(strict.json).toMatchObject({ status: 'SUCCEEDED', output: { x: 7 } });
    const out = join(base, 'pack.tar');
    const exported = await runCli(['-d', home, 'export', '-o', out, '--json']);
    expect(exported.code, exported.out).toBe(0);
    const anchor = data.config().trust_anchor;
    const verified = await runCli(['verify', out, '--trust-anchor', anchor, '--workers', '0', '--json']);
    expect(verified.code, verified.out).toBe(0);
    const replayed = await runCli(['replay', out, '--json']);
    expect(replayed.code, replayed.out).toBe(0);
  });

  it('tool register: a descriptor with a duplicate key, lone surrogate, BOM or bad UTF-8 is JSON_INVALID; nothing changes', async () => {
    data.close();
    const before = snapshotTree(home);
    const file = join(base, 'descriptor.json');
    const key = fc.constantFrom(...Object.keys(ECHO_TOOL));
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 1 }),
      fc.constantFrom('../policy/p0', 'echo', 'builtin.echo'),
    );
    await fc.assert(
      fc.asyncProperty(key, value, fc.boolean(), async (k, v, first) => {
        const text = first
          ? smuggle(ECHO_TOOL, k, v)
          : `${JSON.stringify(ECHO_TOOL).slice(0, -1)},${JSON.stringify(k)}:${JSON.stringify(v)}}`;
        writeFileSync(file, text);
        expectJsonInvalid(await runCli(['-d', home, 'tool', 'register', file, '--json']));
        expect(snapshotTree(home)).toEqual(before);
      }),
      { seed: SEED, numRuns: 20 },
    );
    const echoText = JSON.stringify(ECHO_TOOL);
    for (const text of [
      echoText.replace('"description":"echo"', '"description":"\\udc00"'),
      // a surrogate encoded as UTF-8 bytes (CESU-8 style): not UTF-8 at all
      Buffer.concat([
        Buffer.from(echoText.slice(0, echoText.indexOf('"echo"') + 1)),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from(echoText.slice(echoText.indexOf('"echo"') + 1)),
      ]),
      `\ufeff${echoText}`,
      Buffer.concat([
        Buffer.from(echoText.slice(0, 30)),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(echoText.slice(30)),
      ]),
    ]) {
      writeFileSync(file, text);
      expectJsonInvalid(await runCli(['-d', home, 'tool', 'register', file, '--json']));
    }
    expect(snapshotTree(home)).toEqual(before);
  });

  it('policy validate / hash / sign: a duplicate key is JSON_INVALID, and sign installs nothing', async () => {
    const bundle = {
      type: 'helm.policy.bundle.v1',
      name: 'default-rules',
      version: 2,
      rules: [{ id: 'none', effect: 'deny', when: { principal: { eq: 'nobody' } } }],
    };
    const file = join(base, 'bundle.json');
    writeFileSync(file, smuggle(bundle, 'rules', [{ id: 'all', effect: 'allow', when: {} }]));
    const before = snapshotTree(home);
    for (const command of ['validate', 'hash', 'sign']) {
      expectJsonInvalid(await runCli(['-d', home, 'policy', command, file, '--json']));
    }
    expect(snapshotTree(home)).toEqual(before);
  });

  it('data-dir files a writer could edit (config, keys, policy, tools) are parsed strictly', async () => {
    const read = (p: string) => JSON.parse(readFileSync(join(home, p), 'utf8')) as Record<string, unknown>;
    const cases: [string, string, unknown, string[]][] = [
      ['config.json', 'chain_id', '../escaped', ['keys', 'list']],
      ['keys/executor.json', 'status', 'revoked', ['keys', 'list']],
      ['policy/p0.json', 'forbidden_effect_types', [], ['policy', 'show']],
      ['policy/bundle.signed.json', 'payload', 'e30', ['policy', 'show']],
      [
        'tools/echo.json',
        'driver',
        { kind: 'function', ref: 'demo.deploy', timeout_ms: 1 },
        ['run', '--tool', 'echo', '--principal', 'local'],
      ],
    ];
    for (const [path, key, value, command] of cases) {
      await tampered(path, smuggle(read(path), key, value), async () => {
        expectJsonInvalid(await runCli(['-d', home, ...command, '--json']));
      });
    }
    // A byte-order mark is not JSON either.
    await tampered('config.json', `\ufeff${readFileSync(join(home, 'config.json'), 'utf8')}`, async () => {
      expectJsonInvalid(await runCli(['-d', home, 'keys', 'list', '--json']));
    });
  });

  it('a runtime lock with a duplicate pid is unreadable, so it is never taken over', async () => {
    // JSON.parse keeps the last pid (a dead one: the lock looks stale and would be taken over while
    // its first pid, this live process, holds it); the strict parser refuses the record.
    writeFileSync(
      join(home, RUNTIME_LOCK_FILE),
      `{"pid":${process.pid},"host":${JSON.stringify(hostname())},"acquired_at":"x","pid":${2 ** 31 - 2}}`,
    );
    try {
      const run = await runCli(['-d', home, 'run', '--tool', 'echo', '--principal', 'local', '--json']);
      expect(run.code, run.out).toBe(2);
      expect(run.json?.error).toMatchObject({ code: 'DATA_DIR_LOCKED' });
    } finally {
      rmSync(join(home, RUNTIME_LOCK_FILE));
    }
  });

  it('no JSON.parse is left in the CLI sources: every parse goes through the strict parser', () => {
    const src = new URL('../../src/', import.meta.url).pathname;
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && /\bJSON\.parse\s*\(/.test(readFileSync(path, 'utf8')))
          offenders.push(path);
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
