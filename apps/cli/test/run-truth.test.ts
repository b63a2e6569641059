// `helmts run` tells the truth about what happened (issue #17 §3), through the built CLI in
// separate processes: a FAILED call after the tool ran never says it was not executed, a driver
// error carries its cause (connection refused), and --json carries stage, rule and message.
// `replay --reexecute` reports a divergence field by field.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, spawnHelmts } from './cli-process.ts';
import { ECHO_TOOL, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-truth-');
const dir = join(root, 'home');
const helmts = (...args: string[]) => spawnHelmts(['-d', dir, ...args], { cwd: root });
const file = (name: string, value: unknown): string => {
  const path = join(root, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};

/** A local port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const BUNDLE = (rules: unknown[]) => ({ type: 'helm.policy.bundle.v1', name: 'truth', version: 2, rules });

beforeAll(async () => {
  expect((await helmts('init')).code).toBe(0);
  const port = await closedPort();
  const data = new DataDir(dir);
  data.writeConfig({
    ...data.config(),
    egress: [{ hosts: ['localhost'], protocols: ['http'], max_payload_bytes: 4096 }],
  });
  data.close();
  expect((await helmts('tool', 'register', file('echo.json', ECHO_TOOL))).code).toBe(0);
  const unlisted = { ...ECHO_TOOL, name: 'unlisted' };
  expect((await helmts('tool', 'register', file('unlisted.json', unlisted))).code).toBe(0);
  const fetchTool = {
    ...ECHO_TOOL,
    name: 'fetch',
    effect_type: 'net.egress',
    destination: `http://localhost:${port}`,
    driver: { kind: 'http', ref: `http://localhost:${port}/x`, timeout_ms: 10_000 },
  };
  expect((await helmts('tool', 'register', file('fetch.json', fetchTool))).code).toBe(0);
  const wasm = { ...ECHO_TOOL, name: 'wat-echo', input_schema: { type: 'object' } };
  const wat = await helmts(
    'tool',
    'register',
    file('wat.json', wasm),
    '--wasm',
    join(REPO, 'apps/cli/assets/wasm/echo.wat'),
  );
  expect(wat.code).toBe(0);
  expect(wat.stdout).toContain('module compiled from WebAssembly text with wabt');
  const bundle = BUNDLE([
    {
      id: 'local-echo',
      effect: 'allow',
      when: { principal: { eq: 'local' }, tool: { in: ['echo', 'wat-echo'] } },
    },
    { id: 'allow-fetch', effect: 'allow', when: { principal: { eq: 'local' }, tool: { eq: 'fetch' } } },
  ]);
  expect((await helmts('policy', 'sign', file('bundle.json', bundle))).code).toBe(0);
}, 120_000);

describe('helmts run reports what happened (separate processes)', () => {
  it('FAILED after the tool ran: "was invoked", never "not executed"; DRIVER_ERROR names the cause', async () => {
    const human = await helmts('run', '--tool', 'fetch', '--principal', 'local', '--args', '{"x":1}');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      /^FAILED DRIVER_ERROR \(driver, rule allow-fetch\): the driver failed: request failed: connection refused \(connect ECONNREFUSED /,
    );
    expect(human.stdout).toContain('The tool was invoked and did not succeed: its effect may have happened.');
    expect(human.stdout).not.toMatch(/not (been )?executed|did not run/);
    expect(human.stdout).toMatch(/^receipt sha256:[0-9a-f]{64} committed to /m);

    const json = await helmts(
      'run',
      '--tool',
      'fetch',
      '--principal',
      'local',
      '--args',
      '{"x":2}',
      '--json',
    );
    expect(json.code).toBe(1);
    expect(json.json).toMatchObject({
      ok: false,
      status: 'FAILED',
      reason_code: 'DRIVER_ERROR',
      stage: 'driver',
      rule: 'allow-fetch',
      driver_invoked: true,
      message: expect.stringContaining('connection refused'),
    });
  });

  it('DENIED: the tool did not run; the stage and an actionable hint are named', async () => {
    const r = await helmts(
      'run',
      '--tool',
      'unlisted',
      '--principal',
      'local',
      '--args',
      '{"x":1}',
      '--json',
    );
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({
      status: 'DENIED',
      reason_code: 'NO_POLICY',
      stage: 'guardian.policy',
      rule: null,
      driver_invoked: false,
      message: expect.stringMatching(/./),
      hint: expect.stringContaining('helmts policy sign'),
    });
    const unknown = await helmts('run', '--tool', 'nope', '--principal', 'local');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/^DENIED TOOL_UNKNOWN \(surface\): /);
    expect(unknown.stdout).toContain('The tool did not run.');
    expect(unknown.stdout).toContain('hint: no tool nope is registered');
    // Arguments that are not strict JSON are refused by the executor's PEP, with the JSON hint.
    const malformed = await helmts(
      'run',
      '--tool',
      'echo',
      '--principal',
      'local',
      '--args',
      '{"x":1,"x":2}',
    );
    expect(malformed.code).toBe(1);
    expect(malformed.stdout).toMatch(/^DENIED ARGS_MALFORMED \(pep\.args\): /);
    expect(malformed.stdout).toContain('hint: --args must be strict JSON');
  });

  it('SUCCEEDED names the allowing rule; a WAT-compiled sandbox tool runs', async () => {
    const r = await helmts('run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":3}', '--json');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'released',
      rule: 'local-echo',
      driver_invoked: true,
      output: { x: 3 },
    });
    const w = await helmts('run', '--tool', 'wat-echo', '--principal', 'local', '--args', '{"from":"wat"}');
    expect(w.code).toBe(0);
    expect(w.stdout).toContain('output: {"from":"wat"}');
  });

  it('replay --reexecute prints the fields that diverge, not whole receipts', async () => {
    // Re-signing the policy without the echo rule makes the recorded ALLOWs replay as denials.
    const narrowed = BUNDLE([
      { id: 'allow-fetch', effect: 'allow', when: { principal: { eq: 'local' }, tool: { eq: 'fetch' } } },
    ]);
    expect((await helmts('policy', 'sign', file('narrow.json', narrowed))).code).toBe(0);
    const human = await helmts('replay', '--reexecute');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^re-execution: \d+ divergence\(s\) in \d+ calls/);
    expect(human.stdout).toMatch(/^ {2}Lamport \d+ receipt:$/m);
    expect(human.stdout).toContain('/reason_code: recorded "ALLOW" → replayed "NO_POLICY"');
    expect(human.stdout).toContain('/status: recorded "SUCCEEDED" → replayed "DENIED"');
    // No line carries a whole receipt body.
    expect(human.stdout).not.toMatch(/\{"args_hash"/);
    const json = await helmts('replay', '--reexecute', '--json');
    const divergences = (json.json as { reexecution: { divergences: { differences: { path: string }[] }[] } })
      .reexecution.divergences;
    expect(divergences.length).toBeGreaterThan(0);
    for (const d of divergences) {
      expect(d).not.toHaveProperty('recorded');
      expect(d.differences.length).toBeGreaterThan(0);
    }
    expect(divergences.some((d) => d.differences.some((f) => f.path === '/reason_code'))).toBe(true);
  });
});
