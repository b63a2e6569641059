// Identity bindings, the egress allowlist and delegation sessions of a data directory: what an
// operator types is validated into exactly one rule/binding/session, config.json mistakes are user
// errors that name the fix, and the folds the runtime and the listing commands share are
// deterministic.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes, digest } from '@helm/crypto';
import { ManualClock, pkceChallenge } from '@helm/guardian';
import { describe, expect, it } from 'vitest';
import {
  appendGovernanceEvent,
  DataDir,
  delegateCreate,
  delegateRevoke,
  delegationList,
  egressAllow,
  GovernedRuntime,
  identityAdd,
  identityRemove,
  importGovernanceEvent,
  initDataDir,
  RuntimeError,
  signGovernanceEvent,
} from '../src/index.ts';
import {
  draftDelegation,
  foldSessions,
  grantsFrom,
  newCodeVerifier,
  parseTtl,
  policyStackOf,
  presentation,
} from '../src/internal/delegation.ts';
import {
  applyEgressEdit,
  baseEgress,
  type EgressEntry,
  egressRuleFrom,
  egressRuleId,
  parseEgressTarget,
} from '../src/internal/egress.ts';
import { applyIdentityEdit, baseIdentity, identityBindingFrom } from '../src/internal/identity.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

function errorOf(fn: () => unknown): RuntimeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RuntimeError) return error;
    throw new Error(`not a RuntimeError: ${String(error)}`);
  }
  throw new Error('no error');
}

function fresh(config: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'helm-rules-'));
  const { data } = initDataDir(dir, {
    chainId: 'rules',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [
        { id: 'alice-echo', effect: 'allow', when: { principal: { eq: 'alice' }, tool: { eq: 'echo' } } },
      ],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeConfig({ ...data.config(), ...config } as never);
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  return data;
}

describe('egress targets', () => {
  it.each([
    ['api.example.com', { host: 'api.example.com' }],
    ['API.Example.COM.', { host: 'api.example.com' }],
    ['*.example.com', { host: '*.example.com' }],
    ['bücher.example', { host: 'xn--bcher-kva.example' }],
    ['localhost', { host: 'localhost' }],
    ['127.0.0.1', { cidr: '127.0.0.1/32' }],
    ['::1', { cidr: '0:0:0:0:0:0:0:1/128' }],
    ['[::1]', { cidr: '0:0:0:0:0:0:0:1/128' }],
    ['::ffff:127.0.0.1', { cidr: '127.0.0.1/32' }],
    ['10.0.0.0/8', { cidr: '10.0.0.0/8' }],
    ['2001:DB8::/32', { cidr: '2001:db8::/32' }],
  ])('%s is %j', (text, expected) => {
    expect(parseEgressTarget(text)).toEqual(expected);
  });

  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
  ])('the numeric spelling %s of %s is refused, and the hint shows the address', (text, address) => {
    const e = errorOf(() => parseEgressTarget(text));
    expect(e.code).toBe('USAGE');
    expect(e.message).toContain(address);
    expect(e.hint).toContain(`helmts egress allow ${address}`);
  });

  it.each([
    ['http://127.0.0.1:8080/echo', 'helmts egress allow 127.0.0.1 --protocol http --port 8080'],
    ['https://api.example.com/v1', 'helmts egress allow api.example.com --protocol https'],
    ['localhost:8080', 'helmts egress allow localhost --port 8080'],
  ])('%s is refused with the command that says it', (text, command) => {
    const e = errorOf(() => parseEgressTarget(text));
    expect(e.code).toBe('USAGE');
    expect(e.hint).toContain(command);
  });

  it.each([
    '',
    '*.com',
    '*.127.0.0.1',
    'a b',
    'a*.example.com',
    '10.0.0.0/33',
    'x/8',
    'evil.com/api',
    'a@b.com',
  ])('%j is refused as a usage error with a hint', (text) => {
    const e = errorOf(() => parseEgressTarget(text));
    expect(e.code).toBe('USAGE');
    expect(e.hint).toBeTruthy();
    expect(e.hint).not.toMatch(/bug/);
  });
});

