// PolicyStack.couldAllow — whether a principal could ever be allowed a tool, decided before any
// call from the attributes the tool and the caller fix (an MCP gateway leaves a tool it answers
// false for out of the principal's tools/list, I-MCP-7). Attackers first: it must never say
// "never" of a tool some call is allowed (soundness against evaluate, by property), and must say
// "never" for the P0 ceiling, an outright deny rule, no allow rule, and an overlay's allow-list.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicyStack, type PolicySubject, type PolicyToolSubject } from '../src/index.ts';
import { BUNDLE, P0, signBundle, trustedBundleKeys, VOCABULARY } from './fixtures.ts';

const load = (rules: unknown[], overlays: unknown[] = [], p0: unknown = P0) =>
  loadPolicyStack({
    p0,
    bundles: [signBundle({ ...BUNDLE, rules })],
    overlays,
    trustedBundleKeys,
    vocabulary: VOCABULARY,
  });

const tool = (over: Partial<PolicyToolSubject> = {}): PolicyToolSubject => ({
  principal: 'alice',
  tenant: null,
  tool: 'bank',
  action: 'pay',
  effect_type: 'compute',
  risk_tier: 'LOW',
  ...over,
});

describe('PolicyStack.couldAllow — attackers first', () => {
  it('never: the P0 ceiling forbids the effect type, whatever an allow rule says', () => {
    const st = load([{ id: 'a', effect: 'allow', when: { tool: { eq: 'bank' } } }]);
    expect(st.couldAllow(tool({ effect_type: 'payment.transfer' }))).toBe(false);
    expect(st.couldAllow(tool())).toBe(true);
  });

  it('never: no allow rule can match the principal and tool (default deny)', () => {
    const st = load([{ id: 'a', effect: 'allow', when: { principal: { eq: 'bob' }, tool: { eq: 'bank' } } }]);
    expect(st.couldAllow(tool())).toBe(false);
    expect(st.couldAllow(tool({ principal: 'bob' }))).toBe(true);
    expect(st.couldAllow(tool({ principal: 'bob', tool: 'other' }))).toBe(false);
  });

  it('never: a deny rule on fixed attributes only; a deny that depends on the call (args, resource) does not hide the tool', () => {
    const allow = { id: 'a', effect: 'allow', when: { tool: { eq: 'bank' } } };
    expect(
      load([
        allow,
        { id: 'd', effect: 'deny', when: { principal: { eq: 'alice' }, risk_tier: { in: ['LOW'] } } },
      ]).couldAllow(tool()),
    ).toBe(false);
    expect(
      load([
        allow,
        { id: 'd', effect: 'deny', when: { tool: { eq: 'bank' }, args: { amount: { gt: 500 } } } },
      ]).couldAllow(tool()),
    ).toBe(true);
    expect(
      load([
        allow,
        { id: 'd', effect: 'deny', when: { tool: { eq: 'bank' }, resource: { prefix: '/x/' } } },
      ]).couldAllow(tool()),
    ).toBe(true);
  });

  it('an allow rule with argument conditions keeps the tool: some call may be allowed', () => {
    const st = load([
      {
        id: 'a',
        effect: 'allow',
        when: { principal: { eq: 'alice' }, tool: { eq: 'bank' }, args: { amount: { lte: 500 } } },
      },
    ]);
    expect(st.couldAllow(tool())).toBe(true);
  });

  it('never: an overlay denies outright, or its allow-list cannot match', () => {
    const allow = { id: 'a', effect: 'allow', when: { tool: { in: ['bank', 'fs'] } } };
    const deny = {
      type: 'helm.policy.overlay.v1',
      name: 'o',
      rules: [{ id: 'od', effect: 'deny', when: { tool: { eq: 'bank' } } }],
    };
    expect(load([allow], [deny]).couldAllow(tool())).toBe(false);
    expect(load([allow], [deny]).couldAllow(tool({ tool: 'fs' }))).toBe(true);
    const only = {
      type: 'helm.policy.overlay.v1',
      name: 'l',
      rules: [{ id: 'ol', effect: 'allow', when: { tool: { eq: 'fs' } } }],
    };
    expect(load([allow], [only]).couldAllow(tool())).toBe(false);
    expect(load([allow], [only]).couldAllow(tool({ tool: 'fs' }))).toBe(true);
  });

  it('sound against evaluate (property): when it says never, evaluate denies every call, whatever its resource, args and context', () => {
    const principals = ['alice', 'bob'];
    const tools = ['bank', 'fs', 'http'];
    const effects = ['compute', 'fs.read', 'payment.transfer'];
    const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const ruleArb = (effect: 'allow' | 'deny', i: number) =>
      fc
        .record({
          principal: opt(fc.constantFrom(...principals).map((eq) => ({ eq }))),
          tool: opt(fc.subarray(tools, { minLength: 1 }).map((xs) => ({ in: xs }))),
          effect_type: opt(fc.constantFrom(...effects).map((eq) => ({ eq }))),
          risk_tier: opt(fc.constantFrom('LOW', 'HIGH').map((eq) => ({ eq }))),
          resource: opt(fc.constantFrom('/x/', '/y/').map((prefix) => ({ prefix }))),
          amount: opt(fc.integer({ min: 0, max: 1000 }).map((lte) => ({ lte }))),
        })
        .map(({ amount, ...fixed }) => {
          const when = Object.fromEntries(Object.entries(fixed).filter(([, v]) => v !== undefined));
          // Argument conditions are declared for `bank` only (the vocabulary).
          if (amount !== undefined) Object.assign(when, { tool: { eq: 'bank' }, args: { amount } });
          return { id: `${effect}-${i}`, effect, when };
        });
    const rulesArb = (effect: 'allow' | 'deny', max: number) =>
      fc
        .array(fc.nat(), { maxLength: max })
        .chain((xs) =>
          xs.length === 0 ? fc.constant([]) : fc.tuple(...xs.map((_, i) => ruleArb(effect, i))),
        );
    const callArb = fc.record({
      principal: fc.constantFrom(...principals),
      tool: fc.constantFrom(...tools),
      effect_type: fc.constantFrom(...effects),
      risk_tier: fc.constantFrom('LOW', 'HIGH'),
    });
    const variants = (t: PolicyToolSubject): PolicySubject[] =>
      ['/x/a', '/y/b', '/z/c'].flatMap((resource) =>
        [0, 250, 750, 2000].map((amount) => ({
          ...t,
          resource,
          args: { amount, currency: 'EUR' },
          context: {},
        })),
      );
    let never = 0;
    fc.assert(
      fc.property(
        rulesArb('allow', 4),
        rulesArb('deny', 3),
        rulesArb('allow', 2),
        rulesArb('deny', 2),
        fc.array(callArb, { minLength: 1, maxLength: 6 }),
        (allows, denies, oAllows, oDenies, calls) => {
          const overlay = {
            type: 'helm.policy.overlay.v1',
            name: 'o',
            rules: [...oAllows, ...oDenies].map((r) => ({ ...r, id: `o-${r.id}` })),
          };
          let st: ReturnType<typeof load>;
          try {
            st = load([...denies, ...allows], overlay.rules.length ? [overlay] : []);
          } catch {
            return; // a generated bundle the loader refuses (e.g. no rules) decides nothing
          }
          for (const c of calls) {
            const t = tool({ ...c, action: 'pay' });
            if (st.couldAllow(t)) continue;
            never++;
            for (const s of variants(t)) expect(st.evaluate(s).allowed, JSON.stringify(s)).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
    // Not vacuous: the generated stacks said "never" often enough to check.
    expect(never).toBeGreaterThan(50);
  });
});
