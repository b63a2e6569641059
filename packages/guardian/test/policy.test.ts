// Policy stack: signed bundle loading, load-time validation, conflicts, evaluation, and the
// property that narrowing (P2 overlays, P0 ceilings) never widens.
import type { PolicyMatch, SignedEnvelope } from '@helm/contracts';
import { toBase64Url } from '@helm/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type GuardianError,
  loadPolicyStack,
  PolicyStack,
  type PolicySubject,
  parseOverlay,
  parseP0,
} from '../src/index.ts';
import { matches } from '../src/internal/match.ts';
import {
  BUNDLE,
  bundleSigner,
  outsiderSigner,
  P0,
  signBundle,
  stack,
  trustedBundleKeys,
  VOCABULARY,
} from './fixtures.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

const subject = (over: Partial<PolicySubject> = {}): PolicySubject => ({
  principal: 'alice',
  tenant: null,
  tool: 'fs',
  action: 'read',
  resource: '/data/a',
  effect_type: 'fs.read',
  risk_tier: 'LOW',
  args: {},
  context: {},
  ...over,
});

const withRules = (rules: unknown[]) => ({ ...BUNDLE, rules });
const load = (bundle: unknown, overlays: unknown[] = [], p0: unknown = P0) =>
  loadPolicyStack({ p0, bundles: [signBundle(bundle)], overlays, trustedBundleKeys, vocabulary: VOCABULARY });

describe('bundle loading', () => {
  it('loads a signed bundle; hashes are content-derived and stable', () => {
    const a = stack();
    const b = stack();
    expect(a.stackHash).toBe(b.stackHash);
    expect(a.bundleDigests).toHaveLength(1);
    expect(a.p0Hash).toMatch(/^sha256:/);
    expect(load({ ...BUNDLE, version: 2 }).stackHash).not.toBe(a.stackHash);
  });

  const tampered: [string, () => SignedEnvelope][] = [
    ['unsigned', () => ({ ...signBundle(BUNDLE), signatures: [] })],
    ['signed by an untrusted key', () => signBundle(BUNDLE, outsiderSigner)],
    [
      'tampered payload',
      () => {
        const env = signBundle(BUNDLE);
        const evil = withRules([{ id: 'all', effect: 'allow', when: {} }]);
        return { ...env, payload: toBase64Url(new TextEncoder().encode(JSON.stringify(evil))) };
      },
    ],
    ['wrong envelope type', () => ({ ...signBundle(BUNDLE), type: 'helm.policy.overlay.v1' })],
    ['a signed non-bundle', () => signBundle({ type: 'helm.policy.bundle.v1', name: 'x' })],
  ];
  it.each(tampered)('rejects %s with POLICY_BUNDLE_INVALID', (_name, make) => {
    expect(code(() => loadPolicyStack({ p0: P0, bundles: [make()], trustedBundleKeys }))).toBe(
      'POLICY_BUNDLE_INVALID',
    );
  });

  it('enforces content pins when given', () => {
    const digestOf = stack().bundleDigests[0]!;
    const pinned = loadPolicyStack({
      p0: P0,
      bundles: [signBundle(BUNDLE)],
      trustedBundleKeys,
      vocabulary: VOCABULARY,
      pinnedBundleDigests: [digestOf],
    });
    expect(pinned.bundleDigests).toEqual([digestOf]);
    const other = { ...BUNDLE, version: 2 };
    expect(
      code(() =>
        loadPolicyStack({
          p0: P0,
          bundles: [signBundle(other)],
          trustedBundleKeys,
          vocabulary: VOCABULARY,
          pinnedBundleDigests: [digestOf],
        }),
      ),
    ).toBe('POLICY_BUNDLE_INVALID');
  });

  it('requires a valid P0 and at least one bundle', () => {
    expect(code(() => loadPolicyStack({ p0: P0, bundles: [], trustedBundleKeys }))).toBe(
      'POLICY_BUNDLE_INVALID',
    );
    expect(code(() => parseP0({ ...P0, extra: true }))).toBe('POLICY_BUNDLE_INVALID');
    expect(code(() => parseP0({ ...P0, budgets: {} }))).toBe('POLICY_BUNDLE_INVALID');
    expect(bundleSigner.keyId).toMatch(/^ed25519:/);
  });
});

