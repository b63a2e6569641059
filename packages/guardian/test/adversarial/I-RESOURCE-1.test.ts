// I-RESOURCE-1 — a resource reaches delegation scopes and policy rules only in the canonical form
// of its kind (absolute path, URL, opaque; docs/spec/policy.md §Resource canonical form); any other
// spelling is denied RESOURCE_NONCANONICAL at the context stage, before any matching. Resource
// prefixes of paths and URLs end at a segment boundary (validated when policies and delegation
// grants are loaded), so a rule written for one subtree can never match a sibling.
// Written from the attacker's side: spell a forbidden resource so that a raw string match misses it.
import { DECISION_TYPE, type DecisionRecord } from '@helm/contracts';
import { openVerifiedEnvelope } from '@helm/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Evaluation, GuardianError } from '../../src/index.ts';
import { BUNDLE, CHALLENGE, harness, request, VERIFIER } from '../fixtures.ts';
import { FEW_RUNS, guardianOn, RUNS, stackOf } from './helpers.ts';

const seg = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
const segs = fc.array(seg, { minLength: 1, maxLength: 4 });
const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

const ENC_DOTDOT = ['%2e%2e', '%2E%2E', '%2e%2E', '.%2e', '%2e.', '%2E.'];
const ENC_DOT = ['%2e', '%2E'];
const ENC_SLASH = ['%2f', '%2F'];
const CONTROLS = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001f', '\u007f', '\u0085', '\u009b'];

/** Spellings of `/data/secret/<rest>` that a naive path resolver maps to that file. */
const PATH_TRICKS: ((x: string, rest: string, i: number) => string)[] = [
  (x, rest) => `/data/${x}/../secret/${rest}`,
  (_x, rest) => `/data/./secret/${rest}`,
  (_x, rest) => `/data//secret/${rest}`,
  (_x, rest) => `/data/secret//${rest}`,
  (_x, rest) => `//data/secret/${rest}`,
  (_x, rest) => `/data/secret/${rest}/`,
  (_x, rest) => `/data/secret/${rest}/.`,
  (x, rest) => `/data/secret/${rest}/${x}/..`,
  (x, rest, i) => `/data/${x}/${pick(ENC_DOTDOT, i)}/secret/${rest}`,
  (_x, rest, i) => `/data/${pick(ENC_DOT, i)}/secret/${rest}`,
  (x, rest, i) => `/data/${x}${pick(ENC_SLASH, i)}..${pick(ENC_SLASH, i + 1)}secret/${rest}`,
  (_x, rest, i) => `/data${pick(ENC_SLASH, i)}secret/${rest}`,
  (x, rest) => `/data/${x}\\..\\secret/${rest}`,
  (_x, rest) => `/data\\secret/${rest}`,
  (x, rest) => `/data/${x}/%252e%252e/secret/${rest}`,
  (_x, rest, i) => `/data/secret/${rest}${pick(CONTROLS, i)}`,
  (x, rest, i) => `/data/${x}${pick(CONTROLS, i)}/../secret/${rest}`,
  (x, rest) => `/data/${x}/\u2025/secret/${rest}`, // TWO DOT LEADER (NFKC "..")
  (x, rest) => `/data/${x}/\uff0e\uff0e/secret/${rest}`, // fullwidth full stops
  (_x, rest) => `/data\uff0fsecret/${rest}`, // fullwidth solidus
  (x, rest) => `/data/${x}/.././/secret/${rest}`, // mixed
  (x, rest, i) => `/data/${x}/${pick(ENC_DOTDOT, i)}//./secret/${rest}`, // mixed, encoded
  (_x, rest) => `/data/\uff53ecret/${rest}`, // fullwidth "s" (NFKC "secret")
  (_x, rest) => `/data/\u017fecret/${rest}`, // long s
  (_x, rest) => `/data/\u{1d42c}ecret/${rest}`, // mathematical bold "s"
];

function deniedAtContext(ev: Evaluation): void {
  expect(ev.record.verdict).toBe('DENY');
  expect(ev.record.reason_code).toBe('RESOURCE_NONCANONICAL');
  expect(ev.record.decided_by).toBe('context');
  expect(ev.record.expires_at_ms).toBeNull();
}

const read = (resource: string) => request({ resource });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

