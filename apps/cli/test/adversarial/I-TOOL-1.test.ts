// I-TOOL-1 through the built CLI, in separate processes: `helmts tool register` never replaces a
// registered (pinned) descriptor, and a registration that is refused leaves the data directory as
// it was. I-PLUGIN-1: a plugin tool whose file changed after registration runs nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, spawnHelmts } from '../cli-process.ts';
import { ECHO_TOOL, snapshotTree, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-cli-tool-');
const dir = join(root, 'home');
const helmts = (...args: string[]) => spawnHelmts(['-d', dir, ...args], { cwd: root });
const file = (name: string, value: unknown): string => {
  const path = join(root, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};
const WAT = join(REPO, 'apps/cli/assets/wasm/echo.wat');

beforeAll(async () => {
  expect((await helmts('init')).code).toBe(0);
  expect((await helmts('tool', 'register', file('echo.json', ECHO_TOOL))).code).toBe(0);
  const bundle = {
    type: 'helm.policy.bundle.v1',
    name: 'tools',
    version: 2,
    rules: [{ id: 'local-any', effect: 'allow', when: { principal: { eq: 'local' } } }],
  };
  expect((await helmts('policy', 'sign', file('bundle.json', bundle))).code).toBe(0);
}, 60_000);

describe('I-TOOL-1: tool register never replaces a pinned descriptor (separate processes)', () => {
  it('a changed descriptor under a registered name: TOOL_ALREADY_REGISTERED, exit 2, nothing changes', async () => {
    const before = snapshotTree(dir);
    const wider = { ...ECHO_TOOL, input_schema: { type: 'object' }, description: 'anything goes now' };
    const r = await helmts('tool', 'register', file('wider.json', wider), '--json');
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'TOOL_ALREADY_REGISTERED' } });
    expect((r.json as { error: { hint: string } }).error.hint).toContain('helmts tool repin');
    // Swapping the built-in body for a sandbox module under the same name is refused the same way.
    const module = await helmts('tool', 'register', file('swap.json', ECHO_TOOL), '--wasm', WAT);
    expect(module.code).toBe(2);
    expect(module.stderr).toMatch(/^error: tool echo is already registered with descriptor sha256:/);
    expect(snapshotTree(dir)).toEqual(before);
    // The registered tool still behaves as pinned: the wider schema was not installed.
    const call = await helmts(
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"y":"s"}',
      '--json',
    );
    expect(call.json).toMatchObject({ status: 'DENIED', reason_code: 'SCHEMA_VIOLATION' });
  });

  it('the same descriptor again: exit 0, "nothing changed"', async () => {
    const before = snapshotTree(dir);
    const r = await helmts('tool', 'register', file('echo-again.json', ECHO_TOOL));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^echo is already registered with exactly this descriptor .*; nothing changed\./,
    );
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('refused registrations leave no module, descriptor or directory behind', async () => {
    // A registration that gets as far as opening the runtime counts a runtime epoch in helm.db;
    // everything else must be exactly as it was.
    const files = () =>
      Object.fromEntries(Object.entries(snapshotTree(dir)).filter(([path]) => !path.startsWith('/helm.db')));
    const before = files();
    const sandbox = { ...ECHO_TOOL, name: 'w', driver: { kind: 'sandbox', ref: 'x', timeout_ms: 1000 } };
    const bad = [
      ['--wasm', file('bad.wat', '(module (func (result i32) i32.add))'), 'WAT_INVALID'],
      ['--wasm', file('garbage.wasm', '\0asm\x01\0\0\0garbage'), 'INVALID_INPUT'],
      ['--driver', file('nodefault.mjs', 'export const x = 1;'), 'PLUGIN_INVALID'],
    ] as const;
    for (const [flag, path, code] of bad) {
      const r = await helmts('tool', 'register', file('w.json', sandbox), flag, path, '--json');
      expect(r.code, path).toBe(2);
      expect(r.json, path).toMatchObject({ error: { code } });
      expect(files(), path).toEqual(before);
    }
    const wat = await helmts('tool', 'register', file('w.json', sandbox), '--wasm', bad[0][1]);
    expect(wat.stderr).toMatch(/bad\.wat:1:\d+: error: type mismatch/);
    expect(wat.stderr).toMatch(/^hint: give a binary \.wasm module, or WebAssembly text/m);
  });
});

