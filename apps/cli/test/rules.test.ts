// Identities, egress and delegation through the CLI: attacker cases first, then the workflows.
// Every edit is a signed governance event appended without opening the runtime; a runtime held by
// another process (what `helmts serve` is) applies it before its next decision.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DataDir } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { initCommand, toolRegister } from '../src/commands/index.ts';
import { BIN, requireCurrentBuild } from './cli-process.ts';
import { type CliRun, ECHO_TOOL, runCli, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-rules-');
const hooks = fileURLToPath(new URL('./fixtures/ts-hooks.mjs', import.meta.url));
const holderScript = fileURLToPath(new URL('./fixtures/runtime-holder.ts', import.meta.url));
const NODE_TS = ['--experimental-transform-types', '--no-warnings', '--import', hooks];

let n = 0;
/** A fresh data directory with the echo tool (principal `local` may call it; cred-local → local). */
async function home(): Promise<string> {
  const dir = join(root, `h${n++}`);
  initCommand(dir);
  const descriptor = join(root, `echo-${n}.json`);
  writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
  const data = new DataDir(dir);
  await toolRegister(data, descriptor, undefined);
  data.close();
  return dir;
}

/** `helm <args> --json` in this process; `json` is the printed document (empty when none). */
const helm = async (
  dir: string,
  ...args: string[]
): Promise<{ code: number; out: string; json: Record<string, unknown> }> => {
  const r: CliRun = await runCli(['--data-dir', dir, ...args, '--json']);
  return { code: r.code, out: r.out, json: r.json ?? {} };
};

/** The governance log's length (read-only). */
function logLength(dir: string): number {
  const data = new DataDir(dir);
  try {
    return data.store.governanceEventsSync().length;
  } finally {
    data.close();
  }
}

/** `helm <args>` as a separate process (the CLI's own entry point). */
function helmProcess(
  dir: string,
  ...args: string[]
): Promise<{ code: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    requireCurrentBuild();
    const p = spawn(process.execPath, [BIN, '--data-dir', dir, ...args, '--json']);
    let out = '';
    p.stdout.on('data', (d) => {
      out += String(d);
    });
    p.stderr.on('data', (d) => {
      out += String(d);
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      try {
        resolve({ code: code ?? -1, json: JSON.parse(out) as Record<string, unknown> });
      } catch {
        reject(new Error(`helm ${args.join(' ')} printed no JSON: ${out}`));
      }
    });
  });
}

/** A runtime held open by another process, deciding calls on request. */
class Holder {
  readonly #p: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  private constructor(p: ChildProcessWithoutNullStreams) {
    this.#p = p;
    this.#lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  }
  static async start(dir: string): Promise<Holder> {
    const p = spawn(process.execPath, [...NODE_TS, holderScript, dir]);
    let err = '';
    p.stderr.on('data', (d) => {
      err += String(d);
    });
    const h = new Holder(p);
    const first = await h.#lines.next();
    if (first.done || !String(first.value).includes('ready')) throw new Error(`holder did not start: ${err}`);
    return h;
  }
  async call(c: Record<string, unknown>): Promise<{ status?: string; reason_code?: string; error?: string }> {
    this.#p.stdin.write(`${JSON.stringify(c)}\n`);
    const line = await this.#lines.next();
    return JSON.parse(String(line.value));
  }
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.#p.on('exit', () => resolve()));
    this.#p.stdin.end('quit\n');
    await exited;
  }
}