describe('load-time rule validation', () => {
  const rejected: [string, unknown][] = [
    ['unknown rule field', { id: 'r', effect: 'allow', when: {}, priority: 1 }],
    ['unknown attribute', { id: 'r', effect: 'allow', when: { host: { eq: 'x' } } }],
    ['unknown operator', { id: 'r', effect: 'allow', when: { tool: { regex: '.*' } } }],
    ['empty matcher', { id: 'r', effect: 'allow', when: { tool: {} } }],
    ['empty in', { id: 'r', effect: 'allow', when: { tool: { in: [] } } }],
    ['eq contradicts prefix', { id: 'r', effect: 'allow', when: { resource: { eq: '/a', prefix: '/b' } } }],
    [
      'empty numeric range',
      { id: 'r', effect: 'allow', when: { tool: { eq: 'bank' }, args: { amount: { gt: 5, lt: 3 } } } },
    ],
    [
      'strict numeric point',
      { id: 'r', effect: 'allow', when: { tool: { eq: 'bank' }, args: { amount: { gt: 5, lte: 5 } } } },
    ],
    [
      'string and numeric operators',
      { id: 'r', effect: 'allow', when: { resource: { prefix: '/a', gt: 1 } } },
    ],
    [
      'prefix and glob disagree',
      { id: 'r', effect: 'allow', when: { resource: { prefix: '/a', glob: '/b*' } } },
    ],
    ['unknown risk tier', { id: 'r', effect: 'allow', when: { risk_tier: { eq: 'EXTREME' } } }],
    [
      'undeclared args field',
      { id: 'r', effect: 'allow', when: { tool: { eq: 'bank' }, args: { iban: { eq: 'x' } } } },
    ],
    [
      'args field for an undeclared tool',
      { id: 'r', effect: 'allow', when: { tool: { eq: 'fs' }, args: { amount: { eq: 1 } } } },
    ],
    [
      'args field with no tool constraint and no declaration',
      { id: 'r', effect: 'allow', when: { args: { nope: { eq: 1 } } } },
    ],
    [
      'undeclared context attribute',
      { id: 'r', effect: 'allow', when: { context: { region: { eq: 'eu' } } } },
    ],
    [
      'never-matching context',
      { id: 'r', effect: 'allow', when: { context: { ticket_priority: { in: [] } } } },
    ],
    ['deny rule with requirements', { id: 'r', effect: 'deny', when: {}, requires_proofs: ['x'] }],
    [
      'emergency quorum not stricter',
      {
        id: 'r',
        effect: 'allow',
        when: {},
        requires_approval: { quorum: 2, role: 'a', timelock_ms: 0, ttl_ms: 1, emergency_quorum: 2 },
      },
    ],
    ['bad rule id', { id: '', effect: 'allow', when: {} }],
  ];
  it.each(rejected)('rejects %s', (_name, rule) => {
    expect(code(() => load(withRules([rule])))).toBe('POLICY_BUNDLE_INVALID');
  });

  it('rejects duplicate rule ids', () => {
    const r = { id: 'dup', effect: 'allow', when: {} };
    expect(code(() => load(withRules([r, r])))).toBe('POLICY_BUNDLE_INVALID');
  });

  it('accepts declared args and context fields', () => {
    const s = load(
      withRules([
        {
          id: 'a',
          effect: 'allow',
          when: {
            tool: { in: ['bank'] },
            args: { currency: { in: ['EUR'] } },
            context: { ticket_priority: { gte: 2 } },
          },
        },
        { id: 'b', effect: 'allow', when: { args: { amount: { lte: 5 } } } },
      ]),
    );
    expect(
      s.evaluate(subject({ tool: 'bank', args: { currency: 'EUR' }, context: { ticket_priority: 3 } }))
        .allowed,
    ).toBe(true);
    expect(
      s.evaluate(subject({ tool: 'bank', args: { currency: 'EUR' }, context: { ticket_priority: 1 } }))
        .allowed,
    ).toBe(false);
    expect(s.evaluate(subject({ tool: 'x', args: { amount: 5 } })).allowed).toBe(true);
    expect(s.evaluate(subject({ tool: 'x', args: { amount: '5' } })).allowed).toBe(false);
    expect(s.evaluate(subject({ tool: 'x', args: [5] })).allowed).toBe(false);
  });

  it('overlays: validated, and may not add requirements', () => {
    expect(
      code(() =>
        parseOverlay({
          type: 'helm.policy.overlay.v1',
          name: 'o',
          rules: [{ id: 'x', effect: 'allow', when: {}, requires_proofs: ['p'] }],
        }),
      ),
    ).toBe('POLICY_BUNDLE_INVALID');
    expect(code(() => parseOverlay({ type: 'helm.policy.overlay.v1', rules: [] }))).toBe(
      'POLICY_BUNDLE_INVALID',
    );
  });
});