describe('egress rules and their fold', () => {
  it('one rule per allow: sorted, deduplicated, https and 1 MiB by default, content-addressed id', () => {
    const rule = egressRuleFrom({
      targets: ['b.example.com', '127.0.0.1', 'a.example.com', 'b.example.com'],
    });
    expect(rule).toEqual({
      hosts: ['a.example.com', 'b.example.com'],
      cidrs: ['127.0.0.1/32'],
      protocols: ['https'],
      max_payload_bytes: 1_048_576,
    });
    const same = egressRuleFrom({ targets: ['127.0.0.1', 'a.example.com', 'b.example.com'] });
    expect(egressRuleId(same)).toBe(egressRuleId(rule));
    expect(egressRuleId(rule)).toMatch(/^[0-9a-f]{16}$/);
    expect(
      egressRuleFrom({
        targets: ['localhost'],
        protocols: ['HTTP'],
        ports: [8080, 80, 8080],
        maxPayloadBytes: 0,
      }),
    ).toEqual({ hosts: ['localhost'], protocols: ['http'], ports: [80, 8080], max_payload_bytes: 0 });
    for (const bad of [
      { targets: [] },
      { targets: ['a.com'], protocols: ['ht tp'] },
      { targets: ['a.com'], ports: [0] },
      { targets: ['a.com'], ports: [70000] },
      { targets: ['a.com'], maxPayloadBytes: -1 },
    ])
      expect(errorOf(() => egressRuleFrom(bad)).code, JSON.stringify(bad)).toBe('USAGE');
  });

  it('allow and remove fold deterministically; duplicates and unknown ids change nothing', () => {
    const a = egressRuleFrom({ targets: ['a.example.com'] });
    const b = egressRuleFrom({ targets: ['10.0.0.0/8'], protocols: ['http'] });
    let entries: readonly EgressEntry[] = [];
    const step = (edit: Parameters<typeof applyEgressEdit>[1]) => {
      const r = applyEgressEdit(entries, edit);
      entries = r.entries;
      return r.applied;
    };
    expect(step({ action: 'egress.allow', body: { rule: a } })).toBe(true);
    expect(step({ action: 'egress.allow', body: { rule: b } })).toBe(true);
    expect(step({ action: 'egress.allow', body: { rule: a } })).toBe(false);
    expect(step({ action: 'egress.remove', body: { rule_id: 'ffffffffffffffff' } })).toBe(false);
    expect(step({ action: 'egress.allow', body: { rule: { hosts: ['127.0.0.1'] } as never } })).toBe(false);
    expect(step({ action: 'egress.allow', body: null as never })).toBe(false);
    expect(entries.map((e) => e.rule)).toEqual([a, b]);
    expect(step({ action: 'egress.remove', body: { rule_id: egressRuleId(a) } })).toBe(true);
    expect(entries.map((e) => e.rule)).toEqual([b]);
  });

  it('config.json: the documented {"rules": […]} and the older bare list are both read', () => {
    const rule = { hosts: ['localhost'], protocols: ['http'], max_payload_bytes: 10 };
    expect(baseEgress({ egress: { rules: [rule] } } as never).map((e) => e.rule)).toEqual([rule]);
    expect(baseEgress({ egress: [rule] } as never).map((e) => e.rule)).toEqual([rule]);
    expect(baseEgress({} as never)).toEqual([]);
    for (const [egress, text] of [
      [{ rules: [rule], extra: 1 }, 'unknown field extra'],
      [{ rules: 'x' }, '"rules" must be a list'],
      [{ rules: [{ ...rule, hosts: ['127.0.0.1'] }] }, '127.0.0.1/32'],
      [{ rules: [{ ...rule, port: [80] }] }, 'unknown field port'],
    ] as const) {
      const e = errorOf(() => baseEgress({ egress } as never));
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toContain(text);
      expect(e.hint).toContain('helmts egress');
    }
  });

  it('a runtime over a config.json listing 127.0.0.1 under hosts refuses to open with a user error naming the cidrs entry', async () => {
    const data = fresh({
      egress: { rules: [{ hosts: ['127.0.0.1'], protocols: ['http'], max_payload_bytes: 10 }] },
    });
    const e = await GovernedRuntime.open(data, { clock: new ManualClock(T0) }).then(
      () => {
        throw new Error('opened');
      },
      (error: unknown) => error as RuntimeError,
    );
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('127.0.0.1/32');
    expect(e.hint).not.toMatch(/bug/);
    data.close();
  });
});

