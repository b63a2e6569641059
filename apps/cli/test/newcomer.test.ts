// The newcomer scenario of issue #17, as a new user would run it from docs/cli.md: every step is a
// separate `helmts` process on one fresh data directory — init, identities, egress, an own WASM tool
// from WAT, an own JS tool, an HTTP tool against a local server, a P1 policy with an approval rule,
// an escalated call approved by two approvers in separate processes and then executed once,
// delegation, key rotations (policy included), export, verify, replay and re-execution.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessRun, spawnHelmts } from './cli-process.ts';
import { tempRoot } from './helpers.ts';

const root = tempRoot('helm-newcomer-');
const home = join(root, 'home');
const echoWat = new URL('../assets/wasm/echo.wat', import.meta.url).pathname;

const helmts = (...args: string[]): Promise<ProcessRun> =>
  spawnHelmts(['--data-dir', home, ...args, '--json']);

async function ok(...args: string[]): Promise<Record<string, unknown>> {
  const run = await helmts(...args);
  expect(run.code, `helmts ${args.join(' ')}\n${run.stdout}${run.stderr}`).toBe(0);
  return run.json ?? {};
}

function file(name: string, value: unknown): string {
  const path = join(root, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

const object = (properties: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

function tool(name: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'helm.tool.v1',
    name,
    description: `${name} (newcomer scenario)`,
    input_schema: object({ text: { type: 'string', maxLength: 64 } }, ['text']),
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    resource_pointer: '/text',
    ...extra,
  };
}

let server: Server;
let port = 0;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${body}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ received: JSON.parse(body || '{}') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a newcomer, from a fresh data directory, one helmts process per step', () => {
  it('init → identities → egress → own tools → approval policy → quorum → delegation → rotations → export, verify, replay', async () => {
    const init = await ok('init');
    const anchor = String(init.trust_anchor);
    expect(anchor).toMatch(/^sha256:[0-9a-f]{64}$/);

    // A P1 policy first: ops may use the three tools; deploy needs two approvers. (Re-execution
    // replays under the policy in force now: a policy changed after calls were receipted makes
    // their re-execution diverge — docs/cli.md §Limits.)
    const bundle = file('bundle.json', {
      type: 'helm.policy.bundle.v1',
      name: 'newcomer-rules',
      version: 2,
      rules: [
        {
          id: 'ops-tools',
          effect: 'allow',
          when: { principal: { eq: 'ops' }, tool: { in: ['wasm.echo', 'upper', 'notify'] } },
        },
        {
          id: 'deploy-quorum',
          effect: 'allow',
          when: { principal: { eq: 'ops' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 2, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    });
    await ok('policy', 'sign', bundle);

    // Identities and egress, without hand-editing config.json.
    await ok('identity', 'add', 'cred-ops', '--principal', 'ops');
    await ok('identity', 'add', 'cred-agent', '--principal', 'agent-7');
    const identities = await ok('identity', 'list');
    expect(JSON.stringify(identities)).toContain('cred-ops');
    await ok('egress', 'allow', '127.0.0.1', '--protocol', 'http', '--port', String(port));

    // Own tools: WASM from WAT, a JS plugin, an HTTP tool against the local server.
    await ok(
      'tool',
      'register',
      file(
        'wasm-echo.json',
        tool('wasm.echo', { driver: { kind: 'sandbox', ref: 'x', timeout_ms: 10_000 } }),
      ),
      '--wasm',
      echoWat,
    );
    await ok(
      'tool',
      'register',
      file('upper.json', tool('upper', { driver: { kind: 'plugin', ref: 'x', timeout_ms: 10_000 } })),
      '--driver',
      file('upper.mjs', 'export default (args) => ({ upper: String(args.text).toUpperCase() });\n'),
    );
    await ok(
      'tool',
      'register',
      file(
        'notify.json',
        tool('notify', {
          effect_type: 'net.egress',
          destination: `http://127.0.0.1:${port}`,
          driver: { kind: 'http', ref: `http://127.0.0.1:${port}/notify`, timeout_ms: 10_000 },
        }),
      ),
    );
    await ok(
      'tool',
      'register',
      file(
        'deploy.json',
        tool('deploy', {
          risk_tier: 'HIGH',
          driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 10_000 },
        }),
      ),
    );

    const run = (tool: string, args: unknown, ...more: string[]) =>
      helmts('run', '--tool', tool, '--principal', 'ops', '--args', JSON.stringify(args), ...more);
    const wasm = await run('wasm.echo', { text: 'hi' });
    expect(wasm.json).toMatchObject({ status: 'SUCCEEDED', output: { text: 'hi' } });
    const upper = await run('upper', { text: 'hi' });
    expect(upper.json).toMatchObject({ status: 'SUCCEEDED', output: { upper: 'HI' } });
    const notify = await run('notify', { text: 'hello' });
    expect(notify.json, notify.stdout + notify.stderr).toMatchObject({ status: 'SUCCEEDED' });
    expect(requests).toHaveLength(1);
    // An unbound principal is refused by the identity gate, not as malformed arguments.
    const stranger = await helmts(
      'run',
      '--tool',
      'upper',
      '--principal',
      'mallory',
      '--args',
      '{"text":"x"}',
    );
    expect(stranger.json).toMatchObject({ status: 'DENIED', reason_code: 'GATE_IDENTITY_ISOLATION' });

    // Escalation → two approvers in two processes → the call runs exactly once.
    const held = await run('deploy', { text: 'v2' });
    expect(held.code).toBe(1);
    expect(held.json).toMatchObject({ status: 'ESCALATED' });
    const challenge = String(held.json?.approval_challenge_id);
    expect(challenge).toMatch(/^sha256:/);
    const pending = await ok('approvals', 'list');
    expect(JSON.stringify(pending)).toContain(challenge);
    await ok('approve', challenge, '--key', join(home, 'keys', 'approver-1.json'));
    const early = await helmts('run', '--challenge', challenge);
    expect(early.code).toBe(1);
    await ok('approve', challenge, '--key', join(home, 'keys', 'approver-2.json'));
    const released = await helmts('run', '--challenge', challenge);
    expect(released.json, released.stdout + released.stderr).toMatchObject({
      status: 'SUCCEEDED',
      output: { text: 'v2' },
    });
    const again = await helmts('run', '--challenge', challenge);
    expect(again.code).toBe(1);
    expect(again.json?.status).not.toBe('SUCCEEDED');

    // Delegation: ops lets agent-7 use upper for 15 minutes, with PKCE.
    const created = await ok(
      'delegate',
      'create',
      '--delegator',
      'ops',
      '--delegate',
      'agent-7',
      '--tool',
      'upper',
      '--ttl',
      '15m',
      '--mfa-verified',
    );
    const session = (created.session as { session_id: string }).session_id;
    const verifier = String(created.code_verifier);
    const delegated = await helmts(
      'run',
      '--tool',
      'upper',
      '--principal',
      'agent-7',
      '--args',
      '{"text":"for ops"}',
      '--session',
      session,
      '--code-verifier',
      verifier,
    );
    expect(delegated.json, delegated.stdout + delegated.stderr).toMatchObject({
      status: 'SUCCEEDED',
      output: { upper: 'FOR OPS' },
    });
    const outOfScope = await helmts(
      'run',
      '--tool',
      'notify',
      '--principal',
      'agent-7',
      '--args',
      '{"text":"x"}',
      '--session',
      session,
      '--code-verifier',
      verifier,
    );
    expect(outOfScope.json?.status).toBe('DENIED');

    // Key rotations: the policy key (the bundle is re-signed) and an approver; calls keep working.
    await ok('keys', 'rotate', 'policy');
    await ok('keys', 'rotate', 'approver-3');
    expect((await run('upper', { text: 'after' })).json).toMatchObject({ status: 'SUCCEEDED' });

    // Export, verify (pinned to this data directory), replay, re-execute.
    const pack = join(root, 'pack.tar');
    await ok('export', '-o', pack);
    const verified = await helmts('verify', pack, '--trust-anchor', anchor);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(JSON.stringify(verified.json)).toContain('PASS');
    await ok('replay', pack, '--trust-anchor', anchor);
    const reexecuted = await helmts('replay', '--reexecute');
    expect(reexecuted.code, reexecuted.stdout + reexecuted.stderr).toBe(0);
  });
});
