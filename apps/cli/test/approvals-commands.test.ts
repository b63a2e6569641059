// The approval commands in this process (their output, usage errors and every state a challenge
// goes through); apps/cli/test/approvals.test.ts runs the same commands as separate processes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { initCommand, policySign, toolRegister } from '../src/commands/index.ts';
import { runCli, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-approvals-inproc-');
let n = 0;

async function home(timelockMs: number): Promise<string> {
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
          requires_approval: { quorum: 2, role: 'approver', timelock_ms: timelockMs, ttl_ms: 3_600_000 },
        },
      ],
    }),
  );
  policySign(data, bundle);
  const file = join(root, `deploy-${n}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      type: 'helm.tool.v1',
      name: 'deploy',
      description: 'deploy',
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'HIGH',
      action: 'deploy',
      driver: { kind: 'function', ref: 'demo.deploy', timeout_ms: 1_000 },
    }),
  );
  await toolRegister(data, file, undefined);
  data.close();
  return dir;
}

const cli = (dir: string | undefined, ...args: string[]) =>
  runCli([...(dir === undefined ? [] : ['--data-dir', dir]), ...args]);
const DEPLOY = [
  'run',
  '--tool',
  'deploy',
  '--principal',
  'local',
  '--args',
  '{"service":"web","version":"1"}',
];
const key = (dir: string, name: string) => join(dir, 'keys', `${name}.json`);
const errorCode = (json: Record<string, unknown> | undefined) =>
  (json?.error as { code?: string } | undefined)?.code;

describe('helmts approvals (in process)', () => {
  it('usage errors exit 2 with a code', async () => {
    const dir = await home(0);
    for (const args of [
      ['approve'],
      ['approve', 'sha256:x', '--import', 'f.json'],
      ['approve', 'sha256:x'],
      ['deny', 'sha256:x'],
      ['run', '--challenge', 'sha256:x', '--tool', 'deploy'],
      ['run', '--principal', 'local'],
    ]) {
      const r = await cli(dir, ...args, '--json');
      expect(r.code, args.join(' ')).toBe(2);
      expect(errorCode(r.json), args.join(' ')).toBe('USAGE');
    }
    const unknown = await cli(dir, 'approvals', 'show', `sha256:${'0'.repeat(64)}`, '--json');
    expect(unknown.code).toBe(2);
    expect(errorCode(unknown.json)).toBe('CHALLENGE_UNKNOWN');
    const none = await cli(dir, 'approvals', 'list');
    expect(none.out).toContain('No open approval challenges');
  });

  it('every state a challenge goes through, in human and JSON output', async () => {
    const dir = await home(3_600_000);
    const held = await cli(dir, ...DEPLOY);
    expect(held.code).toBe(1);
    expect(held.out).toContain('held for approval: challenge sha256:');
    expect(held.out).toContain('--key <approver key file>');
    const id = /challenge (sha256:[0-9a-f]{64})/.exec(held.out)?.[1] as string;
    expect((await cli(dir, 'approvals', 'list')).out).toContain(`${id}  pending`);
    const pending = await cli(dir, 'run', '--challenge', id, '--json');
    expect(errorCode(pending.json)).toBe('CHALLENGE_PENDING');

    const first = await cli(dir, 'approve', id, '--key', key(dir, 'approver-1'), '--as', 'carol');
    expect(first.code).toBe(0);
    expect(first.out).toContain('1 more needed');
    // Signed elsewhere, printed (no --out), imported from the `--json` document that carries it.
    const exported = join(root, `challenge-${n}.json`);
    expect((await cli(dir, 'approvals', 'export', id, '-o', exported)).code).toBe(0);
    const printed = await cli(undefined, 'approve', '--sign-only', exported, '--key', key(dir, 'approver-2'));
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.out)).toMatchObject({ type: 'helm.governance.event.v1' });
    const wrapped = await cli(
      undefined,
      'approve',
      '--sign-only',
      exported,
      '--key',
      key(dir, 'approver-3'),
      '--json',
    );
    const file = join(root, `approval-${n}.json`);
    writeFileSync(file, JSON.stringify(wrapped.json));
    const imported = await cli(dir, 'approve', '--import', file);
    expect(imported.code).toBe(0);
    expect(imported.out).toContain('timelocked until');
    const show = await cli(dir, 'approvals', 'show', id);
    expect(show.out).toContain('approved by carol');
    expect(show.out).toContain('— pending');
    const locked = await cli(dir, 'run', '--challenge', id, '--json');
    expect(errorCode(locked.json)).toBe('CHALLENGE_PENDING');
    expect(String((locked.json?.error as { hint?: string } | undefined)?.hint)).toContain('run it from');

    const denied = await cli(
      dir,
      'deny',
      id,
      '--key',
      key(dir, 'approver-2'),
      '--reason',
      'not today',
      '--json',
    );
    expect(denied.json).toMatchObject({
      state: 'denied',
      next: ['run the call again to ask for a new approval'],
    });
    const after = await cli(dir, 'approvals', 'show', id);
    expect(after.out).toContain('denied by an approver');
    expect(after.out).toContain(': not today');
    const listAll = await cli(dir, 'approvals', 'list', '--all', '--json');
    expect(listAll.json?.challenges).toEqual([
      expect.objectContaining({ challenge_id: id, state: 'denied' }),
    ]);
    expect((await cli(dir, 'approvals', 'list')).out).toContain('1 closed challenge(s) not shown');
    const closed = await cli(dir, 'run', '--challenge', id, '--json');
    expect(closed.code).toBe(1);
    expect(errorCode(closed.json)).toBe('CHALLENGE_CLOSED');
    const deniedTwice = await cli(dir, 'deny', id, '--key', key(dir, 'approver-3'), '--json');
    expect(errorCode(deniedTwice.json)).toBe('CHALLENGE_CLOSED');
    expect(readFileSync(exported, 'utf8')).toContain('helm.approval.request.v1');
  });

  it('approved without a timelock: run --challenge runs once, the emergency flag is refused by a rule without one', async () => {
    const dir = await home(0);
    const held = await cli(dir, ...DEPLOY, '--json');
    const id = held.json?.approval_challenge_id as string;
    const emergency = await cli(dir, 'approve', id, '--key', key(dir, 'approver-1'), '--emergency', '--json');
    expect(emergency.code).toBe(1);
    expect(errorCode(emergency.json)).toBe('GOVERNANCE_EVENT_INVALID');
    await cli(dir, 'approve', id, '--key', key(dir, 'approver-1'));
    const second = await cli(dir, 'approve', id, '--key', key(dir, 'approver-2'));
    expect(second.out).toContain('runnable once until');
    expect(second.out).toContain('(runs the approved call once)');
    const ran = await cli(dir, 'run', '--challenge', id);
    expect(ran.code).toBe(0);
    expect(ran.out).toContain('SUCCEEDED ALLOW');
    expect((await cli(dir, 'approvals', 'show', id)).out).toContain('used: the approved call ran');
  });
});