describe('I-RESOURCE-1: resources are matched only in canonical form', () => {
  it('no spelling of a path under a denied subtree passes the deny rule (fixture: deny /data/secret/)', () => {
    const { guardian } = harness();
    fc.assert(
      fc.property(seg, segs, fc.nat(), fc.nat(PATH_TRICKS.length - 1), (x, rest, i, t) => {
        const target = `/data/secret/${rest.join('/')}`;
        // control: the canonical spelling is denied by the policy rule
        expect(guardian.evaluate(read(target)).record.reason_code).toBe('POLICY_DENY');
        deniedAtContext(guardian.evaluate(read(PATH_TRICKS[t]!(x, rest.join('/'), i))));
      }),
      RUNS,
    );
  });

  it('dot segments cannot climb out of an allowed subtree (fixture: allow /data/)', () => {
    const { guardian } = harness();
    const escapes: ((x: string, out: string, i: number) => string)[] = [
      (_x, out) => `/data/../${out}`,
      (x, out) => `/data/${x}/../../${out}`,
      (_x, out, i) => `/data/${pick(ENC_DOTDOT, i)}/${out}`,
      (_x, out) => `/data/..\\${out}`,
      (_x, out) => `/data/\u2025/${out}`,
    ];
    fc.assert(
      fc.property(seg, segs, fc.nat(), fc.nat(escapes.length - 1), (x, out, i, e) => {
        const outside = `etc/${out.join('/')}`;
        expect(guardian.evaluate(read(`/${outside}`)).record.reason_code).toBe('NO_POLICY');
        deniedAtContext(guardian.evaluate(read(escapes[e]!(x, outside, i))));
      }),
      RUNS,
    );
    deniedAtContext(guardian.evaluate(read('/data/../etc/shadow')));
    deniedAtContext(guardian.evaluate(read('/data/public/../secret/key.pem')));
    deniedAtContext(guardian.evaluate(read('/data//secret/key.pem')));
    deniedAtContext(guardian.evaluate(read('/data/./secret/key.pem')));
  });

  it('canonical paths are decided by the rules, and the signed ALLOW names exactly the canonical form', () => {
    const { guardian } = harness();
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 5 }), (parts) => {
        const resource = `/data/${parts.join('/')}`;
        const ev = guardian.evaluate(read(resource));
        const expected =
          resource === '/data/secret' || resource.startsWith('/data/secret/') ? 'POLICY_DENY' : 'ALLOW';
        expect(ev.record.reason_code).toBe(expected);
        const signed = openVerifiedEnvelope<DecisionRecord>(
          ev.decision,
          DECISION_TYPE,
          guardian.publicKeys,
        ).body;
        expect(signed.resource).toBe(resource);
        expect(ev.effect?.resource).toBe(resource);
        if (ev.record.budget_reservation_id !== null) guardian.refundBudget(ev.record.budget_reservation_id);
      }),
      { seed: 1, numRuns: 50 },
    );
    // a deny on a subtree covers its root node too (a recursive tool given the directory acts on all of it)
    expect(guardian.evaluate(read('/data/secret')).record.reason_code).toBe('POLICY_DENY');
    // decomposed (NFD) and compatibility spellings are never canonical
    deniedAtContext(guardian.evaluate(read('/data/cafe\u0301')));
    expect(guardian.evaluate(read('/data/caf\u00e9')).record.reason_code).toBe('ALLOW');
    // a file name that merely contains dots is canonical
    expect(guardian.evaluate(read('/data/a..b/.hidden/x.tar.gz')).record.reason_code).toBe('ALLOW');
    // …and "%" not followed by two hex digits is an ordinary character
    expect(guardian.evaluate(read('/data/100%/x%zz')).record.reason_code).toBe('ALLOW');
    deniedAtContext(guardian.evaluate(read('/data/x%41')));
  });

  it('no spelling of a URL under a denied prefix passes the deny rule', () => {
    const policy = stackOf([
      ...BUNDLE.rules,
      {
        id: 'deny-admin-api',
        effect: 'deny',
        when: { tool: { eq: 'http' }, resource: { prefix: 'https://api.example.com/admin/' } },
      },
    ]);
    const { guardian } = guardianOn(policy);
    const call = (resource: string) =>
      request(
        { tool: 'http', effect_type: 'net.egress', resource },
        { destination: { host: 'api.example.com', protocol: 'https', payload_bytes: 1 } },
      );
    const tricks: ((x: string, rest: string, i: number) => string)[] = [
      (x, rest) => `https://api.example.com/${x}/../admin/${rest}`,
      (_x, rest) => `https://api.example.com/./admin/${rest}`,
      (x, rest, i) => `https://api.example.com/${x}/${pick(ENC_DOTDOT, i)}/admin/${rest}`,
      (_x, rest, i) => `https://api.example.com/${pick(ENC_DOT, i)}/admin/${rest}`,
      (_x, rest) => `https://api.example.com//admin/${rest}`,
      (_x, rest) => `https://api.example.com/admin//${rest}`,
      (_x, rest) => `https://API.example.com/admin/${rest}`,
      (_x, rest) => `HTTPS://api.example.com/admin/${rest}`,
      (_x, rest) => `https://api.example.com:443/admin/${rest}`,
      (x, rest) => `https://${x}@api.example.com/admin/${rest}`,
      (x, rest) => `https://${x}:pw@api.example.com/admin/${rest}`,
      (_x, rest) => `https://api.example.com./admin/${rest}`,
      (_x, rest) => `https://api.example.com\\admin/${rest}`,
      (x, rest) => `https://api.example.com/${x}\\..\\admin/${rest}`,
      (x, rest, i) => `https://api.example.com/${x}${pick(ENC_SLASH, i)}..${pick(ENC_SLASH, i)}admin/${rest}`,
      (_x, rest) => `https://api.example.com/%61dmin/${rest}`, // encoded unreserved "a"
      (_x, rest) => `https://api.example.com/admin/${rest}%2F`,
      (_x, rest) => `https://api.example.com/admin/${rest}%3a`, // lower-case hex
      (_x, rest, i) => `https://api.example.com/admin/${rest}${pick(CONTROLS, i)}`,
      (_x, rest) => ` https://api.example.com/admin/${rest}`,
      (_x, rest) => `https://api.example.com/admin/${rest}\u00e9`, // not percent-encoded
      (x, rest) => `https://api.example.com/${x}/..;/admin/${rest}`, // servlet-style dot segment
      (x, rest) => `https://api.example.com/${x}/..%3B/admin/${rest}`,
      (_x, rest) => `https://api.example.com/admin;x/${rest}`, // matrix parameter
    ];
    fc.assert(
      fc.property(seg, segs, fc.nat(), fc.nat(tricks.length - 1), (x, rest, i, t) => {
        const path = rest.join('/');
        expect(guardian.evaluate(call(`https://api.example.com/admin/${path}`)).record.reason_code).toBe(
          'POLICY_DENY',
        );
        const ok = guardian.evaluate(call(`https://api.example.com/public/${path}?q=${x}#${x}`));
        expect(ok.record.reason_code).toBe('ALLOW');
        guardian.refundBudget(ok.record.budget_reservation_id!);
        deniedAtContext(guardian.evaluate(call(tricks[t]!(x, path, i))));
      }),
      RUNS,
    );
  });

  it('opaque resources with control characters or dot segments are denied', () => {
    const { guardian } = harness();
    const call = (resource: string) =>
      request(
        { tool: 'http', effect_type: 'net.egress', resource },
        { destination: { host: 'api.example.com', protocol: 'https', payload_bytes: 1 } },
      );
    const tricks: ((x: string, i: number) => string)[] = [
      (x) => `svc/${x}/../admin`,
      (x) => `svc/./${x}`,
      (x) => `svc\\..\\${x}`,
      (x) => `../${x}`,
      (x) => `${x}/..`,
      () => '..',
      () => '.',
      (x, i) => `svc/${x}/${pick(ENC_DOTDOT, i)}/admin`,
      (x) => `svc/\u2025/${x}`,
      (x, i) => `svc/${x}${pick(CONTROLS, i)}`,
      (x, i) => `${pick(CONTROLS, i)}${x}`,
      (x) => ` ${x}`,
      (x) => `${x}\u00a0`,
      () => ` https://api.example.com/admin/`,
    ];
    fc.assert(
      fc.property(seg, fc.nat(), fc.nat(tricks.length - 1), (x, i, t) => {
        for (const fine of [`svc/${x}`, x, `${x}@example.com`, `${x}...`, `C:${x}`, `urn:${x}:1.2`]) {
          const ok = guardian.evaluate(call(fine));
          expect(ok.record.reason_code).toBe('ALLOW');
          guardian.refundBudget(ok.record.budget_reservation_id!);
        }
        deniedAtContext(guardian.evaluate(call(tricks[t]!(x, i))));
      }),
      RUNS,
    );
    // lone surrogates never reach a rule either (the request itself is not strict JSON)
    for (const lone of ['svc/\ud800', '\udfffsvc']) {
      const ev = guardian.evaluate(call(lone));
      expect(ev.record.decided_by).toBe('context');
      expect(['ARGS_MALFORMED', 'RESOURCE_NONCANONICAL']).toContain(ev.record.reason_code);
    }
  });

  it('a delegate cannot leave its granted subtree with path tricks', () => {
    const { guardian } = harness();
    const { session } = guardian.delegations!.create({
      delegator: 'alice',
      delegate: 'agent-7',
      grants: [
        {
          tool: { eq: 'fs' },
          action: { eq: 'read' },
          resource: { prefix: '/data/public/' },
          effect_type: { eq: 'fs.read' },
        },
      ],
      ttl_ms: 600_000,
      code_challenge: CHALLENGE,
      mfa_verified: true,
    });
    let n = 0;
    const call = (resource: string) =>
      request(
        { principal: 'agent-7', resource },
        {
          credential_id: 'cred-agent',
          delegation: {
            session_id: session.session_id,
            code_verifier: VERIFIER,
            nonce: `nonce-${String(n++).padStart(12, '0')}`,
          },
        },
      );
    fc.assert(
      fc.property(seg, segs, fc.nat(), fc.nat(PATH_TRICKS.length - 1), (x, rest, i, t) => {
        const trick = PATH_TRICKS[t]!(x, rest.join('/'), i).replace('/data/', '/data/public/');
        expect(guardian.evaluate(call(`/data/secret/${rest.join('/')}`)).record.reason_code).toBe(
          'DELEGATION_SCOPE_VIOLATION',
        );
        deniedAtContext(guardian.evaluate(call(trick)));
      }),
      FEW_RUNS,
    );
    deniedAtContext(guardian.evaluate(call('/data/public/../secret/key.pem')));
  });

  it('path and URL prefixes end at a segment boundary (rejected at load otherwise)', () => {
    const allowUnder = (resource: Record<string, unknown>) => [
      {
        id: 'allow-sub',
        effect: 'allow' as const,
        when: { principal: { eq: 'alice' }, tool: { eq: 'fs' }, resource },
      },
    ];
    fc.assert(
      fc.property(segs, seg, (dir, sibling) => {
        const prefix = `/${dir.join('/')}`;
        // a path prefix without the trailing "/" would also match `${prefix}${sibling}` (a sibling)
        expect(code(() => stackOf(allowUnder({ prefix })))).toBe('POLICY_BUNDLE_INVALID');
        const { guardian } = guardianOn(stackOf(allowUnder({ prefix: `${prefix}/` })));
        expect(guardian.evaluate(read(`${prefix}/${sibling}`)).record.reason_code).toBe('ALLOW');
        expect(guardian.evaluate(read(`${prefix}${sibling}/x`)).record.reason_code).toBe('NO_POLICY');
        // a non-canonical literal can never match a canonical resource: rejected like any never-match
        for (const bad of [`${prefix}/../${sibling}/`, `${prefix}//`, `${prefix}/./`]) {
          expect(code(() => stackOf(allowUnder({ prefix: bad })))).toBe('POLICY_BUNDLE_INVALID');
        }
        expect(code(() => stackOf(allowUnder({ eq: `${prefix}/${sibling}/` })))).toBe(
          'POLICY_BUNDLE_INVALID',
        );
        expect(code(() => stackOf(allowUnder({ in: [`${prefix}/./${sibling}`] })))).toBe(
          'POLICY_BUNDLE_INVALID',
        );
        // URL prefixes too: `https://host` would match `https://host.evil.example/`
        expect(code(() => stackOf(allowUnder({ prefix: `https://${sibling}.example.com` })))).toBe(
          'POLICY_BUNDLE_INVALID',
        );
        expect(code(() => stackOf(allowUnder({ prefix: `https://${sibling}.example.com/${dir[0]}` })))).toBe(
          'POLICY_BUNDLE_INVALID',
        );
        expect(stackOf(allowUnder({ prefix: `https://${sibling}.example.com/` }))).toBeDefined();
      }),
      FEW_RUNS,
    );
    // delegation grants are held to the same rule
    const { guardian } = harness();
    expect(
      code(() =>
        guardian.delegations!.create({
          delegator: 'alice',
          delegate: 'agent-7',
          grants: [
            {
              tool: { eq: 'fs' },
              action: { eq: 'read' },
              resource: { prefix: '/data/public' },
              effect_type: { eq: 'fs.read' },
            },
          ],
          ttl_ms: 600_000,
          code_challenge: CHALLENGE,
          mfa_verified: true,
        }),
      ),
    ).toBe('DELEGATION_INVALID');
  });
});
