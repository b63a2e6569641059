// I-POLICY-1 — key rotations that keep the data directory working, idempotency scope, receipt policies and
// budgets — through real, separate `helm` processes (the built CLI), as an operator runs them
// (#17 §2). Attacker tests first: a bundle signed by a rotated-out key, a planted bundle a policy
// rotation must not launder, key reuse with other arguments, a descriptor of an unknown class.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner, signEnvelope } from '@helm/crypto';
import { DataDir, defaultReceiptPolicies } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { BIN, requireCurrentBuild } from './cli-process.ts';
import { ECHO_TOOL, fixedBudgetWindow, runCli, snapshotTree, tempRoot } from './helpers.ts';

const root = tempRoot('helm-keys-budget-');

interface Run {
  readonly code: number;
  readonly json: Record<string, unknown>;
  readonly out: string;
}

/** `helm --data-dir <dir> <args> --json` in a process of its own. */
function helm(dir: string, ...args: string[]): Run {
  requireCurrentBuild();
  const r = spawnSync(process.execPath, [BIN, '--data-dir', dir, ...args, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, HELM_HOME: '' },
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // not JSON: the test shows `out`
  }
  return { code: r.status ?? -1, json, out: `${r.stdout}${r.stderr}` };
}

/** The same in this process: set-up and reads, where a process of its own proves nothing more. */
async function local(dir: string, ...args: string[]): Promise<Run> {
  const r = await runCli(['--data-dir', dir, ...args, '--json']);
  return { code: r.code, json: r.json ?? {}, out: r.out };
}

let n = 0;
async function home(...initArgs: string[]): Promise<string> {
  const dir = join(root, `home-${++n}`);
  expect((await local(dir, 'init', ...initArgs)).code).toBe(0);
  const descriptor = join(root, `echo-${n}.json`);
  writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
  expect((await local(dir, 'tool', 'register', descriptor)).code).toBe(0);
  return dir;
}

const echo = (dir: string, args = '{"x":1}', ...more: string[]) =>
  helm(dir, 'run', '--tool', 'echo', '--principal', 'local', '--args', args, ...more);

function registrySeq(dir: string): number {
  const data = new DataDir(dir);
  try {
    return data.registry().seq;
  } finally {
    data.close();
  }
}

describe('keys rotate policy', () => {
  it('re-signs the policy in force: later runs succeed, the old-key-signed bundle is refused, re-execution is byte-identical', async () => {
    const dir = await home();
    const rp = join(root, 'rp.json');
    writeFileSync(rp, JSON.stringify(defaultReceiptPolicies()));
    expect((await local(dir, 'receipt-policy', 'sign', rp)).code).toBe(0);
    expect(echo(dir).code).toBe(0);
    const oldBundle = join(root, `old-bundle-${n}.json`);
    copyFileSync(join(dir, 'policy', 'bundle.signed.json'), oldBundle);
    const rotated = helm(dir, 'keys', 'rotate', 'policy');
    expect(rotated.code, rotated.out).toBe(0);
    expect(rotated.json).toMatchObject({
      roles: ['policy'],
      resigned: ['policy/bundle.signed.json', 'policy/receipt-policies.signed.json'],
    });
    const after = echo(dir, '{"x":2}');
    expect(after.code, after.out).toBe(0);
    expect(after.json).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW' });
    expect((await local(dir, 'receipt-policy', 'show')).json).toMatchObject({
      source: 'file',
      signed_by: rotated.json.new_keyid,
    });
    // Every receipt, before and after the rotation, re-executes byte for byte.
    const re = helm(dir, 'replay', '--reexecute');
    expect(re.code, re.out).toBe(0);
    expect(re.json).toMatchObject({ reexecution: { ok: true, calls: 2, identical: 2 } });
    // The bundle as the rotated-out key signed it: refused, with a hint that says what to do.
    copyFileSync(oldBundle, join(dir, 'policy', 'bundle.signed.json'));
    const refused = echo(dir, '{"x":3}');
    expect(refused.code).toBe(2);
    expect(refused.json).toMatchObject({ error: { code: 'POLICY_INVALID' } });
    expect(String((refused.json.error as { hint: string }).hint)).toContain('helmts policy sign');
  });

  it('never launders a bundle the rotated key did not sign', async () => {
    const dir = await home();
    const planted = signEnvelope(
      {
        type: 'helm.policy.bundle.v1',
        name: 'planted',
        version: 1,
        rules: [{ id: 'all', effect: 'allow', when: {} }],
      },
      [createSigner(new Uint8Array(32).fill(0x41))],
    );
    writeFileSync(join(dir, 'policy', 'bundle.signed.json'), JSON.stringify(planted));
    expect(echo(dir).json).toMatchObject({ error: { code: 'POLICY_INVALID' } });
    const rotated = helm(dir, 'keys', 'rotate', 'policy');
    expect(rotated.code, rotated.out).toBe(0);
    expect(rotated.json.resigned).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'policy', 'bundle.signed.json'), 'utf8'))).toEqual(planted);
    expect(echo(dir).json).toMatchObject({ error: { code: 'POLICY_INVALID' } });
  });
});