describe('I-RULES-1: attacks on the administrative edits', () => {
  it('an edit signed by a key without the policy role is refused and appends nothing', async () => {
    const dir = await home();
    for (const args of [
      ['identity', 'add', 'cred-mallory', '--principal', 'local', '--key', 'approver-1'],
      ['identity', 'remove', 'cred-local', '--key', 'executor'],
      ['egress', 'allow', 'evil.example', '--key', 'approver-2'],
      [
        'delegate',
        'create',
        '--delegator',
        'local',
        '--delegate',
        'x',
        '--tool',
        'echo',
        '--ttl',
        '1m',
        '--mfa-verified',
        '--key',
        'guardian',
      ],
    ]) {
      const r = await helm(dir, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json.error).toMatchObject({ code: 'KEY_NOT_VALID' });
    }
    expect(logLength(dir)).toBe(0);
    // the edit was not made: cred-local still works, nothing else is bound
    const listed = await helm(dir, 'identity', 'list');
    expect((listed.json.bindings as { credential_id: string }[]).map((b) => b.credential_id)).toEqual([
      'cred-local',
    ]);
  });

  it('identity remove takes effect in a runtime held by another process, before its next decision', async () => {
    const dir = await home();
    const holder = await Holder.start(dir);
    try {
      const call = { tool: 'echo', principal: 'local', credential: 'cred-local', args: { x: 1 } };
      expect(await holder.call(call)).toMatchObject({ status: 'SUCCEEDED' });
      // a separate helm process edits while the holder has the runtime lock
      const removed = await helmProcess(dir, 'identity', 'remove', 'cred-local');
      expect(removed.code).toBe(0);
      expect(await holder.call(call)).toMatchObject({
        status: 'DENIED',
        reason_code: 'GATE_IDENTITY_ISOLATION',
      });
      const added = await helmProcess(dir, 'identity', 'add', 'cred-local-2', '--principal', 'local');
      expect(added.code).toBe(0);
      expect(await holder.call({ ...call, credential: 'cred-local-2' })).toMatchObject({
        status: 'SUCCEEDED',
      });
    } finally {
      await holder.stop();
    }
    // the edits are receipted on the chain (helm.admin.identity.*) and the pack verifies
    const pack = join(root, `identity-${n}.tar`);
    expect((await helm(dir, 'export', '-o', pack)).code).toBe(0);
    const verified = await helm(dir, 'verify', pack);
    expect(verified.code).toBe(0);
    const data = new DataDir(dir);
    const tools = data.store
      .receiptsSync({ chainId: data.config().chain_id })
      .map((r) => JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString()).tool as string);
    data.close();
    expect(tools.filter((t) => t.startsWith('helm.admin.'))).toEqual([
      'helm.admin.identity.remove',
      'helm.admin.identity.add',
    ]);
  });

  it('a delegation used after revoke is denied in the running runtime', async () => {
    const dir = await home();
    expect((await helm(dir, 'identity', 'add', 'cred-agent', '--principal', 'agent-7')).code).toBe(0);
    const created = await helm(
      dir,
      'delegate',
      'create',
      '--delegator',
      'local',
      '--delegate',
      'agent-7',
      '--tool',
      'echo',
      '--ttl',
      '15m',
      '--mfa-verified',
    );
    expect(created.code).toBe(0);
    const session = (created.json.session as { session_id: string }).session_id;
    const verifier = created.json.code_verifier as string;
    const holder = await Holder.start(dir);
    try {
      const call = {
        tool: 'echo',
        principal: 'agent-7',
        credential: 'cred-agent',
        session,
        verifier,
        args: { x: 1 },
      };
      expect(await holder.call(call)).toMatchObject({ status: 'SUCCEEDED' });
      const revoked = await helmProcess(dir, 'delegate', 'revoke', session, '--reason', 'done');
      expect(revoked.code).toBe(0);
      expect(await holder.call(call)).toMatchObject({ status: 'DENIED', reason_code: 'DELEGATION_INVALID' });
    } finally {
      await holder.stop();
    }
    // and after a restart: the revocation is durable
    const again = await helm(
      dir,
      'run',
      '--tool',
      'echo',
      '--principal',
      'agent-7',
      '--session',
      session,
      '--code-verifier',
      verifier,
      '--args',
      '{"x":2}',
    );
    expect(again.json).toMatchObject({ status: 'DENIED', reason_code: 'DELEGATION_INVALID' });
    const listed = await helm(dir, 'delegate', 'list', '--all');
    expect(listed.json.sessions).toMatchObject([{ session_id: session, status: 'revoked' }]);
  });

  it('sessions: scope escalation, TTL beyond P0, PKCE verifier mismatch, a session of another delegate', async () => {
    const dir = await home();
    // a second tool the delegator may not call
    const other = join(root, `other-${n}.json`);
    writeFileSync(other, JSON.stringify({ ...ECHO_TOOL, name: 'echo2' }));
    const data = new DataDir(dir);
    await toolRegister(data, other, undefined);
    data.close();
    await helm(dir, 'identity', 'add', 'cred-agent', '--principal', 'agent-7');
    await helm(dir, 'identity', 'add', 'cred-mallory', '--principal', 'mallory');
    const create = (...extra: string[]) =>
      helm(
        dir,
        'delegate',
        'create',
        '--delegator',
        'local',
        '--delegate',
        'agent-7',
        '--mfa-verified',
        ...extra,
      );
    // creation: a grant beyond the delegator's authority, past P0's TTL, a P0-forbidden class, no MFA
    const before = logLength(dir);
    const escalated = await create('--tool', 'echo2', '--ttl', '15m');
    expect(escalated.code).toBe(2);
    expect(String((escalated.json.error as { message: string }).message)).toContain(
      'DELEGATION_SCOPE_VIOLATION',
    );
    const tooLong = await create('--tool', 'echo', '--ttl', '2h');
    expect(tooLong.json.error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(String((tooLong.json.error as { hint: string }).hint)).toContain('--ttl');
    const forbidden = await create(
      '--grant',
      '{"tool":{"eq":"echo"},"effect_type":{"eq":"payment.transfer"}}',
      '--ttl',
      '1m',
    );
    expect(forbidden.code).toBe(2);
    const noMfa = await helm(
      dir,
      'delegate',
      'create',
      '--delegator',
      'local',
      '--delegate',
      'agent-7',
      '--tool',
      'echo',
      '--ttl',
      '1m',
    );
    expect(String((noMfa.json.error as { hint: string }).hint)).toContain('--mfa-verified');
    expect(logLength(dir)).toBe(before);
    // use: out of scope, wrong verifier, wrong delegate
    const ok = await create('--tool', 'echo', '--ttl', '15m');
    const session = (ok.json.session as { session_id: string }).session_id;
    const verifier = ok.json.code_verifier as string;
    const run = (principal: string, tool: string, v: string) =>
      helm(
        dir,
        'run',
        '--tool',
        tool,
        '--principal',
        principal,
        '--session',
        session,
        '--code-verifier',
        v,
        '--args',
        '{"x":1}',
      );
    expect((await run('agent-7', 'echo2', verifier)).json).toMatchObject({
      reason_code: 'DELEGATION_SCOPE_VIOLATION',
    });
    expect(
      (await run('agent-7', 'echo', `${verifier.slice(0, -1)}${verifier.endsWith('A') ? 'B' : 'A'}`)).json,
    ).toMatchObject({
      reason_code: 'DELEGATION_INVALID',
    });
    expect((await run('mallory', 'echo', verifier)).json).toMatchObject({
      reason_code: 'DELEGATION_INVALID',
    });
    const good = await run('agent-7', 'echo', verifier);
    expect(good.json).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('egress: a host not allowed is denied; an allowed hostname never lets an IP literal through, nor the reverse', async () => {
    const server = await echoServer();
    try {
      const port = (server.address() as { port: number }).port;
      const dir = await home();
      await registerHttp(dir, 'by-ip', `http://127.0.0.1:${port}`);
      await registerHttp(dir, 'by-name', `http://localhost:${port}`);
      await allowLocal(dir, ['echo', 'by-ip', 'by-name']);
      const run = (tool: string) =>
        helm(dir, 'run', '--tool', tool, '--principal', 'local', '--args', '{"x":1}');
      const denied = await run('by-ip');
      expect(denied.json).toMatchObject({ status: 'DENIED', reason_code: 'GATE_EGRESS_DENIED' });
      // the name localhost does not cover the address 127.0.0.1
      expect(
        (await helm(dir, 'egress', 'allow', 'localhost', '--protocol', 'http', '--port', String(port))).code,
      ).toBe(0);
      expect((await run('by-ip')).json).toMatchObject({ reason_code: 'GATE_EGRESS_DENIED' });
      expect((await run('by-name')).json).toMatchObject({ status: 'SUCCEEDED' });
      // a numeric spelling of the address is refused, not silently turned into something else
      const numeric = await helm(dir, 'egress', 'allow', '2130706433', '--protocol', 'http');
      expect(numeric.json.error).toMatchObject({ code: 'USAGE' });
      expect(String((numeric.json.error as { hint: string }).hint)).toContain(
        'helmts egress allow 127.0.0.1',
      );
      // the address itself is accepted (as 127.0.0.1/32) and covers the IP tool only
      const allowed = await helm(
        dir,
        'egress',
        'allow',
        '127.0.0.1',
        '--protocol',
        'http',
        '--port',
        String(port),
      );
      expect(allowed.code).toBe(0);
      expect(allowed.json.rule).toMatchObject({ cidrs: ['127.0.0.1/32'] });
      expect((await run('by-ip')).json).toMatchObject({ status: 'SUCCEEDED' });
      // removed: denied again
      expect((await helm(dir, 'egress', 'remove', allowed.json.rule_id as string)).code).toBe(0);
      expect((await run('by-ip')).json).toMatchObject({ reason_code: 'GATE_EGRESS_DENIED' });
      const listed = await helm(dir, 'egress', 'list');
      expect((listed.json.rules as { rule: unknown }[]).map((r) => r.rule)).toEqual([
        { hosts: ['localhost'], protocols: ['http'], ports: [port], max_payload_bytes: 1_048_576 },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('errors are user errors with actionable hints', () => {
  it('a URL, a host:port and an unknown rule id are usage errors that say what to type', async () => {
    const dir = await home();
    const url = await helm(dir, 'egress', 'allow', 'http://127.0.0.1:8080/echo');
    expect(url.code).toBe(2);
    expect(url.json.error).toMatchObject({
      code: 'USAGE',
      hint: expect.stringContaining('helmts egress allow 127.0.0.1 --protocol http --port 8080'),
    });
    const hostPort = await helm(dir, 'egress', 'allow', 'localhost:8080');
    expect(String((hostPort.json.error as { hint: string }).hint)).toContain('--port 8080');
    const unknown = await helm(dir, 'egress', 'remove', '0123456789abcdef');
    expect(unknown.json.error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(logLength(dir)).toBe(0);
  });

  it('a config.json with 127.0.0.1 under hosts: CONFIG_INVALID naming the cidrs entry, never "a bug"', async () => {
    const dir = await home();
    const data = new DataDir(dir);
    data.writeConfig({
      ...data.config(),
      egress: { rules: [{ hosts: ['127.0.0.1'], protocols: ['http'], max_payload_bytes: 10 }] },
    });
    data.close();
    const r = await runCli(['--data-dir', dir, 'run', '--tool', 'echo', '--principal', 'local']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('127.0.0.1/32');
    expect(r.out).not.toMatch(/bug/);
  });

  it('an unbound principal is denied by the identity gate (receipted), with the command that binds it', async () => {
    const dir = await home();
    const r = await runCli([
      '--data-dir',
      dir,
      'run',
      '--tool',
      'echo',
      '--principal',
      'bob',
      '--args',
      '{"x":1}',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('GATE_IDENTITY_ISOLATION');
    expect(r.out).not.toContain('ARGS_MALFORMED');
    expect(r.out).toContain('helmts identity add <credential> --principal bob');
  });

  it('identity add of a bound credential and remove of an unbound one are refused; nothing appended', async () => {
    const dir = await home();
    const again = await helm(dir, 'identity', 'add', 'cred-local', '--principal', 'someone-else');
    expect(again.json.error).toMatchObject({
      code: 'INVALID_INPUT',
      hint: expect.stringContaining('identity remove'),
    });
    const none = await helm(dir, 'identity', 'remove', 'cred-nobody');
    expect(none.json.error).toMatchObject({ code: 'INVALID_INPUT' });
    const session = await helm(dir, 'run', '--tool', 'echo', '--principal', 'local', '--session', 'abc');
    expect(session.json.error).toMatchObject({ code: 'USAGE' });
    expect(logLength(dir)).toBe(0);
  });
});

describe('the workflows', () => {
  it('identity add/list/remove: list shows config.json and the edits, pending until a runtime applies them', async () => {
    const dir = await home();
    const added = await helm(
      dir,
      'identity',
      'add',
      'cred-ci',
      '--principal',
      'ci',
      '--tenant',
      'acme',
      '--allow-no-tenant',
    );
    expect(added.json).toMatchObject({
      binding: { credential_id: 'cred-ci', principal: 'ci', tenants: ['acme', null] },
    });
    let listed = await helm(dir, 'identity', 'list');
    expect(listed.json.bindings).toMatchObject([
      { credential_id: 'cred-local', source: 'config.json', status: 'applied' },
      { credential_id: 'cred-ci', source: { event: 1 }, status: 'pending' },
    ]);
    // any command that opens the runtime applies it
    await helm(dir, 'run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":1}');
    listed = await helm(dir, 'identity', 'list');
    expect(listed.json.bindings).toMatchObject([
      { status: 'applied' },
      { credential_id: 'cred-ci', status: 'applied' },
    ]);
    expect(listed.json.pending).toEqual([]);
    expect((await helm(dir, 'identity', 'remove', 'cred-ci')).code).toBe(0);
    listed = await helm(dir, 'identity', 'list');
    expect((listed.json.bindings as unknown[]).length).toBe(1);
  });

  it('replay --reexecute reproduces a session with identity, egress and delegation edits', async () => {
    const dir = await home();
    await helm(dir, 'identity', 'add', 'cred-agent', '--principal', 'agent-7');
    const created = await helm(
      dir,
      'delegate',
      'create',
      '--delegator',
      'local',
      '--delegate',
      'agent-7',
      '--tool',
      'echo',
      '--ttl',
      '15m',
      '--mfa-verified',
    );
    const session = (created.json.session as { session_id: string }).session_id;
    const verifier = created.json.code_verifier as string;
    await helm(
      dir,
      'run',
      '--tool',
      'echo',
      '--principal',
      'agent-7',
      '--session',
      session,
      '--code-verifier',
      verifier,
      '--args',
      '{"x":1}',
    );
    await helm(dir, 'egress', 'allow', 'api.example.com');
    await helm(dir, 'delegate', 'revoke', session);
    await helm(
      dir,
      'run',
      '--tool',
      'echo',
      '--principal',
      'agent-7',
      '--session',
      session,
      '--code-verifier',
      verifier,
      '--args',
      '{"x":2}',
    );
    await helm(dir, 'identity', 'remove', 'cred-agent');
    await helm(dir, 'run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":3}');
    const r = await helm(dir, 'replay', '--reexecute');
    expect(r.json).toMatchObject({ ok: true, reexecution: { ok: true } });
  });
});

async function echoServer(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function registerHttp(dir: string, name: string, origin: string): Promise<void> {
  const file = join(root, `${name}-${n}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      ...ECHO_TOOL,
      name,
      effect_type: 'net.egress',
      destination: origin,
      driver: { kind: 'http', ref: `${origin}/echo`, timeout_ms: 5000 },
    }),
  );
  const data = new DataDir(dir);
  expect((await toolRegister(data, file, undefined)).exitCode).toBe(0);
  data.close();
}

/** Sign and install a P1 bundle letting `local` call these tools (the default allows echo only). */
async function allowLocal(dir: string, tools: string[]): Promise<void> {
  const file = join(root, `bundle-${n}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      type: 'helm.policy.bundle.v1',
      name: 'local-tools',
      version: 2,
      rules: [
        { id: 'local-tools', effect: 'allow', when: { principal: { eq: 'local' }, tool: { in: tools } } },
      ],
    }),
  );
  expect((await helm(dir, 'policy', 'sign', file)).code).toBe(0);
}
