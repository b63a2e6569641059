// I-SANDBOX-7 — a WASI preview2 component reaches only the deny-by-default preview2 host: jco's
// transpiled output (glue and core modules) is pinned by digest at `tool register --component`
// and re-generated and checked against the pin at every runtime open (a mismatch refuses the tool);
// a component importing wasi:filesystem, wasi:sockets or wasi:http is refused at registration
// with nothing written.
//
// The components are real: built in beforeAll from WAT and WIT (test/fixtures/components) with
// jco's own wasm-tools (componentEmbed + componentNew), then driven through the `helm` command line
// in-process, from the attacker's side where it matters (a data-directory writer).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalBytes, digest } from '@helm/crypto';
import { envelopeBody } from '@helm/evidencepack';
import { DataDir } from '@helm/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildComponent, type TestWorld } from '../../../../packages/runtime/test/component-builder.ts';
import { initCommand, policySign } from '../../src/commands/index.ts';
import { runCli, snapshotTree, tempRoot } from '../helpers.ts';

const base = tempRoot('helm-adv-sandbox7-');
const home = join(base, 'home');
const wasm = (name: string): string => join(base, `${name}.wasm`);
const desc = (name: string): string => join(base, `${name}.json`);
const modules = (file: string): string => join(home, 'modules', file);
const hex = (d: string): string => d.slice('sha256:'.length);

/** The tool: upper-cases `text`. Named `echo`, which the default policy lets `local` call. */
const UPPER_TOOL = {
  type: 'helm.tool.v1',
  name: 'echo',
  description: 'upper-cases its input (a WASI preview2 component)',
  input_schema: {
    type: 'object',
    properties: { text: { type: 'string', pattern: '^[a-z ]*$' } },
    required: ['text'],
    additionalProperties: false,
  },
  output_schema: {
    type: 'object',
    properties: { TEXT: { type: 'string' } },
    required: ['TEXT'],
    additionalProperties: false,
  },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'echo',
  driver: { kind: 'sandbox', ref: 'set-by-register', timeout_ms: 5000 },
};

const register = (descriptor: string, component: string) =>
  runCli(['--data-dir', home, 'tool', 'register', descriptor, '--component', component, '--json']);
const run = (text: string, tool = 'echo') =>
  runCli([
    '--data-dir',
    home,
    'run',
    '--tool',
    tool,
    '--principal',
    'local',
    '--args',
    JSON.stringify({ text }),
    '--json',
  ]);

function receiptCount(): number {
  const data = new DataDir(home);
  try {
    return data.store.receiptsSync().length;
  } finally {
    data.close();
  }
}

interface Pin {
  component: string;
  transpiler: { name: string; version: string; options: Record<string, unknown> };
  imports: string[];
  transpiled: string;
  glue: string;
  core_modules: Record<string, string>;
}

let upper: Uint8Array;
let pinFile: string;
const readPin = (): Pin => JSON.parse(readFileSync(pinFile, 'utf8')) as Pin;
const writePin = (pin: Pin): void => writeFileSync(pinFile, JSON.stringify(pin, null, 2));