describe('keys rotate root', () => {
  it('without --confirm explains the ceremony and changes nothing', async () => {
    const dir = await home();
    const before = snapshotTree(dir);
    const r = helm(dir, 'keys', 'rotate', 'root');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ performed: false, root_threshold: 1, root_keys: 1 });
    expect(String(r.json.next)).toContain('--confirm');
    const human = spawnSync(process.execPath, [BIN, '--data-dir', dir, 'keys', 'rotate', 'root'], {
      encoding: 'utf8',
    }).stdout;
    expect(human).toContain('trust anchor');
    expect(human).toContain('Nothing was changed');
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('with --confirm replaces the root keys present (offline, 2 of 3), and the registry keeps working under them', async () => {
    const offline = join(root, 'offline-roots');
    const dir = await home('--root-keys', '3', '--root-threshold', '2', '--root-key-dir', offline);
    const anchor = ((await local(dir, 'trust', 'head')).json as { trust_anchor: string }).trust_anchor;
    // One custodian is absent: the ceremony runs with root-1 and root-2 only.
    const present = join(root, 'present-roots');
    mkdirSync(present);
    for (const name of ['root-1', 'root-2']) {
      copyFileSync(join(offline, `${name}.json`), join(present, `${name}.json`));
    }
    const seq = registrySeq(dir);
    // Below the threshold nothing is signed.
    const lone = join(root, 'lone-root');
    mkdirSync(lone);
    copyFileSync(join(offline, 'root-3.json'), join(lone, 'root-3.json'));
    expect(helm(dir, 'keys', 'rotate', 'root', '--root-key-dir', lone, '--confirm').json).toMatchObject({
      error: { code: 'ROOT_KEYS_INSUFFICIENT' },
    });
    expect(registrySeq(dir)).toBe(seq);
    const r = helm(dir, 'keys', 'rotate', 'root', '--root-key-dir', present, '--confirm');
    expect(r.code, r.out).toBe(0);
    const rotated = r.json.rotated as { name: string; old_keyid: string; new_keyid: string }[];
    expect(rotated.map((k) => k.name)).toEqual(['root-1', 'root-2']);
    expect(registrySeq(dir)).toBe(seq + 2);
    // The old root seeds (the offline copies) no longer sign anything; the new ones (+ root-3) do.
    expect(
      helm(dir, 'keys', 'generate', 'extra', '--role', 'approver', '--root-key-dir', offline).json,
    ).toMatchObject({
      error: { code: 'ROOT_KEYS_INSUFFICIENT' },
    });
    expect(helm(dir, 'keys', 'generate', 'extra', '--role', 'approver', '--root-key-dir', present).code).toBe(
      0,
    );
    expect(existsSync(join(present, 'root-1.next.json'))).toBe(false);
    // The anchor is unchanged: a pack exported now verifies against it.
    expect(echo(dir).code).toBe(0);
    const pack = join(root, 'after-root.tar');
    expect((await local(dir, 'export', '-o', pack)).code).toBe(0);
    const verified = await local(join(root, 'nowhere'), 'verify', pack, '--trust-anchor', anchor);
    expect(verified.json).toMatchObject({ report: { status: 'PASS' } });
    expect(helm(dir, 'replay', '--reexecute').code).toBe(0);
  });
});

