// I-GOVERN-2 through real, separate `helm` processes (docs/cli.md §Approvals): an escalated
// `helmts run` prints its challenge; approvers answer with `helmts approve` / `helmts deny` — also with a
// key file on another machine (`--sign-only`, then `--import`) — while nothing holds the runtime or
// while another process does; `helmts run --challenge` runs the approved call exactly once. Attackers
// first. Each `helm(…)` below is its own process (the data directory is all they share); setup
// steps that are not under test run in this process.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner } from '@helm/crypto';
import {
  acquireRuntimeLock,
  DataDir,
  governanceEventDigest,
  governanceLink,
  signGovernanceEvent,
} from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { approvalsExport, approvalsShow, approveCommand } from '../src/commands/approvals.ts';
import { initCommand, keysRevoke, policySign, runCall, toolRegister } from '../src/commands/index.ts';
import { BIN, requireCurrentBuild } from './cli-process.ts';
import { runCli, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-approvals-');

interface Run {
  readonly code: number;
  readonly json: Record<string, unknown>;
  readonly out: string;
}

/** One `helm <args> --json` process: the built CLI, as a user's shell runs it. */
function helm(dir: string | undefined, ...args: string[]): Run {
  requireCurrentBuild();
  const env = { ...process.env };
  delete env.HELM_HOME;
  delete env.HELM_DATABASE_URL;
  const r = spawnSync(
    process.execPath,
    [BIN, ...(dir === undefined ? [] : ['--data-dir', dir]), ...args, '--json'],
    { encoding: 'utf8', env, cwd: root },
  );
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { code: r.status ?? -1, json, out: `${r.stdout}${r.stderr}` };
}

const errorCode = (r: { json?: Record<string, unknown> | undefined }) =>
  (r.json?.error as { code?: string } | undefined)?.code;

let n = 0;
/** A data directory whose policy holds `deploy` for 2 approvers (no timelock) and `purge` for 1 (1 s ttl). */
async function home(): Promise<string> {
  const dir = join(root, `d${n++}`);
  initCommand(dir);
  const data = new DataDir(dir);
  const bundle = join(root, `bundle-${n}.json`);
  writeFileSync(
    bundle,
    JSON.stringify({
      type: 'helm.policy.bundle.v1',
      name: 'approvals',
      version: 2,
      rules: [
        {
          id: 'deploy-quorum',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 2, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
        {
          id: 'purge-quick',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { eq: 'purge' } },
          requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 1_000 },
        },
      ],
    }),
  );
  expect(policySign(data, bundle).exitCode).toBe(0);
  for (const [name, ref] of [
    ['deploy', 'demo.deploy'],
    ['purge', 'builtin.echo'],
  ]) {
    const file = join(root, `${name}-${n}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        type: 'helm.tool.v1',
        name,
        description: name,
        input_schema: { type: 'object' },
        output_schema: { type: 'object' },
        effect_type: 'compute',
        risk_tier: 'HIGH',
        action: name,
        driver: { kind: 'function', ref, timeout_ms: 1_000 },
      }),
    );
    expect((await toolRegister(data, file, undefined)).exitCode).toBe(0);
  }
  data.close();
  return dir;
}

const DEPLOY = [
  'run',
  '--tool',
  'deploy',
  '--principal',
  'local',
  '--args',
  '{"service":"api","version":"2"}',
];
const key = (dir: string, name: string) => join(dir, 'keys', `${name}.json`);

/** `helmts run` of the deploy call as a separate process: escalated, with its challenge and next steps. */
function escalate(dir: string, args = DEPLOY): string {
  const r = helm(dir, ...args);
  expect(r.code, r.out).toBe(1);
  expect(r.json).toMatchObject({ status: 'ESCALATED', reason_code: 'APPROVAL_REQUIRED' });
  const id = r.json.approval_challenge_id as string;
  expect(r.json.challenge).toMatchObject({ challenge_id: id, state: 'pending', approvals: 0 });
  expect((r.json.next as string[]).join('\n')).toContain(`helmts approve ${id} --key`);
  return id;
}

// Steps that are not what a test is about run in this process (the same command functions): only
// the action under test is a separate `helm` process, which keeps the file's run time bounded.
async function local<T>(dir: string, fn: (data: DataDir) => T | Promise<T>): Promise<T> {
  const data = new DataDir(dir);
  try {
    return await fn(data);
  } finally {
    data.close();
  }
}

async function escalateHere(
  dir: string,
  tool = 'deploy',
  args = '{"service":"api","version":"2"}',
): Promise<string> {
  const r = await local(dir, (data) => runCall(data, { tool, principal: 'local', args }));
  expect(r.json).toMatchObject({ status: 'ESCALATED' });
  return r.json.approval_challenge_id as string;
}

async function approveHere(dir: string, id: string, name: string): Promise<void> {
  const r = await local(dir, (data) => approveCommand(data, id, { key: key(dir, name) }));
  expect(r.exitCode, JSON.stringify(r.json)).toBe(0);
}

const view = (dir: string, id: string) => local(dir, (data) => approvalsShow(data, id).json);

function deployReceipts(dir: string): string[] {
  const data = new DataDir(dir);
  try {
    return data.store
      .receiptsSync({ chainId: data.config().chain_id })
      .map(
        (r) =>
          JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString()) as {
            tool: string;
            status: string;
          },
      )
      .filter((b) => b.tool === 'deploy')
      .map((b) => b.status);
  } finally {
    data.close();
  }
}

// Every test spawns `helm` processes (each loads the TypeScript sources): on a busy 2-core machine
// that takes a while.
describe('I-GOVERN-2 helmts approvals through separate processes — attackers first', {
  timeout: 300_000,
}, () => {
  it('non-approver key, revoked approver and the same approver twice are refused; none counts', async () => {
    const dir = await home();
    const id = await escalateHere(dir);
    const executor = helm(dir, 'approve', id, '--key', key(dir, 'executor'));
    expect(executor.code).toBe(1);
    expect(errorCode(executor)).toBe('KEY_NOT_VALID');
    expect((await local(dir, (data) => keysRevoke(data, 'approver-3'))).exitCode).toBe(0);
    const revoked = helm(dir, 'approve', id, '--key', key(dir, 'approver-3'));
    expect(errorCode(revoked)).toBe('KEY_NOT_VALID');
    await approveHere(dir, id, 'approver-1');
    const twice = helm(dir, 'approve', id, '--key', key(dir, 'approver-1'));
    expect(twice.code).toBe(1);
    expect(errorCode(twice)).toBe('APPROVAL_DUPLICATE');
    expect(await view(dir, id)).toMatchObject({ state: 'pending', approvals: 1, needed: 1 });
    const early = helm(dir, 'run', '--challenge', id);
    expect(early.code).toBe(1);
    expect(errorCode(early)).toBe('CHALLENGE_PENDING');
    expect(deployReceipts(dir)).toEqual(['ESCALATED']);
  });

  it('an approval cannot be moved to another call: edited arguments are refused before signing, and approving one call never runs another', async () => {
    const dir = await home();
    const id = await escalateHere(dir);
    const file = join(root, `challenge-${n}.json`);
    expect((await local(dir, (data) => approvalsExport(data, id, { out: file }))).exitCode).toBe(0);
    const exported = JSON.parse(readFileSync(file, 'utf8'));
    exported.request.args_text = '{"service":"api","version":"666"}';
    const edited = join(root, `edited-${n}.json`);
    writeFileSync(edited, JSON.stringify(exported));
    const refused = helm(undefined, 'approve', '--sign-only', edited, '--key', key(dir, 'approver-1'));
    expect(refused.code).toBe(2);
    expect(errorCode(refused)).toBe('INVALID_INPUT');
    await approveHere(dir, id, 'approver-1');
    await approveHere(dir, id, 'approver-2');
    const other = helm(
      dir,
      'run',
      '--tool',
      'deploy',
      '--principal',
      'local',
      '--args',
      '{"service":"api","version":"666"}',
    );
    expect(other.json).toMatchObject({ status: 'ESCALATED' });
    expect(other.json.approval_challenge_id).not.toBe(id);
  });

  it('a grant is used once across processes: --challenge and the original command after it open a new challenge', async () => {
    const dir = await home();
    const id = await escalateHere(dir);
    await approveHere(dir, id, 'approver-1');
    await approveHere(dir, id, 'approver-2');
    const ran = helm(dir, 'run', '--challenge', id);
    expect(ran.code, ran.out).toBe(0);
    expect(ran.json).toMatchObject({ status: 'SUCCEEDED', output: { deployed: 'api@2' } });
    const again = helm(dir, 'run', '--challenge', id);
    expect(again.code).toBe(1);
    expect(errorCode(again)).toBe('CHALLENGE_CLOSED');
    const original = helm(dir, ...DEPLOY);
    expect(original.json).toMatchObject({ status: 'ESCALATED' });
    expect(original.json.approval_challenge_id).not.toBe(id);
    expect(deployReceipts(dir)).toEqual(['ESCALATED', 'SUCCEEDED', 'ESCALATED']);
    expect(await view(dir, id)).toMatchObject({ state: 'consumed' });
  });

  it('an expired challenge takes no approval and its call is denied APPROVAL_TIMEOUT', async () => {
    const dir = await home();
    const id = await escalateHere(dir, 'purge', '{}');
    // The rule's ttl is 1 s; every process below starts later than that.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const late = helm(dir, 'approve', id, '--key', key(dir, 'approver-1'));
    expect(late.code).toBe(1);
    expect(errorCode(late)).toBe('CHALLENGE_CLOSED');
    const run = helm(dir, 'run', '--tool', 'purge', '--principal', 'local', '--args', '{}');
    expect(run.json).toMatchObject({ status: 'DENIED', reason_code: 'APPROVAL_TIMEOUT' });
  });

  it('deny, then approve: the approval is refused and the call never runs', async () => {
    const dir = await home();
    const id = await escalateHere(dir);
    await approveHere(dir, id, 'approver-1');
    const denied = helm(dir, 'deny', id, '--key', key(dir, 'approver-2'), '--reason', 'change freeze');
    expect(denied.code).toBe(0);
    expect(denied.json).toMatchObject({ state: 'denied' });
    const approve = helm(dir, 'approve', id, '--key', key(dir, 'approver-3'));
    expect(approve.code).toBe(1);
    expect(errorCode(approve)).toBe('CHALLENGE_CLOSED');
    expect(errorCode(helm(dir, 'run', '--challenge', id))).toBe('CHALLENGE_CLOSED');
    expect(deployReceipts(dir)).toEqual(['ESCALATED']);
  });

  it('a forged event row inserted directly in SQLite is refused loudly: listing fails, nothing runs', async () => {
    const dir = await home();
    const id = await escalateHere(dir);
    const data = new DataDir(dir);
    const stranger = createSigner(new Uint8Array(32).fill(0x66));
    const envelope = signGovernanceEvent({
      action: 'approval.grant',
      body: { challenge_id: id, statement: {} as never },
      signer: stranger,
      at: Date.now(),
      trustAnchor: data.config().trust_anchor,
      chainId: data.config().chain_id,
    });
    const trustSeq = data.registry().seq;
    data.close();
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
    const db = new DatabaseSync(join(dir, 'helm.db'));
    const digest = governanceEventDigest(envelope);
    const prev = `sha256:${'0'.repeat(64)}`;
    db.prepare(
      'INSERT INTO governance_events (seq, digest, prev, chain, action, signer, subject, trust_seq, envelope) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      digest,
      prev,
      governanceLink(1, prev, digest, trustSeq),
      'approval.grant',
      stranger.keyId,
      id,
      trustSeq,
      JSON.stringify(envelope),
    );
    db.close();
    const list = helm(dir, 'approvals', 'list');
    expect(list.code).toBe(2);
    expect(errorCode(list)).toBe('GOVERNANCE_LOG_INVALID');
    const run = helm(dir, ...DEPLOY);
    expect(errorCode(run)).toBe('GOVERNANCE_LOG_INVALID');
    const approve = helm(dir, 'approve', id, '--key', key(dir, 'approver-1'));
    expect(approve.code).toBe(1);
    expect(errorCode(approve)).toBe('GOVERNANCE_LOG_INVALID');
    expect(deployReceipts(dir)).toEqual(['ESCALATED']);
  });
});

describe('helmts approvals — the workflow through separate processes', () => {
  it('escalate; approve here while another process holds the runtime; approve on another machine (sign-only, import); run once; the pack verifies and re-executes', async () => {
    const dir = await home();
    const id = escalate(dir); // process 1
    expect((await runCli(['--data-dir', dir, 'approvals', 'list', '--json'])).json?.challenges).toEqual([
      expect.objectContaining({ challenge_id: id, state: 'pending' }),
    ]);
    // Another process holds the runtime (as `helmts serve` would): approving needs no lock.
    const lock = acquireRuntimeLock(dir);
    try {
      const here = helm(dir, 'approve', id, '--key', key(dir, 'approver-1')); // process 2
      expect(here.code, here.out).toBe(0);
      expect(here.json).toMatchObject({ approvals: 1, needed: 1, state: 'pending' });
      // A second runtime is refused.
      await expect(
        runCall(new DataDir(dir), {
          tool: 'deploy',
          principal: 'local',
          args: '{"service":"api","version":"2"}',
        }),
      ).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    } finally {
      lock.release();
    }
    // The approver's machine: the exported challenge and its own key file, no data directory.
    const challenge = join(root, `export-${n}.json`);
    expect((await runCli(['--data-dir', dir, 'approvals', 'export', id, '--out', challenge])).code).toBe(0);
    const anchor = JSON.parse(readFileSync(challenge, 'utf8')).trust_anchor as string;
    const wrongAnchor = await runCli([
      'approve',
      '--sign-only',
      challenge,
      '--key',
      key(dir, 'approver-2'),
      '--trust-anchor',
      `sha256:${'1'.repeat(64)}`,
    ]);
    expect(wrongAnchor.code).toBe(2);
    const approval = join(root, `approval-${n}.json`);
    const signed = helm(
      undefined,
      'approve',
      '--sign-only',
      challenge,
      '--key',
      key(dir, 'approver-2'),
      '--trust-anchor',
      anchor,
      '--out',
      approval,
    ); // process 3
    expect(signed.code, signed.out).toBe(0);
    expect(signed.json).toMatchObject({ challenge_id: id });
    const imported = helm(dir, 'approve', '--import', approval); // process 4
    expect(imported.code, imported.out).toBe(0);
    expect(imported.json).toMatchObject({ state: 'approved', approvals: 2 });
    // The same signed approval twice is one approval.
    expect((await runCli(['--data-dir', dir, 'approve', '--import', approval])).code).toBe(1);
    const ran = helm(dir, 'run', '--challenge', id); // process 5
    expect(ran.code, ran.out).toBe(0);
    expect(ran.json).toMatchObject({ status: 'SUCCEEDED', output: { deployed: 'api@2' } });
    expect(deployReceipts(dir)).toEqual(['ESCALATED', 'SUCCEEDED']);
    const pack = join(root, `pack-${n}.tar`);
    expect((await runCli(['--data-dir', dir, 'export', '--out', pack])).code).toBe(0);
    const verified = await runCli(['--data-dir', dir, 'verify', pack]);
    expect(verified.code, verified.out).toBe(0);
    const replay = helm(dir, 'replay', '--reexecute'); // process 6
    expect(replay.code, replay.out).toBe(0);
    expect(replay.json.reexecution).toMatchObject({ ok: true, identical: 2, calls: 2, events: 2 });
  }, 300_000);
});