beforeAll(async () => {
  const started = performance.now();
  const worlds: TestWorld[] = ['upper', 'files', 'sockets', 'http', 'library'];
  for (const world of worlds) writeFileSync(wasm(world), await buildComponent(world));
  // Fine for jco, refused by the sandbox: a core memory of 2000 pages (the cap is 1024).
  writeFileSync(
    wasm('huge-memory'),
    await buildComponent('upper', (wat) =>
      wat.replace('(memory (export "memory") 2)', '(memory (export "memory") 2000)'),
    ),
  );
  // The same tool with 3 pages of memory: other bytes, so no pin of its own until registered.
  writeFileSync(
    wasm('unpinned'),
    await buildComponent('upper', (wat) =>
      wat.replace('(memory (export "memory") 2)', '(memory (export "memory") 3)'),
    ),
  );
  upper = new Uint8Array(readFileSync(wasm('upper')));
  pinFile = modules(`${hex(digest(upper))}.jco.json`);
  writeFileSync(desc('upper'), JSON.stringify(UPPER_TOOL));
  for (const world of ['files', 'sockets', 'http', 'library', 'huge-memory'])
    writeFileSync(desc(world), JSON.stringify({ ...UPPER_TOOL, name: world }));
  initCommand(home);
  // The default policy allows only `echo`; the drift case below runs as `echo-strict`.
  const bundle = join(base, 'bundle.json');
  writeFileSync(
    bundle,
    JSON.stringify({
      type: 'helm.policy.bundle.v1',
      name: 'components',
      version: 2,
      rules: [
        {
          id: 'local-echo',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { in: ['echo', 'echo-strict'] } },
        },
      ],
    }),
  );
  const data = new DataDir(home);
  expect(policySign(data, bundle).exitCode).toBe(0);
  data.close();
  console.info(`I-SANDBOX-7: built 7 components with jco in ${Math.round(performance.now() - started)} ms`);
});

