// Tool registration (src/internal/tools.ts) and plugin tools (src/internal/plugin.ts) over a real
// data directory: real executor, sandbox, wabt, trust registry and store.
//
// I-TOOL-1: a registered descriptor is never replaced by a registration, and a rejected
// registration leaves the data directory exactly as it was.
// I-PLUGIN-1: a plugin tool runs only the bytes pinned at registration, named by a registration
// signed by a policy key; anything else is refused at open and runs nothing.
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signEnvelope, toBase64Url } from '@helm/crypto';
import { commitTrustEvent } from '@helm/trust';
import { afterAll, describe, expect, it } from 'vitest';
import { GovernedRuntime, initDataDir, listTools, reexecute, registerTool } from '../src/index.ts';
import { compileWat, readModuleSource } from '../src/internal/tools.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-runtime-tools-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ASSETS = fileURLToPath(new URL('../../../apps/cli/assets/wasm/', import.meta.url));
const T0 = Date.UTC(2026, 11, 7, 12);

let n = 0;
function home() {
  const dir = join(root, `home-${++n}`);
  const { data } = initDataDir(dir, {
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'all',
      version: 1,
      rules: [{ id: 'local-any', effect: 'allow', when: { principal: { eq: 'local' } } }],
    },
  });
  return { dir, data };
}