describe('stack conflicts are reported, not resolved', () => {
  it('finds P0-vs-allow, same-layer and P1-deny-vs-P2-allow conflicts', () => {
    const s = stack([
      {
        type: 'helm.policy.overlay.v1',
        name: 'o',
        rules: [{ id: 'o-allow-fs', effect: 'allow', when: { tool: { eq: 'fs' } } }],
      },
    ]);
    const pairs = s.conflicts.map((c) => `${c.deny_layer}:${c.deny_rule}>${c.allow_layer}:${c.allow_rule}`);
    expect(pairs).toContain('P1:deny-secrets>P1:allow-read');
    expect(pairs).toContain('P1:deny-secrets>P2:o-allow-fs');
    expect(pairs).toContain('P0:payment.transfer>P1:allow-refund'); // allow-refund has no effect_type constraint
    expect(pairs).not.toContain('P1:deny-secrets>P1:allow-http');
    expect(pairs).not.toContain('P0:payment.transfer>P1:allow-read');
  });
});

describe('evaluation', () => {
  const s = stack();
  it('default deny, deny overrides allow, P0 wins', () => {
    expect(s.evaluate(subject())).toMatchObject({ allowed: true, rule_id: 'allow-read' });
    expect(s.evaluate(subject({ tool: 'nope' }))).toMatchObject({ allowed: false, code: 'NO_POLICY' });
    expect(s.evaluate(subject({ resource: '/data/secret/x' }))).toMatchObject({
      allowed: false,
      code: 'POLICY_DENY',
      rule_id: 'deny-secrets',
    });
    expect(s.evaluate(subject({ effect_type: 'payment.transfer.instant' }))).toMatchObject({
      allowed: false,
      code: 'POLICY_CEILING_VIOLATION',
    });
    expect(s.evaluate(subject({ principal: 'mallory' }))).toMatchObject({
      allowed: false,
      code: 'NO_POLICY',
    });
  });

  it('overlay allowlists and denies narrow', () => {
    const o = stack([
      {
        type: 'helm.policy.overlay.v1',
        name: 'only-reports',
        rules: [{ id: 'reports', effect: 'allow', when: { resource: { glob: '/data/*.csv' } } }],
      },
      {
        type: 'helm.policy.overlay.v1',
        name: 'no-bob',
        rules: [{ id: 'no-bob', effect: 'deny', when: { principal: { eq: 'bob' } } }],
      },
    ]);
    expect(o.evaluate(subject({ resource: '/data/a.csv' })).allowed).toBe(true);
    expect(o.evaluate(subject({ resource: '/data/a.txt' }))).toMatchObject({
      allowed: false,
      code: 'POLICY_DENY',
      rule_id: 'only-reports:allowlist',
    });
    expect(o.evaluate(subject({ principal: 'bob', resource: '/data/a.csv' }))).toMatchObject({
      allowed: false,
      rule_id: 'no-bob',
    });
  });

  it('merges requirements of every matching allow rule (strictest approval, union of proofs)', () => {
    const req = (quorum: number, timelock: number, ttl: number, emergency?: number) => ({
      quorum,
      role: `r${quorum}`,
      timelock_ms: timelock,
      ttl_ms: ttl,
      ...(emergency === undefined ? {} : { emergency_quorum: emergency }),
    });
    const m = load(
      withRules([
        {
          id: 'a',
          effect: 'allow',
          when: { tool: { eq: 'x' } },
          requires_approval: req(1, 100, 1000, 3),
          requires_proofs: ['p2', 'p1'],
        },
        {
          id: 'b',
          effect: 'allow',
          when: { tool: { eq: 'x' } },
          requires_approval: req(2, 50, 500, 4),
          requires_proofs: ['p1'],
        },
        { id: 'c', effect: 'allow', when: { tool: { eq: 'y' } }, requires_approval: req(2, 50, 500) },
        { id: 'd', effect: 'allow', when: { tool: { eq: 'y' } }, requires_approval: req(1, 50, 500, 3) },
      ]),
    );
    const x = m.evaluate(subject({ tool: 'x' }));
    expect(x).toMatchObject({ allowed: true, rule_id: 'a', proofs: ['p1', 'p2'] });
    expect(x.allowed && x.approval).toEqual({
      quorum: 2,
      role: 'r2',
      rule_id: 'b',
      timelock_ms: 100,
      ttl_ms: 500,
      emergency_quorum: 4,
    });
    const y = m.evaluate(subject({ tool: 'y' }));
    expect(y.allowed && y.approval).toEqual({
      quorum: 2,
      role: 'r2',
      rule_id: 'c',
      timelock_ms: 50,
      ttl_ms: 500,
    });
  });

  it('exposes its rules', () => {
    expect(s.allowRules().p1.map((r) => r.id)).toEqual([
      'allow-read',
      'allow-http',
      'allow-deploy',
      'allow-refund',
    ]);
    expect(s.denyRules().map((r) => r.id)).toEqual(['deny-secrets']);
    expect(new PolicyStack(s.p0, s.bundles, []).stackHash).toBe(s.stackHash);
  });
});