describe('idempotency scope through separate processes', () => {
  it('repeats without a key run again; a key replays; a key with other arguments conflicts', async () => {
    const dir = await home();
    const a = echo(dir, '{"x":7}');
    const b = echo(dir, '{"x":7}');
    expect([a.json.reason_code, b.json.reason_code]).toEqual(['ALLOW', 'ALLOW']);
    expect(b.json.replayed).toBe(false);
    expect(echo(dir, '{"x":8}', '--idempotency-key', 'job-1').json).toMatchObject({ reason_code: 'ALLOW' });
    expect(echo(dir, '{"x":8}', '--idempotency-key', 'job-1').json).toMatchObject({
      reason_code: 'IDEMPOTENT_REPLAY',
      replayed: true,
      output: { x: 8 },
    });
    const conflict = echo(dir, '{"x":9}', '--idempotency-key', 'job-1');
    expect(conflict.code).toBe(1);
    expect(conflict.json).toMatchObject({ status: 'DENIED', reason_code: 'IDEMPOTENCY_CONFLICT' });
    expect(helm(dir, 'replay', '--reexecute').json).toMatchObject({ reexecution: { ok: true, calls: 5 } });
  });
});

describe('receipt policies per effect class', () => {
  it('a descriptor of a class without a receipt policy is refused at registration, with a hint, and leaves nothing', async () => {
    const dir = await home();
    const crm = join(root, 'crm.json');
    writeFileSync(crm, JSON.stringify({ ...ECHO_TOOL, name: 'crm', effect_type: 'crm.write' }));
    const refused = helm(dir, 'tool', 'register', crm);
    expect(refused.code).toBe(2);
    expect(refused.json).toMatchObject({ error: { code: 'RECEIPT_POLICY_MISSING' } });
    expect(String((refused.json.error as { hint: string }).hint)).toContain('receipt-policy sign');
    expect(existsSync(join(dir, 'tools', 'crm.json'))).toBe(false);
    // Add the class (from `show --json` output), then the tool registers and runs.
    const shown = await local(dir, 'receipt-policy', 'show');
    const doc = shown.json.document as ReturnType<typeof defaultReceiptPolicies>;
    const file = join(root, 'rp-crm.json');
    writeFileSync(
      file,
      JSON.stringify({
        document: {
          ...doc,
          policies: [
            ...doc.policies,
            {
              effect_class: 'crm.write',
              risk_tier: 'HIGH',
              require_idempotency_key: false,
              min_approvals: 0,
              required_evidence: [],
            },
          ],
        },
      }),
    );
    expect(helm(dir, 'receipt-policy', 'sign', file).code).toBe(0);
    expect(helm(dir, 'tool', 'register', crm).code).toBe(0);
    expect(helm(dir, 'run', '--tool', 'crm', '--principal', 'local', '--args', '{"x":1}').json).toMatchObject(
      { status: 'DENIED', reason_code: 'NO_POLICY' },
    ); // governed: the default bundle allows echo only
    // A set that drops the class of a registered tool is not installed.
    const dropped = join(root, 'rp-dropped.json');
    writeFileSync(dropped, JSON.stringify(doc));
    expect((await local(dir, 'receipt-policy', 'sign', dropped)).json).toMatchObject({
      error: { code: 'RECEIPT_POLICY_MISSING' },
    });
    // Signing needs a key holding `policy`.
    expect((await local(dir, 'receipt-policy', 'sign', file, '--key', 'approver-1')).json).toMatchObject({
      error: { code: 'KEY_NOT_VALID' },
    });
  });
});