const file = (name: string, content: unknown): string => {
  const path = join(root, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

const descriptor = (name: string, driver: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'helm.tool.v1',
  name,
  description: `${name} tool`,
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'run',
  driver: { timeout_ms: 5_000, ...driver },
  ...extra,
});

/** Every entry under `dir` with its type and content digest: equal snapshots, nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, rel: string): void => {
    const st = lstatSync(path);
    if (st.isDirectory()) {
      out[`${rel}/`] = 'dir';
      for (const e of readdirSync(path).sort()) {
        // The store's WAL files change on every open; the database content is compared by query.
        if (rel === '' && e.startsWith('helm.db')) continue;
        walk(join(path, e), `${rel}/${e}`);
      }
    } else if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(path)}`;
    else out[rel] = createHash('sha256').update(readFileSync(path)).digest('hex');
  };
  walk(dir, '');
  return out;
}

const open = (data: ReturnType<typeof home>['data'], at = T0) =>
  GovernedRuntime.open(data, { clock: { now: () => at } });

const run = async (data: ReturnType<typeof home>['data'], tool: string, args: unknown) => {
  const rt = await open(data);
  try {
    return await rt.execute({
      tool,
      principal: 'local',
      args: args as never,
      context: {
        environment_fingerprint: data.config().environment_fingerprint,
        credential_id: 'cred-local',
      },
    });
  } finally {
    await rt.close();
  }
};

/**
 * Open the runtime and call `tool`: the tool must be out of service with `code` (and `message`),
 * and the call refused with that error before any decision or receipt.
 */
async function refusedTool(
  data: ReturnType<typeof home>['data'],
  tool: string,
  expected: { code: string; message?: RegExp },
): Promise<void> {
  const receipts = data.store.receiptsSync({ chainId: data.config().chain_id }).length;
  const rt = await open(data);
  try {
    expect(rt.outOfService().get(tool)).toMatchObject(expected);
    await expect(
      rt.execute({
        tool,
        principal: 'local',
        args: {},
        context: {
          environment_fingerprint: data.config().environment_fingerprint,
          credential_id: 'cred-local',
        },
      }),
    ).rejects.toMatchObject(expected);
  } finally {
    await rt.close();
  }
  expect(data.store.receiptsSync({ chainId: data.config().chain_id }).length).toBe(receipts);
}

describe('I-TOOL-1: registration never replaces a pinned descriptor', () => {
  it('another descriptor under a registered name is TOOL_ALREADY_REGISTERED; nothing changes', async () => {
    const { dir, data } = home();
    const first = descriptor('echo', { kind: 'function', ref: 'builtin.echo' });
    const r = await registerTool(data, file('echo.json', first));
    expect(r.unchanged).toBe(false);
    const before = snapshot(dir);
    const variants = [
      { ...first, description: 'now it does something else' },
      { ...first, risk_tier: 'HIGH' },
      { ...first, effect_type: 'fs.write' },
      { ...first, input_schema: { type: 'object', additionalProperties: true } },
      { ...first, driver: { ...first.driver, ref: 'demo.files.read' } },
    ];
    for (const [i, v] of variants.entries()) {
      await expect(registerTool(data, file(`v${i}.json`, v))).rejects.toMatchObject({
        code: 'TOOL_ALREADY_REGISTERED',
      });
    }
    // A sandbox module under the registered name, too.
    await expect(
      registerTool(data, file('w.json', descriptor('echo', { kind: 'sandbox', ref: 'x' })), {
        wasm: join(ASSETS, 'echo.wasm'),
      }),
    ).rejects.toMatchObject({ code: 'TOOL_ALREADY_REGISTERED' });
    expect(snapshot(dir)).toEqual(before);
    data.close();
  });

  it('the same descriptor again is a no-op that reports `unchanged` and writes nothing', async () => {
    const { dir, data } = home();
    const path = file('same.json', descriptor('w', { kind: 'sandbox', ref: 'x' }));
    await registerTool(data, path, { wasm: join(ASSETS, 'echo.wat') });
    const before = snapshot(dir);
    const again = await registerTool(data, path, { wasm: join(ASSETS, 'echo.wat') });
    expect(again.unchanged).toBe(true);
    expect(snapshot(dir)).toEqual(before);
    data.close();
  });

  it('a rejected registration leaves the data directory as it was (no module, no empty directory)', async () => {
    const { dir, data } = home();
    const cases: [string, () => Promise<unknown>, string][] = [
      [
        'invalid WASM bytes',
        () =>
          registerTool(data, file('bad1.json', descriptor('b1', { kind: 'sandbox', ref: 'x' })), {
            wasm: file('garbage.wasm', '\0asm\x01\0\0\0garbage'),
          }),
        'INVALID_INPUT',
      ],
      [
        'WAT that does not compile',
        () =>
          registerTool(data, file('bad2.json', descriptor('b2', { kind: 'sandbox', ref: 'x' })), {
            wasm: file('bad.wat', '(module (func (result i32) i32.add))'),
          }),
        'WAT_INVALID',
      ],
      [
        'a module the sandbox refuses (imports outside WASI)',
        () =>
          registerTool(data, file('bad3.json', descriptor('b3', { kind: 'sandbox', ref: 'x' })), {
            wasm: file('imp.wat', '(module (import "env" "evil" (func)) (func (export "_start")))'),
          }),
        'INVALID_INPUT',
      ],
      [
        'a descriptor the executor refuses, with a valid module',
        () =>
          registerTool(
            data,
            file(
              'bad4.json',
              descriptor('b4', { kind: 'sandbox', ref: 'x' }, { input_schema: { type: 'nope' } }),
            ),
            { wasm: join(ASSETS, 'echo.wat') },
          ),
        'INVALID_INPUT',
      ],
      [
        'an unknown built-in function',
        () =>
          registerTool(data, file('bad5.json', descriptor('b5', { kind: 'function', ref: 'constructor' }))),
        'INVALID_INPUT',
      ],
      [
        'a plugin tool without --driver',
        () => registerTool(data, file('bad6.json', descriptor('b6', { kind: 'plugin', ref: 'x' }))),
        'USAGE',
      ],
      [
        'two module sources',
        () =>
          registerTool(data, file('bad7.json', descriptor('b7', { kind: 'sandbox', ref: 'x' })), {
            wasm: join(ASSETS, 'echo.wasm'),
            plugin: file('p7.mjs', 'export default () => ({});'),
          }),
        'USAGE',
      ],
    ];
    const before = snapshot(dir);
    expect(existsSync(join(dir, 'modules'))).toBe(false);
    for (const [what, attempt, code] of cases) {
      await expect(attempt(), what).rejects.toMatchObject({ code });
      expect(snapshot(dir), what).toEqual(before);
    }
    data.close();
  });

  it('a registration while another runtime holds the directory writes nothing (DATA_DIR_LOCKED)', async () => {
    const { dir, data } = home();
    const holder = await open(data);
    const before = snapshot(dir);
    try {
      await expect(
        registerTool(data, file('locked.json', descriptor('l', { kind: 'sandbox', ref: 'x' })), {
          wasm: join(ASSETS, 'echo.wat'),
        }),
      ).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
      // runtime.lock is the holder's; everything else is as it was.
      expect(snapshot(dir)).toEqual(before);
    } finally {
      await holder.close();
      data.close();
    }
  });
});

describe('prepareRepin: a change is checked without the runtime, nothing registered changes', () => {
  it('refuses unknown tools and bad changes, writes the new artifacts, and works while the runtime is held', async () => {
    const { prepareRepin } = await import('../src/index.ts');
    const { dir, data } = home();
    const path = file('rp.json', descriptor('rp', { kind: 'sandbox', ref: 'x' }));
    await registerTool(data, path, { wasm: join(ASSETS, 'echo.wat') });
    const holder = await open(data); // a server holding the directory does not stop a repin
    try {
      await expect(
        prepareRepin(data, file('nope.json', descriptor('nope', { kind: 'function', ref: 'builtin.echo' }))),
      ).rejects.toMatchObject({
        code: 'TOOL_NOT_REGISTERED',
      });
      const same = await prepareRepin(data, path, { wasm: join(ASSETS, 'echo.wat') });
      expect(same.unchanged).toBe(true);
      const before = snapshot(dir);
      const refused: [string, Parameters<typeof prepareRepin>[2], string][] = [
        ['rp-bad-schema.json', { wasm: join(ASSETS, 'echo.wat') }, 'INVALID_INPUT'],
        [
          'rp-bad-module.json',
          { wasm: file('imp2.wat', '(module (import "env" "x" (func)) (func (export "_start")))') },
          'INVALID_INPUT',
        ],
        ['rp-bad-builtin.json', {}, 'INVALID_INPUT'],
      ];
      const variants: Record<string, unknown> = {
        'rp-bad-schema.json': descriptor(
          'rp',
          { kind: 'sandbox', ref: 'x' },
          { input_schema: { type: 'nope' } },
        ),
        'rp-bad-module.json': descriptor('rp', { kind: 'sandbox', ref: 'x' }),
        'rp-bad-builtin.json': descriptor('rp', { kind: 'function', ref: 'no.such' }),
      };
      for (const [name, sources, code] of refused) {
        await expect(prepareRepin(data, file(name, variants[name]), sources), name).rejects.toMatchObject({
          code,
        });
        expect(snapshot(dir), name).toEqual(before);
      }
      const spin = await prepareRepin(
        data,
        file('rp-spin.json', descriptor('rp', { kind: 'sandbox', ref: 'x' }, { description: 'spins' })),
        {
          wasm: join(ASSETS, 'spin.wat'),
        },
      );
      expect(spin.unchanged).toBe(false);
      expect(spin.previous_digest).toBe(same.descriptor_digest);
      const ref = (spin.descriptor.driver as { ref: string }).ref;
      expect(existsSync(join(dir, 'modules', `${ref.slice(7)}.wasm`))).toBe(true);
      // The registered descriptor is untouched until a governance event applies the change.
      expect(listTools(data).find((t) => t.name === 'rp')?.descriptor_digest).toBe(same.descriptor_digest);
    } finally {
      await holder.close();
      data.close();
    }
  });
});

describe('WebAssembly text is compiled with wabt', () => {
  it('echo.wat registers and runs like the committed echo.wasm', async () => {
    const { data } = home();
    const wat = await readModuleSource(join(ASSETS, 'echo.wat'));
    const wasm = await readModuleSource(join(ASSETS, 'echo.wasm'));
    expect(wat.fromWat).toBe(true);
    expect(wasm.fromWat).toBe(false);
    const r = await registerTool(data, file('we.json', descriptor('we', { kind: 'sandbox', ref: 'x' })), {
      wasm: join(ASSETS, 'echo.wat'),
    });
    expect(r.compiled_from_wat).toBe(true);
    const result = await run(data, 'we', { hello: 'wat' });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ hello: 'wat' });
    data.close();
  });

  it('an error names the line and column, and the hint says what is accepted', async () => {
    const error = await compileWat(
      new TextEncoder().encode('(module\n  (func (result i32)\n    i32.add))'),
      'x.wat',
    )
      .then(() => undefined)
      .catch((e: unknown) => e as { code: string; message: string; hint: string });
    expect(error?.code).toBe('WAT_INVALID');
    expect(error?.message).toMatch(/x\.wat:3:5/);
    expect(error?.hint).toMatch(/wat2wasm/);
  });

  it('a missing module file is FILE_NOT_FOUND', async () => {
    await expect(readModuleSource(join(root, 'nope.wat'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('I-PLUGIN-1: plugin tools run exactly the pinned bytes', () => {
  const marker = (name: string) => join(root, `ran-${name}`);
  /** A plugin that leaves a marker file when its module body runs, and echoes with a tag. */
  const plugin = (name: string, tag: string) =>
    file(
      `${name}.mjs`,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker(name))}, ${JSON.stringify(tag)});\nexport default async function (args, context) { return { tag: ${JSON.stringify(tag)}, args, tool: context.tool }; }\n`,
    );

  it('registers (signed record, digest in driver.ref), runs, and re-executes byte-identically', async () => {
    const { dir, data } = home();
    const path = plugin('good', 'v1');
    const r = await registerTool(data, file('pg.json', descriptor('pg', { kind: 'function', ref: 'x' })), {
      plugin: path,
    });
    const bytes = readFileSync(path);
    const expected = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    expect(r.descriptor.driver).toMatchObject({ kind: 'plugin', ref: expected });
    expect(readdirSync(join(dir, 'plugins'))).toEqual([`${expected.slice(7)}.json`]);
    expect(listTools(data).find((t) => t.name === 'pg')?.plugin_path).toBe(path);
    const result = await run(data, 'pg', { a: 1 });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ tag: 'v1', args: { a: 1 }, tool: 'pg' });
    const re = await reexecute(data);
    expect(re.ok).toBe(true);
    data.close();
  });

  it('a plugin file changed after registration is out of service at open; the changed code never runs', async () => {
    const { data } = home();
    const path = plugin('changed', 'original');
    await registerTool(data, file('pc.json', descriptor('pc', { kind: 'plugin', ref: 'x' })), {
      plugin: path,
    });
    rmSync(marker('changed'), { force: true });
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('original', 'evil'));
    await refusedTool(data, 'pc', {
      code: 'PLUGIN_PIN_MISMATCH',
      message: /changed since it was registered/,
    });
    expect(existsSync(marker('changed'))).toBe(false);
    rmSync(path);
    await refusedTool(data, 'pc', { code: 'PLUGIN_PIN_MISMATCH', message: /is missing/ });
    data.close();
  });

  it('a data-directory writer cannot register a plugin: forged, foreign-signed or re-aimed records run nothing', async () => {
    const { dir, data } = home();
    // The attacker's module and a descriptor pointing at it, written straight into the directory.
    const evil = plugin('evil', 'evil');
    const hex = createHash('sha256').update(readFileSync(evil)).digest('hex');
    data.writeTool(descriptor('sneaky', { kind: 'plugin', ref: `sha256:${hex}` }));
    const registry = data.registry();
    const body = { type: 'helm.cli.plugin.v1', digest: `sha256:${hex}`, path: evil, trust_seq: registry.seq };
    const records: [string, unknown][] = [
      ['no record', undefined],
      [
        'an unsigned record',
        {
          type: 'helm.cli.plugin.v1',
          payload: toBase64Url(Buffer.from(JSON.stringify(body))),
          signatures: [],
        },
      ],
      ['a record signed by an approver key', signEnvelope(body, [data.signer('approver-1', 'approver')])],
      ['a record signed by the executor key', signEnvelope(body, [data.signer('executor', 'executor')])],
      [
        'a record claiming a seq before its key existed',
        signEnvelope({ ...body, trust_seq: 0 }, [data.signer('policy', 'policy')]),
      ],
      [
        'a record claiming a future seq',
        signEnvelope({ ...body, trust_seq: registry.seq + 5 }, [data.signer('policy', 'policy')]),
      ],
      ['a relative path', signEnvelope({ ...body, path: 'evil.mjs' }, [data.signer('policy', 'policy')])],
    ];
    const write = (record: unknown) => {
      rmSync(join(dir, 'plugins'), { recursive: true, force: true });
      if (record === undefined) return;
      mkdirSync(join(dir, 'plugins'));
      writeFileSync(join(dir, 'plugins', `${hex}.json`), JSON.stringify(record));
    };
    for (const [what, record] of records) {
      write(record);
      await refusedTool(data, 'sneaky', { code: 'PLUGIN_PIN_MISMATCH' });
      expect(existsSync(marker('evil')), what).toBe(false);
    }
    // A genuine, policy-signed record of ANOTHER plugin, copied under this digest, names the other one.
    rmSync(join(dir, 'tools', 'sneaky.json'));
    write(undefined);
    const honest = plugin('honest', 'honest');
    const reg = await registerTool(data, file('ph.json', descriptor('ph', { kind: 'plugin', ref: 'x' })), {
      plugin: honest,
    });
    const honestRecord = readFileSync(join(dir, 'plugins', `${reg.plugin?.digest.slice(7)}.json`), 'utf8');
    data.writeTool(descriptor('sneaky', { kind: 'plugin', ref: `sha256:${hex}` }));
    writeFileSync(join(dir, 'plugins', `${hex}.json`), honestRecord);
    await refusedTool(data, 'sneaky', { code: 'PLUGIN_PIN_MISMATCH' });
    expect(existsSync(marker('evil'))).toBe(false);
    data.close();
  });

  it('a registration survives a rotation of the policy key and is refused once its key is revoked', async () => {
    const { createSigner } = await import('@helm/crypto');
    const { pluginPath } = await import('../src/internal/plugin.ts');
    const { data } = home();
    const path = plugin('keys', 'k');
    const reg = await registerTool(data, file('pk.json', descriptor('pk', { kind: 'plugin', ref: 'x' })), {
      plugin: path,
    });
    const ref = reg.plugin?.digest as string;
    const registry = data.registry();
    const roots = data.rootSigners(registry);
    const policyKey = data.localKey('policy').signer;
    const successor = createSigner(new Uint8Array(32).fill(7));
    data.appendTrustEvent(
      registry,
      commitTrustEvent(
        registry,
        { kind: 'key_rotate', keyid: policyKey.keyId, newPublicKey: successor.publicKey },
        [...roots, successor],
      ),
    );
    expect(pluginPath(data, ref, registry)).toBe(path);
    data.appendTrustEvent(
      registry,
      commitTrustEvent(registry, { kind: 'key_revoke', keyid: successor.keyId }, roots),
    );
    expect(pluginPath(data, ref, registry)).toBe(path); // signed by the rotated-out key, not the revoked one
    // A record signed by the (now revoked) successor is refused, whatever seq it names.
    const hex = ref.slice('sha256:'.length);
    const { signEnvelope: sign } = await import('@helm/crypto');
    const forged = sign({ type: 'helm.cli.plugin.v1', digest: ref, path, trust_seq: registry.seq - 1 }, [
      successor,
    ]);
    writeFileSync(join(data.dir, 'plugins', `${hex}.json`), JSON.stringify(forged));
    expect(() => pluginPath(data, ref, registry)).toThrow(/revoked/);
    data.close();
  });

  it('a plugin is loaded from the verified bytes, never re-read from the file', async () => {
    const { PluginHost } = await import('../src/internal/plugin.ts');
    // The file on disk says "on-disk"; the bytes that were checked say "checked".
    const path = plugin('race', 'on-disk');
    const checked = Buffer.from(readFileSync(path, 'utf8').replaceAll('on-disk', 'checked'));
    const hex = createHash('sha256').update(checked).digest('hex');
    const host = await PluginHost.load(path, new Uint8Array(checked), hex);
    try {
      const context = {
        descriptor: { name: 'race' },
        decision_id: 'd',
        effect: {},
        signal: new AbortController().signal,
      };
      expect(await host.invoke({}, context as never)).toMatchObject({ tag: 'checked' });
    } finally {
      await host.close();
    }
  });

  it('a module without a default export function is PLUGIN_INVALID at registration; nothing is written', async () => {
    const { dir, data } = home();
    const before = snapshot(dir);
    for (const [name, source] of [
      ['nodefault', 'export const run = () => ({});'],
      ['notfn', 'export default { run() {} };'],
      ['syntax', 'export default function ( {'],
      ['throws', 'throw new Error("boom at load");'],
      ['latin1', Buffer.from([0x65, 0x78, 0xff, 0xfe])],
    ] as const) {
      const path = join(root, `${name}.mjs`);
      writeFileSync(path, source);
      await expect(
        registerTool(data, file(`${name}.json`, descriptor(name, { kind: 'plugin', ref: 'x' })), {
          plugin: path,
        }),
        name,
      ).rejects.toMatchObject({ code: 'PLUGIN_INVALID' });
      expect(snapshot(dir), name).toEqual(before);
    }
    await expect(
      registerTool(data, file('missing.json', descriptor('m', { kind: 'plugin', ref: 'x' })), {
        plugin: join(root, 'no-such.mjs'),
      }),
    ).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    data.close();
  });

  it('what a plugin throws or returns is governed like any driver: receipted FAILED, output checked', async () => {
    const { data } = home();
    const cases = [
      [
        'thrower',
        'export default () => { throw new Error("upstream said no"); };',
        'DRIVER_ERROR',
        /upstream said no/,
      ],
      ['nonjson', 'export default () => ({ n: NaN });', 'DRIVER_ERROR', /not JSON/],
      ['drift', 'export default () => ["not", "an", "object"];', 'ERR_CONNECTOR_CONTRACT_DRIFT', /./],
    ] as const;
    for (const [name, source, code, message] of cases) {
      await registerTool(data, file(`${name}.json`, descriptor(name, { kind: 'plugin', ref: 'x' })), {
        plugin: file(`${name}.mjs`, source),
      });
      const r = await run(data, name, {});
      expect(r.status, name).toBe('FAILED');
      expect(r.reason_code, name).toBe(code);
      expect(r.message, name).toMatch(message);
      expect(r.receipt_hash, name).toMatch(/^sha256:/);
    }
    data.close();
  });
});

describe('a plugin that does not stop is stopped at its deadline', () => {
  it('an endless loop is DRIVER_TIMEOUT (FAILED, receipted); the next call gets a fresh worker', async () => {
    const { data } = home();
    await registerTool(
      data,
      file('spin.json', descriptor('spin', { kind: 'plugin', ref: 'x', timeout_ms: 2_000 })),
      {
        plugin: file(
          'spin.mjs',
          'let calls = 0;\nexport default (args) => { calls += 1; if (args.spin) for (;;) {} return { calls }; };\n',
        ),
      },
    );
    const rt = await open(data);
    try {
      const call = (args: unknown) =>
        rt.execute({
          tool: 'spin',
          principal: 'local',
          args: args as never,
          context: {
            environment_fingerprint: data.config().environment_fingerprint,
            credential_id: 'cred-local',
          },
        });
      // A deadline a cold worker start on a loaded machine cannot miss; the loop still hits it.
      expect((await call({ spin: false })).output).toEqual({ calls: 1 });
      const spun = await call({ spin: true });
      expect(spun).toMatchObject({ status: 'FAILED', reason_code: 'DRIVER_TIMEOUT' });
      expect(spun.receipt_hash).toMatch(/^sha256:/);
      // The looping worker was terminated: a new one (module state starts over) answers.
      expect((await call({ spin: false })).output).toEqual({ calls: 1 });
    } finally {
      await rt.close();
    }
    data.close();
  });
});

describe('results name the policy rule (explain.ts)', () => {
  it('ALLOW and POLICY_DENY name their rule; a stage before policy names none', async () => {
    const dir = join(root, 'rules');
    const { data } = initDataDir(dir, {
      bundle: {
        type: 'helm.policy.bundle.v1',
        name: 'r',
        version: 1,
        rules: [
          { id: 'no-shout', effect: 'deny', when: { tool: { eq: 'shout' } } },
          { id: 'echo-ok', effect: 'allow', when: { tool: { in: ['echo', 'shout'] } } },
        ],
      },
    });
    await registerTool(data, file('re.json', descriptor('echo', { kind: 'function', ref: 'builtin.echo' })));
    await registerTool(data, file('rs.json', descriptor('shout', { kind: 'function', ref: 'builtin.echo' })));
    const allowed = await run(data, 'echo', { a: 1 });
    expect(allowed).toMatchObject({ status: 'SUCCEEDED', rule: 'echo-ok' });
    const denied = await run(data, 'shout', { a: 1 });
    expect(denied).toMatchObject({ status: 'DENIED', reason_code: 'POLICY_DENY', rule: 'no-shout' });
    const rt = await open(data);
    try {
      const unbound = await rt.execute({
        tool: 'echo',
        principal: 'local',
        args: {},
        context: { environment_fingerprint: data.config().environment_fingerprint, credential_id: 'nope' },
      });
      expect(unbound).toMatchObject({ reason_code: 'GATE_IDENTITY_ISOLATION', rule: null });
    } finally {
      await rt.close();
    }
    data.close();
  });
});
