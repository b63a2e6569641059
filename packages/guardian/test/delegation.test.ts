// Delegation sessions (Gate 5): adversarial cases.

import { canonicalBytes, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { draftSession, type GuardianError, loadPolicyStack, pkceChallenge } from '../src/index.ts';
import {
  BUNDLE,
  CHALLENGE,
  harness,
  P0,
  request,
  signBundle,
  stack,
  trustedBundleKeys,
  VERIFIER,
  VOCABULARY,
} from './fixtures.ts';

const READ_GRANT = {
  tool: { eq: 'fs' },
  action: { eq: 'read' },
  resource: { prefix: '/data/public/' },
  effect_type: { eq: 'fs.read' },
};

function setup(overrides: Parameters<typeof harness>[0] = {}, policy?: Parameters<typeof harness>[1]) {
  const h = harness(overrides, policy);
  const create = (extra: Record<string, unknown> = {}) =>
    h.guardian.delegations!.create({
      delegator: 'alice',
      delegate: 'agent-7',
      grants: [READ_GRANT],
      ttl_ms: 60_000,
      code_challenge: CHALLENGE,
      mfa_verified: true,
      ...extra,
    });
  const call = (
    sessionId: string,
    nonce: string,
    opts: { verifier?: string; principal?: string; credential?: string; resource?: string } = {},
  ) =>
    request(
      { principal: opts.principal ?? 'agent-7', resource: opts.resource ?? '/data/public/a.txt' },
      {
        credential_id: opts.credential ?? 'cred-agent',
        delegation: { session_id: sessionId, code_verifier: opts.verifier ?? VERIFIER, nonce },
      },
    );
  return { ...h, create, call };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

describe('delegation sessions', () => {
  it('creates a signed, content-addressed session and emits an ATTESTATION', () => {
    const { create, sink } = setup();
    const { session, envelope } = create();
    expect(session.session_id).toMatch(/^sha256:/);
    expect(envelope.type).toBe('helm.delegation.v1');
    expect(
      sink.events.filter((e) => e.kind === 'ATTESTATION' && e.event === 'delegation.created'),
    ).toHaveLength(1);
    // creating the identical session again is idempotent
    create();
    expect(sink.events.filter((e) => e.event === 'delegation.created')).toHaveLength(1);
  });

  it('allows an in-scope call and emits a TRUST_EVENT bind', () => {
    const { guardian, create, call, sink } = setup();
    const { session } = create();
    const r = guardian.evaluate(call(session.session_id, 'nonce-0000000000001'));
    expect(r.record.reason_code).toBe('ALLOW');
    expect(r.record.session_id).toBe(session.session_id);
    expect(sink.events.some((e) => e.kind === 'TRUST_EVENT' && e.event === 'delegation.bound')).toBe(true);
  });

  const adversarial: [
    string,
    (s: ReturnType<typeof setup>, id: string) => ReturnType<typeof request>,
    string,
  ][] = [
    [
      'wrong verifier',
      (s, id) => s.call(id, 'nonce-0000000000002', { verifier: 'w'.repeat(43) }),
      'DELEGATION_INVALID',
    ],
    [
      'principal is not the delegate',
      (s, id) => s.call(id, 'nonce-0000000000003', { principal: 'bob', credential: 'cred-bob' }),
      'DELEGATION_INVALID',
    ],
    [
      'out of scope resource',
      (s, id) => s.call(id, 'nonce-0000000000004', { resource: '/data/other/x' }),
      'DELEGATION_SCOPE_VIOLATION',
    ],
    [
      'malformed presentation',
      (_s, id) =>
        request(
          { principal: 'agent-7' },
          { credential_id: 'cred-agent', delegation: { session_id: id, code_verifier: 'short', nonce: 'x' } },
        ),
      // stage 5 owns the presentation: malformed, it is that gate's denial (not ARGS_MALFORMED)
      'DELEGATION_INVALID',
    ],
  ];
  it.each(adversarial)('%s', (_name, make, expected) => {
    const s = setup();
    const { session } = s.create();
    expect(s.guardian.evaluate(make(s, session.session_id)).record.reason_code).toBe(expected);
  });

  it('rejects a replayed nonce', () => {
    const { guardian, create, call } = setup();
    const { session } = create();
    expect(guardian.evaluate(call(session.session_id, 'nonce-replay-00001')).record.reason_code).toBe(
      'ALLOW',
    );
    expect(guardian.evaluate(call(session.session_id, 'nonce-replay-00001')).record.reason_code).toBe(
      'DELEGATION_INVALID',
    );
  });

  it('rejects an expired session (and records the expiry once)', () => {
    const { guardian, create, call, clock, sink } = setup();
    const { session } = create();
    clock.advance(60_000);
    expect(guardian.evaluate(call(session.session_id, 'nonce-expired-0001')).record.reason_code).toBe(
      'DELEGATION_INVALID',
    );
    expect(guardian.evaluate(call(session.session_id, 'nonce-expired-0002')).record.reason_code).toBe(
      'DELEGATION_INVALID',
    );
    expect(sink.events.filter((e) => e.event === 'delegation.expired')).toHaveLength(1);
  });

  it('rejects a session used before its creation time (clock skew)', () => {
    const { guardian, create, call, clock } = setup();
    const { session } = create();
    clock.advance(-1);
    expect(guardian.evaluate(call(session.session_id, 'nonce-skew-000001')).record.reason_code).toBe(
      'DELEGATION_INVALID',
    );
  });

  it('rejects a revoked session (revocation recorded, idempotent)', () => {
    const { guardian, create, call, sink } = setup();
    const { session } = create();
    guardian.delegations!.revoke(session.session_id, 'alice', 'done');
    guardian.delegations!.revoke(session.session_id, 'alice', 'again');
    expect(guardian.evaluate(call(session.session_id, 'nonce-revoked-001')).record.reason_code).toBe(
      'DELEGATION_INVALID',
    );
    expect(sink.events.filter((e) => e.event === 'delegation.revoked')).toHaveLength(1);
    expect(code(() => guardian.delegations!.revoke(`sha256:${'0'.repeat(64)}`, 'a', 'b'))).toBe(
      'DELEGATION_INVALID',
    );
  });

  it('refuses scope widening at creation', () => {
    const { create } = setup();
    // bob's tool is not allowed to alice… and the grant is wider than alice's own authority
    expect(
      code(() =>
        create({
          grants: [
            {
              tool: { eq: 'fs' },
              action: { eq: 'read' },
              resource: { prefix: '/' },
              effect_type: { eq: 'fs.read' },
            },
          ],
        }),
      ),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    expect(
      code(() => create({ grants: [{ tool: { eq: 'shell' }, effect_type: { eq: 'code.execute' } }] })),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    // no effect_type constraint: could reach a P0-forbidden effect
    expect(
      code(() =>
        create({
          grants: [{ tool: { eq: 'fs' }, action: { eq: 'read' }, resource: { prefix: '/data/public/' } }],
        }),
      ),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    // overlaps the deny rule on /data/secret/
    expect(
      code(() =>
        create({
          grants: [
            {
              tool: { eq: 'fs' },
              action: { eq: 'read' },
              resource: { prefix: '/data/' },
              effect_type: { eq: 'fs.read' },
            },
          ],
        }),
      ),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    // a P0-forbidden effect type named outright
    expect(
      code(() => create({ grants: [{ tool: { eq: 'bank' }, effect_type: { eq: 'payment.transfer' } }] })),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    // a delegator who holds no authority at all
    expect(code(() => create({ delegator: 'mallory' }))).toBe('DELEGATION_SCOPE_VIOLATION');
    // rules with argument conditions cannot be proven to cover an unconditioned grant
    expect(
      code(() => create({ grants: [{ tool: { eq: 'bank' }, effect_type: { eq: 'payment.refund' } }] })),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    expect(code(() => create({ grants: [] }))).toBe('DELEGATION_SCOPE_VIOLATION');
  });

  it('accepts a multi-tool grant only when every tool is covered', () => {
    const { create } = setup();
    expect(
      code(() => create({ grants: [{ tool: { in: ['fs', 'http'] }, effect_type: { eq: 'fs.read' } }] })),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    expect(
      create({ grants: [{ tool: { in: ['http'] }, effect_type: { eq: 'net.egress' } }] }).session.grants,
    ).toHaveLength(1);
  });

  it('validates creation inputs', () => {
    const { create } = setup();
    const cases: [Record<string, unknown>, string][] = [
      [{ ttl_ms: 0 }, 'DELEGATION_INVALID'],
      [{ ttl_ms: 1.5 }, 'DELEGATION_INVALID'],
      [{ ttl_ms: 3_600_001 }, 'DELEGATION_INVALID'],
      [{ mfa_verified: false }, 'DELEGATION_INVALID'],
      [{ code_challenge: 'plain-verifier' }, 'DELEGATION_INVALID'],
      [{ delegator: '' }, 'DELEGATION_INVALID'],
      [{ delegate: '' }, 'DELEGATION_INVALID'],
      [{ grants: [{ tool: { prefix: 'f' } }] }, 'DELEGATION_INVALID'],
      [{ grants: [{ tool: { eq: 'fs' }, bogus: 1 }] }, 'DELEGATION_INVALID'],
      [{ grants: [{ tool: { eq: 'fs' }, resource: { eq: 'a', prefix: 'b' } }] }, 'DELEGATION_INVALID'],
    ];
    for (const [extra, expected] of cases)
      expect(
        code(() => create(extra)),
        JSON.stringify(extra),
      ).toBe(expected);
  });

  it('needs a loaded policy to create sessions', () => {
    const { create } = setup({ policy: undefined });
    expect(code(() => create())).toBe('DELEGATION_INVALID');
  });

  it('MFA is optional when P0 does not require it, but a session created without MFA is refused once P0 requires it', () => {
    const noMfa = loadPolicyStack({
      p0: { ...P0, require_delegation_mfa: false },
      bundles: [signBundle(BUNDLE)],
      trustedBundleKeys,
      vocabulary: VOCABULARY,
    });
    const s = setup({}, noMfa);
    const { session } = s.create({ mfa_verified: false });
    expect(session.mfa_verified).toBe(false);
    expect(s.guardian.evaluate(s.call(session.session_id, 'nonce-mfa-00000001')).record.reason_code).toBe(
      'ALLOW',
    );
    const strict = stack();
    (s.guardian.delegations as unknown as { options: { policy: () => unknown } }).options.policy = () =>
      strict;
    const check = s.guardian.delegations!.check(
      { session_id: session.session_id, code_verifier: VERIFIER, nonce: 'nonce-mfa-00000002' },
      {
        principal: 'agent-7',
        tenant: null,
        tool: 'fs',
        action: 'read',
        resource: '/data/public/a',
        effect_type: 'fs.read',
      },
    );
    expect(check).toMatchObject({ ok: false, code: 'DELEGATION_INVALID' });
  });

  it('re-checks the grant against the current policy at use (policy reload)', () => {
    const s = setup();
    const { session } = s.create();
    expect(s.guardian.evaluate(s.call(session.session_id, 'nonce-recheck-0000')).record.reason_code).toBe(
      'ALLOW',
    );
    const narrowed = stack([
      {
        type: 'helm.policy.overlay.v1',
        name: 'lockdown',
        rules: [{ id: 'no-public', effect: 'deny', when: { resource: { prefix: '/data/public/' } } }],
      },
    ]);
    const before = s.guardian.gateRosterHash;
    s.guardian.replacePolicy(narrowed, 'ops');
    expect(s.guardian.gateRosterHash).not.toBe(before);
    expect(s.sink.events.at(-1)).toMatchObject({
      kind: 'TRUST_EVENT',
      event: 'policy.replaced',
      subject: narrowed.stackHash,
    });
    const r = s.guardian.evaluate(s.call(session.session_id, 'nonce-recheck-0001')).record;
    expect(r.reason_code).toBe('DELEGATION_SCOPE_VIOLATION');
    expect(r.policy_stack_hash).toBe(narrowed.stackHash);
    // back to the original stack: the grant is proven again and works
    s.guardian.replacePolicy(stack(), 'ops');
    expect(s.guardian.evaluate(s.call(session.session_id, 'nonce-recheck-0001')).record.reason_code).toBe(
      'ALLOW',
    );
    expect(() => s.guardian.replacePolicy({} as never, 'ops')).toThrow(/PolicyStack/);
  });

  it('a presentation is invalid when no policy is loaded at use', () => {
    const s = setup();
    const { session } = s.create();
    (s.guardian as unknown as { policy: unknown }).policy = undefined;
    const check = s.guardian.delegations!.check(
      { session_id: session.session_id, code_verifier: VERIFIER, nonce: 'nonce-nopolicy-001' },
      {
        principal: 'agent-7',
        tenant: null,
        tool: 'fs',
        action: 'read',
        resource: '/data/public/a',
        effect_type: 'fs.read',
      },
    );
    expect(check).toMatchObject({ ok: false, code: 'DELEGATION_INVALID' });
  });

  it('binds the tenant of the session', () => {
    const { guardian, create } = setup();
    const { session } = create();
    const r = request(
      { principal: 'agent-7', tenant: 'acme', resource: '/data/public/a.txt' },
      {
        credential_id: 'cred-agent',
        delegation: { session_id: session.session_id, code_verifier: VERIFIER, nonce: 'nonce-tenant-00001' },
      },
    );
    expect(guardian.evaluate(r).record.reason_code).toBe('DELEGATION_INVALID');
  });

  it('pkceChallenge is base64url(SHA-256(verifier)) — RFC 7636 appendix B vector', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('a nonce consumed by a concurrent use between check and bind is refused', () => {
    const s = setup();
    const { session } = s.create();
    const nonces = (
      s.guardian.delegations as unknown as { options: { nonces: { consume: (k: string) => boolean } } }
    ).options.nonces;
    const orig = nonces.consume.bind(nonces);
    nonces.consume = (k) => {
      orig(k);
      return orig(k); // someone else consumed it first
    };
    const r = s.guardian.evaluate(
      s.call(session.session_id, 'nonce-race-0000001', { resource: '/data/public/a.txt' }),
    );
    expect(r.record.reason_code).toBe('DELEGATION_INVALID');
    expect(r.record.budget_reservation_id).toBeNull();
    expect(r.record.expires_at_ms).toBeNull();
    expect(r.record.approval_grant_id).toBeNull();
  });
});

describe('effective authority ∩ delegation scope (property)', () => {
  it('a delegated ALLOW is always also allowed to the delegator directly, and inside a grant', async () => {
    const fc = (await import('fast-check')).default;
    const h = setup();
    const { session } = h.create({
      grants: [
        {
          tool: { eq: 'fs' },
          action: { eq: 'read' },
          resource: { prefix: '/data/public/' },
          effect_type: { eq: 'fs.read' },
        },
        { tool: { eq: 'http' }, effect_type: { eq: 'net.egress' } },
      ],
    });
    let n = 0;
    let allows = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('fs', 'http', 'bank', 'deploy'),
        fc.constantFrom('read', 'write', 'get'),
        fc.constantFrom('/data/public/a', '/data/secret/b', '/data/x', 'https://api.example.com/'),
        fc.constantFrom('fs.read', 'fs.write', 'net.egress', 'compute'),
        (tool, action, resource, effect_type) => {
          const nonce = `nonce-property-${String(n++).padStart(6, '0')}`;
          const destination =
            effect_type === 'net.egress'
              ? { destination: { host: 'api.example.com', protocol: 'https', payload_bytes: 1 } }
              : {};
          const delegated = request(
            { principal: 'agent-7', tool, action, resource, effect_type },
            {
              credential_id: 'cred-agent',
              delegation: { session_id: session.session_id, code_verifier: VERIFIER, nonce },
              ...destination,
            },
          );
          const direct = request({ tool, action, resource, effect_type }, destination);
          if (h.guardian.evaluate(delegated).record.verdict === 'ALLOW') {
            allows++;
            expect(h.guardian.evaluate(direct).record.verdict).toBe('ALLOW');
            expect(
              tool === 'http' || (tool === 'fs' && action === 'read' && resource.startsWith('/data/public/')),
            ).toBe(true);
          }
        },
      ),
      { numRuns: 150, seed: 42 },
    );
    expect(allows).toBeGreaterThan(0);
  });
});

describe('I-RULES-1: draftSession and restore (sessions created outside the registry, or before a restart)', () => {
  const input = {
    delegator: 'alice',
    delegate: 'agent-7',
    grants: [READ_GRANT],
    ttl_ms: 60_000,
    code_challenge: CHALLENGE,
    mfa_verified: true,
  };

  it('draftSession is exactly the session create makes at the same instant', () => {
    const s = setup();
    const drafted = draftSession(s.guardian.policyStack!, input, s.clock.now());
    expect(s.create().session).toStrictEqual(drafted);
  });

  it('a restored session authorizes in-scope calls of the delegate holding the verifier, once per nonce', () => {
    const s = setup();
    const session = draftSession(s.guardian.policyStack!, input, s.clock.now());
    s.guardian.delegations!.restore(session);
    s.guardian.delegations!.restore(session); // idempotent
    expect(s.guardian.evaluate(s.call(session.session_id, 'nonce-restored-01')).record.reason_code).toBe(
      'ALLOW',
    );
    expect(s.guardian.evaluate(s.call(session.session_id, 'nonce-restored-01')).record.reason_code).toBe(
      'DELEGATION_INVALID',
    );
    // PKCE: a verifier that is not the one whose challenge the session holds
    expect(
      s.guardian.evaluate(s.call(session.session_id, 'nonce-restored-02', { verifier: 'x'.repeat(43) }))
        .record.reason_code,
    ).toBe('DELEGATION_INVALID');
    // scope
    expect(
      s.guardian.evaluate(s.call(session.session_id, 'nonce-restored-03', { resource: '/data/other/a' }))
        .record.reason_code,
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    s.guardian.delegations!.revoke(session.session_id, 'alice', 'done');
    expect(s.guardian.evaluate(s.call(session.session_id, 'nonce-restored-04')).record.reason_code).toBe(
      'DELEGATION_INVALID',
    );
  });

  const reId = (body: Record<string, unknown>) => {
    const { session_id: _drop, ...rest } = body;
    return { ...rest, session_id: digest(canonicalBytes(rest)) } as never;
  };

  it('refuses a body whose lifetime exceeds the P0 maximum, even with a consistent id', () => {
    const s = setup();
    const session = draftSession(s.guardian.policyStack!, input, s.clock.now());
    const long = reId({ ...session, expires_at_ms: session.created_at_ms + P0.max_delegation_ttl_ms + 1 });
    expect(code(() => s.guardian.delegations!.restore(long))).toBe('DELEGATION_INVALID');
    const backwards = reId({ ...session, expires_at_ms: session.created_at_ms });
    expect(code(() => s.guardian.delegations!.restore(backwards))).toBe('DELEGATION_INVALID');
  });

  it('refuses a body whose id is not its digest, one without MFA where P0 requires it, and malformed ones', () => {
    const s = setup();
    const session = draftSession(s.guardian.policyStack!, input, s.clock.now());
    const r = (x: unknown) => code(() => s.guardian.delegations!.restore(x as never));
    expect(r({ ...session, delegate: 'mallory' })).toBe('DELEGATION_INVALID');
    expect(r(reId({ ...session, mfa_verified: false }))).toBe('DELEGATION_INVALID');
    expect(r(reId({ ...session, grants: [] }))).toBe('DELEGATION_INVALID');
    expect(r(reId({ ...session, grants: [{ tool: { prefix: 'f' } }] }))).toBe('DELEGATION_INVALID');
    expect(r(null)).toBe('DELEGATION_INVALID');
    expect(r({ ...session, extra: 1 })).toBe('DELEGATION_INVALID');
  });

  it('a restored body that widens the scope past the delegator gains nothing: re-proven at every use', () => {
    const s = setup();
    const session = draftSession(s.guardian.policyStack!, input, s.clock.now());
    // the whole of /data/ (alice may read it, but it overlaps the deny rule on /data/secret/)
    const wide = reId({
      ...session,
      grants: [{ ...READ_GRANT, resource: { prefix: '/data/' } }],
    });
    s.guardian.delegations!.restore(wide);
    const id = (wide as { session_id: string }).session_id;
    expect(
      s.guardian.evaluate(s.call(id, 'nonce-wide-000001', { resource: '/data/public/a' })).record.reason_code,
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    expect(
      s.guardian.evaluate(s.call(id, 'nonce-wide-000002', { resource: '/data/secret/k' })).record.reason_code,
    ).toBe('DELEGATION_SCOPE_VIOLATION');
  });

  it('draftSession refuses what create refuses (TTL past P0, no MFA, scope escalation)', () => {
    const s = setup();
    const stack = s.guardian.policyStack!;
    const now = s.clock.now();
    expect(code(() => draftSession(stack, { ...input, ttl_ms: P0.max_delegation_ttl_ms + 1 }, now))).toBe(
      'DELEGATION_INVALID',
    );
    expect(code(() => draftSession(stack, { ...input, mfa_verified: false }, now))).toBe(
      'DELEGATION_INVALID',
    );
    expect(
      code(() =>
        draftSession(stack, { ...input, grants: [{ ...READ_GRANT, resource: { prefix: '/data/' } }] }, now),
      ),
    ).toBe('DELEGATION_SCOPE_VIOLATION');
    expect(code(() => draftSession(stack, { ...input, tenant: '' }, now))).toBe('DELEGATION_INVALID');
    expect(code(() => draftSession(stack, null as never, now))).toBe('DELEGATION_INVALID');
  });
});