describe('budget show', () => {
  it('shows the default hourly budget, with when the current window refills', async () => {
    const dir = await home();
    const shown = helm(dir, 'budget', 'show', '--principal', 'local');
    expect(shown.code).toBe(0);
    expect(shown.json).toMatchObject({
      budgets: [{ layer: 'P0', window: 'hour', default_principal_max: 1000 }],
      accounts: [{ base: 'principal:local', spent: 0, remaining: 1000 }],
    });
    const account = (shown.json as { accounts: { account: string; refills_at_ms: number }[] }).accounts[0];
    const index = Number(/^hour:(\d+)\|principal:local$/.exec(String(account?.account))?.[1]);
    expect(account?.refills_at_ms).toBe((index + 1) * 3_600_000);
  });

  it('lists every budget and what each charged principal has spent and left', async () => {
    const dir = await home();
    // A fixed window here, so the counts cannot straddle an hour boundary of the real clock.
    fixedBudgetWindow(dir);
    expect(echo(dir).code).toBe(0);
    expect(echo(dir, '{"x":2}').code).toBe(0);
    const shown = helm(dir, 'budget', 'show');
    expect(shown.code).toBe(0);
    expect(shown.json).toMatchObject({
      budgets: [{ layer: 'P0', window: 'fixed', default_principal_max: 1000 }],
      accounts: [
        {
          base: 'principal:local',
          account: 'principal:local',
          spent: 2,
          remaining: 998,
          refills_at_ms: null,
        },
      ],
    });
    expect((await local(dir, 'budget', 'show', '--principal', 'nobody')).json).toMatchObject({
      accounts: [{ base: 'principal:nobody', spent: 0, remaining: 1000 }],
    });
  });
});

describe('budget reset through separate processes', () => {
  it('a reset signed by a key without policy is refused; a policy-signed one is applied by the next run and receipted', async () => {
    const dir = await home();
    fixedBudgetWindow(dir, 2);
    expect(echo(dir, '{"x":1}').code).toBe(0);
    expect(echo(dir, '{"x":2}').code).toBe(0);
    expect(echo(dir, '{"x":3}').json).toMatchObject({ reason_code: 'BUDGET_EXCEEDED' });
    // Attack: an approver (or executor) key signs the reset.
    for (const key of ['approver-1', 'executor']) {
      const refused = helm(dir, 'budget', 'reset', 'principal:local', '--key', key);
      expect(refused.code, refused.out).toBe(2);
      expect(refused.json).toMatchObject({ error: { code: 'KEY_NOT_VALID' } });
    }
    expect((await local(dir, 'budget', 'reset', 'local')).json).toMatchObject({ error: { code: 'USAGE' } });
    const reset = helm(dir, 'budget', 'reset', 'principal:local', '--reason', 'new quarter');
    expect(reset.code, reset.out).toBe(0);
    expect(reset.json).toMatchObject({ event: { seq: 1, action: 'budget.reset' } });
    // Not applied until a runtime ingests it: `show` says so.
    expect((await local(dir, 'budget', 'show')).json).toMatchObject({
      accounts: [{ base: 'principal:local', spent: 2 }],
      pending_resets: [{ seq: 1, account: 'principal:local' }],
    });
    const after = echo(dir, '{"x":4}');
    expect(after.json, after.out).toMatchObject({ status: 'SUCCEEDED', reason_code: 'ALLOW' });
    expect((await local(dir, 'budget', 'show')).json).toMatchObject({
      accounts: [{ base: 'principal:local', spent: 1 }],
      pending_resets: [],
    });
    const data = new DataDir(dir);
    try {
      const tools = data.store
        .receiptsSync()
        .map((r) => JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')).tool);
      expect(tools).toEqual(['echo', 'echo', 'echo', 'helm.admin.budget.reset', 'echo']);
    } finally {
      data.close();
    }
    // The policy key that signed the reset is rotated out later: still reproduced byte for byte
    // (each event is replayed at the registry state it was applied at).
    expect(helm(dir, 'keys', 'rotate', 'policy').code).toBe(0);
    expect(helm(dir, 'budget', 'reset', 'principal:local').code).toBe(0);
    expect(echo(dir, '{"x":5}').json).toMatchObject({ reason_code: 'ALLOW' });
    const re = helm(dir, 'replay', '--reexecute');
    expect(re.json, re.out).toMatchObject({ reexecution: { ok: true, calls: 7, identical: 7 } });
  });
});