describe('I-SANDBOX-7: a component runs through helm only as jco output pinned by digest', () => {
  it('registers a component built from WAT/WIT, pins its jco output by digest and runs it end to end', async () => {
    // First with an output schema the tool cannot meet (another tool name: a registered tool is
    // never replaced by a registration, I-TOOL-1): the output is validated, not released.
    const strict = join(base, 'strict.json');
    writeFileSync(
      strict,
      JSON.stringify({
        ...UPPER_TOOL,
        name: 'echo-strict',
        output_schema: {
          ...UPPER_TOOL.output_schema,
          properties: { TEXT: { type: 'string', maxLength: 3 } },
        },
      }),
    );
    expect((await register(strict, wasm('upper'))).code).toBe(0);
    const drift = await run('hello world', 'echo-strict');
    expect(drift.code).toBe(1);
    expect(drift.json).toMatchObject({
      status: 'FAILED',
      reason_code: 'ERR_CONNECTOR_CONTRACT_DRIFT',
      output: null,
    });

    const reg = await register(desc('upper'), wasm('upper'));
    expect(reg.code, reg.out).toBe(0);
    const component = reg.json?.component as { digest: string; transpiled: string; transpiler: string };
    expect(component).toMatchObject({
      digest: digest(upper),
      transpiler: '@bytecodealliance/jco-transpile@0.15.0',
      imports: ['wasi:cli/stdin', 'wasi:cli/stdout', 'wasi:io/error', 'wasi:io/streams'],
    });
    expect(reg.json?.driver).toMatchObject({ kind: 'sandbox', ref: digest(upper) });

    // The component and every artifact are stored by content digest; the pin covers them all.
    expect(digest(new Uint8Array(readFileSync(modules(`${hex(digest(upper))}.wasm`))))).toBe(digest(upper));
    const pin = readPin();
    expect(pin).toMatchObject({ component: digest(upper), transpiled: component.transpiled });
    expect(pin.transpiler.options).toMatchObject({ instantiation: { tag: 'sync' }, base64Cutoff: 0 });
    expect(digest(new Uint8Array(readFileSync(modules(`${hex(pin.glue)}.js`))))).toBe(pin.glue);
    expect(Object.keys(pin.core_modules).length).toBeGreaterThan(0);
    for (const d of Object.values(pin.core_modules))
      expect(digest(new Uint8Array(readFileSync(modules(`${hex(d)}.wasm`))))).toBe(d);
    expect(
      digest(
        canonicalBytes({ type: 'helm.cli.jco-output.v1', glue: pin.glue, core_modules: pin.core_modules }),
      ),
    ).toBe(pin.transpiled);

    // Input outside the schema never reaches the component.
    const schema = await run('Hello');
    expect(schema.json).toMatchObject({ status: 'DENIED', reason_code: 'SCHEMA_VIOLATION' });

    const before = receiptCount();
    const ok = await run('hello world');
    expect(ok.code, ok.out).toBe(0);
    expect(ok.json).toMatchObject({ status: 'SUCCEEDED', output: { TEXT: 'HELLO WORLD' } });
    expect(receiptCount()).toBe(before + 1);
    const data = new DataDir(home);
    try {
      const last = data.store.receiptsSync().at(-1);
      const body = envelopeBody<{ status: string; output_hash: string; tool: string }>(
        last?.envelope as never,
      );
      expect(body).toMatchObject({
        status: 'SUCCEEDED',
        tool: 'echo',
        output_hash: digest(canonicalBytes({ TEXT: 'HELLO WORLD' })),
      });
      expect(last?.hash).toBe(ok.json?.receipt_hash);
    } finally {
      data.close();
    }

    // The chain, component included, exports and verifies offline.
    const pack = join(base, 'pack.tar');
    expect((await runCli(['--data-dir', home, 'export', '-o', pack, '--json'])).code).toBe(0);
    const anchor = new DataDir(home).config().trust_anchor;
    const verified = await runCli(['verify', pack, '--trust-anchor', anchor, '--json']);
    expect(verified.code, verified.out).toBe(0);
  });

  it.each([
    ['wasi:filesystem', 'files', 'wasi:filesystem/preopens', 'file system'],
    ['wasi:sockets', 'sockets', 'wasi:sockets/instance-network', 'network sockets'],
    ['wasi:http', 'http', 'wasi:http/types', 'HTTP'],
  ])(
    'refuses a component importing %s at tool register; nothing is written',
    async (_family, world, imported, what) => {
      const before = snapshotTree(home);
      const r = await register(desc(world), wasm(world));
      expect(r.code).toBe(2);
      expect(r.json).toMatchObject({
        ok: false,
        error: {
          code: 'COMPONENT_IMPORT_DENIED',
          message: expect.stringContaining(imported),
          hint: expect.stringContaining('never wasi:filesystem, wasi:sockets or wasi:http'),
        },
      });
      expect(JSON.stringify(r.json?.error)).toContain(`(${what}`);
      expect(snapshotTree(home)).toEqual(before);
    },
  );

  it.each([
    [
      'the pinned transpiled digest',
      'transpiled',
      () => {
        const pin = readPin();
        writePin({ ...pin, transpiled: `sha256:${pin.transpiled.slice(7).split('').reverse().join('')}` });
      },
    ],
    [
      'the pinned jco version',
      'pinned with @bytecodealliance/jco-transpile@0.14.0',
      () => {
        const pin = readPin();
        writePin({ ...pin, transpiler: { ...pin.transpiler, version: '0.14.0' } });
      },
    ],
    ['the pinned imports', 'imports', () => writePin({ ...readPin(), imports: ['wasi:cli/stdin'] })],
    ['the pin itself (removed)', 'has no pin', () => rmSync(pinFile)],
    ['the pin itself (not an object)', 'is not an object', () => writeFileSync(pinFile, '[]')],
    [
      'a stored core module',
      'stored artifact',
      () => {
        const [first] = Object.values(readPin().core_modules);
        const file = modules(`${hex(first as string)}.wasm`);
        writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from([0])]));
      },
    ],
  ])(
    'refuses the tool at the next helmts run when %s was tampered in the data dir',
    async (_what, message, tamper) => {
      const saved = snapshotFiles();
      tamper();
      const receipts = receiptCount();
      const r = await run('hello');
      expect(r.code).toBe(2);
      expect(r.json).toMatchObject({
        ok: false,
        error: {
          code: 'COMPONENT_PIN_MISMATCH',
          message: expect.stringContaining(message),
          hint: expect.stringContaining('--component'),
        },
      });
      expect(receiptCount()).toBe(receipts);
      saved.restore();
      expect((await run('hello')).json).toMatchObject({ status: 'SUCCEEDED', output: { TEXT: 'HELLO' } });
    },
  );

  it('registering the same component again repairs a tampered pin; the tool itself is unchanged', async () => {
    writePin({ ...readPin(), imports: ['wasi:cli/stdin'] });
    expect((await run('hello')).json).toMatchObject({ error: { code: 'COMPONENT_PIN_MISMATCH' } });
    const again = await register(desc('upper'), wasm('upper'));
    expect(again.code, again.out).toBe(0);
    expect(again.json).toMatchObject({ unchanged: true });
    expect((await run('hello')).json).toMatchObject({ status: 'SUCCEEDED', output: { TEXT: 'HELLO' } });
  });

  it('never loads glue from the data dir: a rewritten glue with a pin recomputed to match is refused and never runs', async () => {
    const saved = snapshotFiles();
    const pin = readPin();
    const marker = join(base, 'planted-glue-ran');
    const glue = Buffer.concat([
      readFileSync(modules(`${hex(pin.glue)}.js`)),
      Buffer.from(
        `\nglobalThis.process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(marker)}, 'pwned');\n`,
      ),
    ]);
    const planted = digest(new Uint8Array(glue));
    writeFileSync(modules(`${hex(planted)}.js`), glue);
    writePin({
      ...pin,
      glue: planted,
      transpiled: digest(
        canonicalBytes({ type: 'helm.cli.jco-output.v1', glue: planted, core_modules: pin.core_modules }),
      ),
    });
    const r = await run('hello');
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ error: { code: 'COMPONENT_PIN_MISMATCH' } });
    expect(existsSync(marker)).toBe(false);
    saved.restore();
    rmSync(modules(`${hex(planted)}.js`));
  });

  it('refuses what is not a WASI command component, and what the sandbox refuses, before writing anything', async () => {
    const before = snapshotTree(home);
    const garbage = join(base, 'garbage.wasm');
    writeFileSync(garbage, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0xff, 0xff]));
    const coreModule = new URL('../../assets/wasm/echo.wasm', import.meta.url).pathname;
    const cases: [string, string, string][] = [
      [coreModule, 'COMPONENT_INVALID', 'not a WebAssembly component'],
      [garbage, 'COMPONENT_INVALID', 'jco could not transpile'],
      [wasm('library'), 'COMPONENT_INVALID', 'does not export wasi:cli/run'],
      [wasm('huge-memory'), 'COMPONENT_INVALID', 'the sandbox refused the component (SANDBOX_INVALID_MODULE'],
      [join(base, 'missing.wasm'), 'FILE_NOT_FOUND', 'no such component'],
    ];
    for (const [file, code, message] of cases) {
      const r = await register(desc('library'), file);
      expect(r.code, file).toBe(2);
      expect(r.json, file).toMatchObject({ error: { code, message: expect.stringContaining(message) } });
    }
    const both = await runCli([
      '--data-dir',
      home,
      'tool',
      'register',
      desc('library'),
      '--wasm',
      coreModule,
      '--component',
      wasm('upper'),
      '--json',
    ]);
    expect(both.json).toMatchObject({ error: { code: 'USAGE' } });
    expect(snapshotTree(home)).toEqual(before);
  });

  it('refuses a component registered with --wasm (no pin): the tool is not registered', async () => {
    const r = await runCli([
      '--data-dir',
      home,
      'tool',
      'register',
      desc('sockets'),
      '--wasm',
      wasm('unpinned'),
      '--json',
    ]);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({
      error: { code: 'COMPONENT_PIN_MISMATCH', message: expect.stringContaining('has no pin') },
    });
    expect(existsSync(join(home, 'tools', 'sockets.json'))).toBe(false);
  });
});

/** The pin and every artifact it names, to be put back after a tamper. */
function snapshotFiles(): { restore(): void } {
  const pin = readPin();
  const files = [
    pinFile,
    modules(`${hex(pin.glue)}.js`),
    ...Object.values(pin.core_modules).map((d) => modules(`${hex(d)}.wasm`)),
  ];
  const saved = files.map((f) => [f, readFileSync(f)] as const);
  return {
    restore() {
      for (const [f, bytes] of saved) writeFileSync(f, bytes);
    },
  };
}