describe('narrowing never widens (property)', () => {
  const tools = ['a', 'b', 'c'];
  const principals = ['p1', 'p2', 'p3'];
  const matchArb = (values: string[]) =>
    fc.oneof(
      fc.constantFrom(...values).map((v) => ({ eq: v })),
      fc.subarray(values, { minLength: 1 }).map((vs) => ({ in: vs })),
    );
  const resourceArb = fc.oneof(
    fc.constantFrom('/x/', '/x/y/', '/z/').map((p) => ({ prefix: p })),
    fc.constantFrom('/x/*', '*.txt', '/z/*/q').map((g) => ({ glob: g })),
  );
  const whenArb = fc.record(
    { tool: matchArb(tools), principal: matchArb(principals), resource: resourceArb },
    { requiredKeys: [] },
  );
  const ruleArb = (effect: 'allow' | 'deny', i: number) =>
    whenArb.map((when) => ({ id: `${effect}-${i}`, effect, when }));
  const rulesArb = (effect: 'allow' | 'deny', max: number) =>
    fc
      .array(fc.nat(), { maxLength: max })
      .chain((xs) => (xs.length === 0 ? fc.constant([]) : fc.tuple(...xs.map((_, i) => ruleArb(effect, i)))));
  const subjectArb = fc.record({
    tool: fc.constantFrom(...tools),
    principal: fc.constantFrom(...principals),
    resource: fc.constantFrom('/x/1.txt', '/x/y/2', '/z/k/q', '/w'),
    effect_type: fc.constantFrom('fs.read', 'fs.write', 'payment.transfer'),
  });

  it('the tool-indexed evaluation equals a naive scan of every rule', () => {
    const naive = (
      rules: { id: string; effect: string; when: Record<string, PolicyMatch | undefined> }[],
      s: PolicySubject,
    ) => {
      const hit = (w: Record<string, PolicyMatch | undefined>) =>
        (['tool', 'principal', 'resource'] as const).every((f) => w[f] === undefined || matches(w[f]!, s[f]));
      if (rules.some((r) => r.effect === 'deny' && hit(r.when))) return 'POLICY_DENY';
      const allow = rules.find((r) => r.effect === 'allow' && hit(r.when));
      return allow ? `ALLOW:${allow.id}` : 'NO_POLICY';
    };
    fc.assert(
      fc.property(
        rulesArb('allow', 5),
        rulesArb('deny', 3),
        fc.array(subjectArb, { minLength: 1, maxLength: 8 }),
        (allows, denies, subjects) => {
          const rules = [...denies, ...allows];
          const st = load(withRules(rules), [], { ...P0, forbidden_effect_types: [] });
          for (const sub of subjects) {
            const out = st.evaluate(subject(sub));
            expect(out.allowed ? `ALLOW:${out.rule_id}` : out.code).toBe(naive(rules as never, subject(sub)));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('P0 ∩ P1 ∩ P2: adding overlays or P0 ceilings never turns a deny into an allow', () => {
    fc.assert(
      fc.property(
        rulesArb('allow', 4),
        rulesArb('deny', 2),
        rulesArb('allow', 2),
        rulesArb('deny', 2),
        fc.subarray(['fs.write', 'payment', 'fs']),
        fc.array(subjectArb, { minLength: 1, maxLength: 8 }),
        (p1Allow, p1Deny, p2Allow, p2Deny, forbidden, subjects) => {
          const bundle = withRules([...p1Allow, ...p1Deny]);
          const base = load(bundle, [], { ...P0, forbidden_effect_types: [] });
          const overlay = {
            type: 'helm.policy.overlay.v1',
            name: 'o',
            rules: [
              ...p2Allow.map((r) => ({ ...r, id: `o-${r.id}` })),
              ...p2Deny.map((r) => ({ ...r, id: `o-${r.id}` })),
            ],
          };
          const narrowed = load(bundle, [overlay], { ...P0, forbidden_effect_types: forbidden });
          for (const s of subjects) {
            const full = subject(s);
            if (narrowed.evaluate(full).allowed) expect(base.evaluate(full).allowed).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