describe('identity bindings', () => {
  it('add and remove fold deterministically; a bound credential is never silently rebound', () => {
    let bindings = baseIdentity({ identity: [{ credential_id: 'cred-alice', principal: 'alice' }] } as never);
    const step = (edit: Parameters<typeof applyIdentityEdit>[1]) => {
      const r = applyIdentityEdit(bindings, edit);
      bindings = [...r.bindings];
      return r.applied ? 'applied' : r.why;
    };
    expect(step({ action: 'identity.add', body: { credential_id: 'cred-bob', principal: 'bob' } })).toBe(
      'applied',
    );
    expect(
      step({ action: 'identity.add', body: { credential_id: 'cred-bob', principal: 'mallory' } }),
    ).toContain('is bound to bob');
    expect(step({ action: 'identity.add', body: { credential_id: 'cred-bob', principal: 'bob' } })).toContain(
      'already bound',
    );
    expect(step({ action: 'identity.remove', body: { credential_id: 'cred-zed' } })).toContain('not bound');
    expect(
      step({ action: 'identity.add', body: { credential_id: 'c', principal: 'p', tenant: 'x' } as never }),
    ).toContain('unknown field tenant');
    expect(step({ action: 'identity.remove', body: { credential_id: 'cred-alice' } })).toBe('applied');
    expect(bindings).toEqual([{ credential_id: 'cred-bob', principal: 'bob' }]);
  });

  it('identityBindingFrom: tenants sorted and deduplicated, --no-tenant adds null, bad text is a usage error', () => {
    expect(
      identityBindingFrom({ credential: 'c1', principal: 'alice', tenants: ['b', 'a', 'b'], noTenant: true }),
    ).toEqual({ credential_id: 'c1', principal: 'alice', tenants: ['a', 'b', null] });
    expect(identityBindingFrom({ credential: 'c1', principal: 'alice' })).toEqual({
      credential_id: 'c1',
      principal: 'alice',
    });
    for (const bad of [
      { credential: '', principal: 'a' },
      { credential: 'has space', principal: 'a' },
      { credential: 'c', principal: 'line\nbreak' },
      { credential: 'c', principal: 'a', tenants: [''] },
    ])
      expect(errorOf(() => identityBindingFrom(bad)).code).toBe('USAGE');
  });

  it('a config.json binding the guardian refuses is CONFIG_INVALID at open, not INTERNAL', async () => {
    const data = fresh({
      identity: [
        { credential_id: 'cred-alice', principal: 'alice' },
        { credential_id: 'cred-alice', principal: 'bob' },
      ],
    });
    await expect(GovernedRuntime.open(data, { clock: new ManualClock(T0) })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    data.close();
  });

  it('a call without a bound credential is a receipted GATE_IDENTITY_ISOLATION, not ARGS_MALFORMED', async () => {
    const data = fresh();
    const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    try {
      for (const context of [
        { environment_fingerprint: FINGERPRINT },
        { environment_fingerprint: FINGERPRINT, credential_id: 'cred-nobody' },
      ]) {
        const r = await rt.execute({ tool: 'echo', principal: 'alice', args: {}, context });
        expect(r.status).toBe('DENIED');
        expect(r.reason_code).toBe('GATE_IDENTITY_ISOLATION');
        expect(r.receipt).not.toBeNull();
      }
    } finally {
      await rt.close();
      data.close();
    }
  });
});

describe('delegation sessions', () => {
  const input = (over: Record<string, unknown> = {}) => ({
    delegator: 'alice',
    delegate: 'agent-7',
    grants: [{ tool: { eq: 'echo' }, effect_type: { eq: 'compute' } }],
    ttl_ms: 600_000,
    code_challenge: pkceChallenge(newCodeVerifier()),
    mfa_verified: true,
    ...over,
  });

  it('parseTtl reads a number and a unit, nothing else', () => {
    expect(parseTtl('500ms')).toBe(500);
    expect(parseTtl('90s')).toBe(90_000);
    expect(parseTtl('15m')).toBe(900_000);
    expect(parseTtl('1h')).toBe(3_600_000);
    expect(parseTtl('2d')).toBe(172_800_000);
    for (const bad of ['15', '0m', '-1h', '1.5h', '1 h', 'h', '1w', '99999999999999d'])
      expect(errorOf(() => parseTtl(bad)).code, bad).toBe('USAGE');
  });

  it('grantsFrom takes the effect class from the pinned descriptor', () => {
    const data = fresh();
    expect(grantsFrom(data, { tools: ['echo'] })).toEqual([
      { tool: { eq: 'echo' }, effect_type: { eq: 'compute' } },
    ]);
    expect(grantsFrom(data, { tools: ['echo'], action: 'run', resourcePrefix: '/data/' })).toEqual([
      {
        tool: { eq: 'echo' },
        action: { eq: 'run' },
        resource: { prefix: '/data/' },
        effect_type: { eq: 'compute' },
      },
    ]);
    expect(errorOf(() => grantsFrom(data, { tools: ['nope'] })).code).toBe('USAGE');
    expect(errorOf(() => grantsFrom(data, {})).code).toBe('USAGE');
    expect(errorOf(() => grantsFrom(data, { grants: ['{"tool":'] })).code).toBe('JSON_INVALID');
    data.close();
  });

  it('draftDelegation refuses with the fix: TTL past P0, no MFA, scope escalation', () => {
    const data = fresh();
    const refused = (over: Record<string, unknown>) =>
      errorOf(() => draftDelegation(data, input(over) as never, T0));
    const long = refused({ ttl_ms: 3_600_001 });
    expect(long.code).toBe('INVALID_INPUT');
    expect(long.hint).toContain('--ttl');
    expect(refused({ mfa_verified: false }).hint).toContain('--mfa-verified');
    const wide = refused({ grants: [{ tool: { eq: 'deploy' }, effect_type: { eq: 'compute' } }] });
    expect(wide.message).toContain('DELEGATION_SCOPE_VIOLATION');
    expect(refused({ delegator: 'bob' }).message).toContain('DELEGATION_SCOPE_VIOLATION');
    const session = draftDelegation(data, input() as never, T0);
    expect(session.policy_stack_hash).toBe(policyStackOf(data).stackHash);
    expect(session.expires_at_ms - session.created_at_ms).toBe(600_000);
    data.close();
  });

  it('foldSessions: active, expired, revoked (first revocation wins), and refused bodies', () => {
    const data = fresh();
    const stack = policyStackOf(data);
    const a = draftDelegation(data, input() as never, T0);
    const b = draftDelegation(data, input({ delegate: 'agent-8' }) as never, T0);
    // a body with a lifetime past the P0 maximum and a consistent id
    const { session_id: _id, ...longer } = { ...a, expires_at_ms: a.created_at_ms + 7_200_000 };
    const forged = { ...longer, session_id: digest(canonicalBytes(longer)) };
    const ev = (action: string, body: unknown, at = T0) => ({ action, body, at, signer: 'k' }) as never;
    const views = foldSessions(
      stack,
      [
        ev('delegation.create', { session: a }),
        ev('delegation.create', { session: b }),
        ev('delegation.revoke', { session_id: b.session_id, reason: 'done' }, T0 + 5),
        ev('delegation.revoke', { session_id: b.session_id, reason: 'again' }, T0 + 6),
        ev('delegation.create', { session: forged }),
        ev('delegation.create', { session: null }),
      ],
      T0 + 10,
    );
    expect(views.map((v) => v.status)).toEqual(['active', 'revoked', 'refused']);
    expect(views[1]?.revoked).toEqual({ at: T0 + 5, by: 'k', reason: 'done' });
    expect(foldSessions(stack, [ev('delegation.create', { session: a })], a.expires_at_ms)[0]?.status).toBe(
      'expired',
    );
    data.close();
  });

  it('presentation: a fresh nonce per call; malformed ids and verifiers are usage errors', () => {
    const v = newCodeVerifier();
    expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = `sha256:${'a'.repeat(64)}`;
    const p1 = presentation(id, v);
    const p2 = presentation(id, v);
    expect(p1.nonce).not.toBe(p2.nonce);
    expect(errorOf(() => presentation('abc', v)).code).toBe('USAGE');
    expect(errorOf(() => presentation(id, 'short')).code).toBe('USAGE');
  });
});

describe('I-RULES-1: governance edits applied by the runtime (identity, egress, delegation)', () => {
  const policy = (data: ReturnType<typeof fresh>) => data.localKey('policy').signer;
  const open = (data: ReturnType<typeof fresh>, at: number) =>
    GovernedRuntime.open(data, { clock: new ManualClock(at) });
  const echo = (principal: string, context: Record<string, unknown>) => ({
    tool: 'echo',
    principal,
    args: {},
    context: { environment_fingerprint: FINGERPRINT, ...context },
  });

  it('an identity, egress or delegation event signed elsewhere by a key without the policy role is refused on import', () => {
    const data = fresh();
    const { trust_anchor: trustAnchor, chain_id: chainId } = data.config();
    const approver = data.localKey('approver-1').signer;
    for (const [action, body] of [
      ['identity.add', { credential_id: 'cred-mallory', principal: 'alice' }],
      ['egress.allow', { rule: egressRuleFrom({ targets: ['evil.example'] }) }],
      ['delegation.revoke', { session_id: `sha256:${'0'.repeat(64)}` }],
    ] as const) {
      const envelope = signGovernanceEvent({
        action,
        body: body as never,
        signer: approver,
        at: T0,
        trustAnchor,
        chainId,
      });
      expect(() => importGovernanceEvent(data, envelope)).toThrow(
        expect.objectContaining({ code: 'KEY_NOT_VALID' }),
      );
    }
    // signed by the policy key, but for another data directory's chain
    const elsewhere = signGovernanceEvent({
      action: 'identity.add',
      body: { credential_id: 'cred-x', principal: 'alice' },
      signer: policy(data),
      at: T0,
      trustAnchor,
      chainId: 'another-chain',
    });
    expect(() => importGovernanceEvent(data, elsewhere)).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE_EVENT_INVALID' }),
    );
    expect(data.store.governanceEventsSync()).toEqual([]);
    data.close();
  });

  it('delegateCreate/delegateRevoke: the verifier is returned once, revocation is checked against the log', async () => {
    const data = fresh();
    identityAdd(data, { credential_id: 'cred-agent', principal: 'agent-7' }, policy(data), T0);
    const input = {
      delegator: 'alice',
      delegate: 'agent-7',
      grants: grantsFrom(data, { tools: ['echo'] }),
      ttl_ms: 600_000,
      mfa_verified: true,
    };
    const created = delegateCreate(data, input, policy(data), T0);
    expect(created.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.session.code_challenge).toBe(pkceChallenge(created.code_verifier as string));
    // a challenge of the delegate's own: no verifier is made or returned
    const own = delegateCreate(
      data,
      { ...input, code_challenge: pkceChallenge(newCodeVerifier()) },
      policy(data),
      T0,
    );
    expect(own.code_verifier).toBeNull();
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as RuntimeError).code;
      }
      return 'none';
    };
    expect(codeOf(() => delegateRevoke(data, 'not-an-id', undefined, policy(data), T0))).toBe('USAGE');
    expect(codeOf(() => delegateRevoke(data, `sha256:${'0'.repeat(64)}`, undefined, policy(data), T0))).toBe(
      'INVALID_INPUT',
    );
    delegateRevoke(data, created.session.session_id, 'done', policy(data), T0 + 1);
    expect(
      codeOf(() => delegateRevoke(data, created.session.session_id, 'again', policy(data), T0 + 2)),
    ).toBe('INVALID_INPUT');
    expect(
      codeOf(() =>
        appendGovernanceEvent(data, {
          action: 'delegation.create',
          body: { session: own.session, extra: 1 } as never,
          signer: policy(data),
          at: T0,
        }),
      ),
    ).toBe('INVALID_INPUT');
    const views = delegationList(data, T0 + 3);
    expect(views.map((v) => [v.session.session_id, v.status])).toEqual([
      [created.session.session_id, 'revoked'],
      [own.session.session_id, 'active'],
    ]);
    expect(views[0]?.revoked).toMatchObject({ reason: 'done', by: policy(data).keyId });
    const rt = await open(data, T0 + 5);
    try {
      const r = await rt.execute(
        echo('agent-7', {
          credential_id: 'cred-agent',
          delegation: presentation(created.session.session_id, created.code_verifier as string),
        }),
      );
      expect(r.reason_code).toBe('DELEGATION_INVALID');
    } finally {
      await rt.close();
      data.close();
    }
  });

  it('an edit appended while a runtime is open applies before its next decision; a later open re-applies it', async () => {
    const data = fresh();
    const rt = await open(data, T0);
    try {
      expect((await rt.execute(echo('alice', { credential_id: 'cred-alice' }))).status).toBe('SUCCEEDED');
      identityRemove(new DataDir(data.dir), 'cred-alice', policy(data), T0);
      expect((await rt.execute(echo('alice', { credential_id: 'cred-alice' }))).reason_code).toBe(
        'GATE_IDENTITY_ISOLATION',
      );
    } finally {
      await rt.close();
    }
    const again = await open(data, T0 + 1_000);
    try {
      expect((await again.execute(echo('alice', { credential_id: 'cred-alice' }))).reason_code).toBe(
        'GATE_IDENTITY_ISOLATION',
      );
    } finally {
      await again.close();
      data.close();
    }
  });

  it('re-application at a later open never fails on what config.json says by then', async () => {
    const data = fresh();
    identityAdd(data, { credential_id: 'cred-bob', principal: 'alice' }, policy(data), T0);
    egressAllow(data, egressRuleFrom({ targets: ['api.example.com'] }), policy(data), T0);
    await (await open(data, T0)).close();
    // a hand edit after the fact: the same credential for someone else, the same rule again
    data.writeConfig({
      ...data.config(),
      identity: [
        { credential_id: 'cred-alice', principal: 'alice' },
        { credential_id: 'cred-bob', principal: 'mallory' },
      ],
      egress: { rules: [egressRuleFrom({ targets: ['api.example.com'] })] },
    } as never);
    const rt = await open(data, T0 + 1_000);
    try {
      // the applied governance edit wins over the hand edit
      expect((await rt.execute(echo('alice', { credential_id: 'cred-bob' }))).status).toBe('SUCCEEDED');
      expect((await rt.execute(echo('mallory', { credential_id: 'cred-bob' }))).reason_code).toBe(
        'GATE_IDENTITY_ISOLATION',
      );
    } finally {
      await rt.close();
      data.close();
    }
  });

  it('a session body appended without the creation proof gains nothing: its scope is re-proven at use', async () => {
    const data = fresh();
    identityAdd(data, { credential_id: 'cred-agent', principal: 'agent-7' }, policy(data), T0);
    const verifier = newCodeVerifier();
    // alice may call echo only; this body grants a tool she may not call, with a consistent id
    const honest = draftDelegation(
      data,
      {
        delegator: 'alice',
        delegate: 'agent-7',
        grants: [{ tool: { eq: 'echo' }, effect_type: { eq: 'compute' } }],
        ttl_ms: 600_000,
        code_challenge: pkceChallenge(verifier),
        mfa_verified: true,
      },
      T0,
    );
    const { session_id: _id, ...body } = { ...honest, grants: [{ tool: { in: ['echo', 'shell'] } }] };
    const forged = { ...body, session_id: digest(canonicalBytes(body)) };
    appendGovernanceEvent(data, {
      action: 'delegation.create',
      body: { session: forged } as never,
      signer: policy(data),
      at: T0,
    });
    const rt = await open(data, T0 + 1);
    try {
      const r = await rt.execute(
        echo('agent-7', {
          credential_id: 'cred-agent',
          delegation: presentation(forged.session_id, verifier),
        }),
      );
      expect(r.reason_code).toBe('DELEGATION_SCOPE_VIOLATION');
    } finally {
      await rt.close();
      data.close();
    }
  });

  it('a session past the P0 maximum is refused before it is appended; one valid then is not held after P0 lowers it', async () => {
    const data = fresh();
    identityAdd(data, { credential_id: 'cred-agent', principal: 'agent-7' }, policy(data), T0);
    const verifier = newCodeVerifier();
    const input = {
      delegator: 'alice',
      delegate: 'agent-7',
      grants: [{ tool: { eq: 'echo' }, effect_type: { eq: 'compute' } }],
      ttl_ms: 1_800_000,
      code_challenge: pkceChallenge(verifier),
      mfa_verified: true,
    };
    const session = draftDelegation(data, input, T0);
    const { session_id: _id, ...longer } = { ...session, expires_at_ms: session.created_at_ms + 7_200_000 };
    const tooLong = { ...longer, session_id: digest(canonicalBytes(longer)) };
    expect(() =>
      appendGovernanceEvent(data, {
        action: 'delegation.create',
        body: { session: tooLong } as never,
        signer: policy(data),
        at: T0,
      }),
    ).toThrow(RuntimeError);
    appendGovernanceEvent(data, {
      action: 'delegation.create',
      body: { session } as never,
      signer: policy(data),
      at: T0,
    });
    const call = () =>
      echo('agent-7', {
        credential_id: 'cred-agent',
        delegation: presentation(session.session_id, verifier),
      });
    let rt = await open(data, T0 + 1);
    try {
      expect((await rt.execute(call())).status).toBe('SUCCEEDED');
    } finally {
      await rt.close();
    }
    // P0 now caps sessions at 10 minutes: the next open does not hold the 30-minute session
    const p0 = data.p0() as Record<string, unknown>;
    data.writePolicy(
      { ...p0, max_delegation_ttl_ms: 600_000 },
      JSON.parse(Buffer.from(data.signedBundle().payload, 'base64url').toString()),
      data.signer('policy', 'policy'),
    );
    rt = await open(data, T0 + 2);
    try {
      expect((await rt.execute(call())).reason_code).toBe('DELEGATION_INVALID');
    } finally {
      await rt.close();
      data.close();
    }
  });

  it('an edit whose first application finds it moot is recorded rejected, with no effect and no receipt', async () => {
    const data = fresh();
    identityAdd(data, { credential_id: 'cred-bob', principal: 'alice' }, policy(data), T0);
    const rule = egressRuleFrom({ targets: ['api.example.com'] });
    egressAllow(data, rule, policy(data), T0);
    identityRemove(data, 'cred-alice', policy(data), T0);
    // before any runtime applies them, config.json gets cred-bob for mallory and the same rule
    data.writeConfig({
      ...data.config(),
      identity: [
        { credential_id: 'cred-alice', principal: 'alice' },
        { credential_id: 'cred-bob', principal: 'mallory' },
      ],
      egress: { rules: [rule] },
    } as never);
    const rt = await open(data, T0);
    try {
      expect((await rt.execute(echo('mallory', { credential_id: 'cred-bob' }))).reason_code).not.toBe(
        'GATE_IDENTITY_ISOLATION',
      );
      expect((await rt.execute(echo('alice', { credential_id: 'cred-alice' }))).reason_code).toBe(
        'GATE_IDENTITY_ISOLATION',
      );
    } finally {
      await rt.close();
    }
    const outcomes = data.store
      .governanceAppliedSync()
      .map((a) => (a.record as { outcome: string; code: string | null }).code ?? 'applied');
    expect(outcomes).toEqual(['IDENTITY_EDIT_REFUSED', 'EGRESS_EDIT_REFUSED', 'applied']);
    const tools = data.store
      .receiptsSync({ chainId: 'rules' })
      .map((r) => JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString()).tool as string)
      .filter((t) => t.startsWith('helm.admin.'));
    expect(tools).toEqual(['helm.admin.identity.remove']);
    data.close();
  });
});