describe('I-PLUGIN-1: a plugin whose file changed runs nothing (separate processes)', () => {
  it('registers, runs in its own process run, and is refused once the file changes', async () => {
    const marker = join(root, 'plugin-ran');
    const plugin = file(
      'word-count.mjs',
      `import { appendFileSync } from 'node:fs';\nexport default (args) => { appendFileSync(${JSON.stringify(marker)}, 'v1\\n'); return { words: String(args.text).split(/\\s+/).length }; };\n`,
    );
    const descriptor = {
      ...ECHO_TOOL,
      name: 'word-count',
      input_schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      driver: { kind: 'plugin', ref: 'set-by-register', timeout_ms: 5000 },
    };
    const reg = await helmts('tool', 'register', file('wc.json', descriptor), '--driver', plugin, '--json');
    expect(reg.code).toBe(0);
    expect(reg.json).toMatchObject({ driver: { kind: 'plugin' }, plugin: { path: plugin } });
    const list = await helmts('tool', 'list');
    expect(list.stdout).toMatch(new RegExp(`word-count\\s+plugin\\s+${plugin.replaceAll('/', '\\/')}`));

    const ok = await helmts(
      'run',
      '--tool',
      'word-count',
      '--principal',
      'local',
      '--args',
      '{"text":"a b c"}',
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('output: {"words":3}');
    expect(readFileSync(marker, 'utf8')).toBe('v1\n');

    // Someone edits the plugin after it was reviewed and registered.
    writeFileSync(plugin, readFileSync(plugin, 'utf8').replace("'v1\\n'", "'v2\\n'"));
    const refused = await helmts(
      'run',
      '--tool',
      'word-count',
      '--principal',
      'local',
      '--args',
      '{"text":"x"}',
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^error: tool word-count: its plugin file .* changed since it was registered/,
    );
    expect(refused.stderr).toContain(
      'hint: restore the registered version, or review it, then `helmts tool repin',
    );
    expect(readFileSync(marker, 'utf8')).toBe('v1\n');
    expect(existsSync(join(dir, 'runtime.lock'))).toBe(false);

    // The reviewed change goes in with `tool repin`: a signed governance event, applied and receipted.
    const repin = await helmts('tool', 'repin', file('wc2.json', descriptor), '--driver', plugin, '--json');
    expect(repin.code, repin.stderr).toBe(0);
    expect(repin.json).toMatchObject({
      name: 'word-count',
      state: 'applied',
      receipt_id: expect.stringMatching(/^sha256:/),
    });
    const v2 = await helmts(
      'run',
      '--tool',
      'word-count',
      '--principal',
      'local',
      '--args',
      '{"text":"a b"}',
    );
    expect(v2.code).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('v1\nv2\n');
  });

  it('tool repin while another process holds the data directory: appended now, applied before its next decision', async () => {
    const { DataDir, GovernedRuntime } = await import('@helm/runtime');
    const data = new DataDir(dir);
    const held = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
    try {
      const changed = { ...ECHO_TOOL, description: 'echo, reviewed again' };
      const r = await helmts('tool', 'repin', file('echo-v2.json', changed), '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ state: 'pending', event: { seq: expect.any(Number) } });
      const before = held.executor.getTool('echo')?.descriptor_digest;
      expect(before).toBe((r.json as { previous_digest: string }).previous_digest);
      const call = await held.execute({
        tool: 'echo',
        principal: 'local',
        args: { x: 1 },
        context: {
          environment_fingerprint: data.config().environment_fingerprint,
          credential_id: 'cred-local',
        },
      });
      expect(call.status).toBe('SUCCEEDED');
      expect(held.executor.getTool('echo')?.descriptor_digest).toBe(
        (r.json as { descriptor_digest: string }).descriptor_digest,
      );
    } finally {
      await held.close();
      data.close();
    }
  });
});
