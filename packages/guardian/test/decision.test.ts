// Signed decisions and intents: signatures, schemas, content-derived ids, determinism (replay).
import { DECISION_TYPE, decisionSchema, INTENT_TYPE, intentSchema, REASON_CODES } from '@helm/contracts';
import { canonicalBytes, digest, verifyEnvelope } from '@helm/crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Evaluation,
  Guardian,
  InMemoryBudgetLedger,
  ManualClock,
  MemoryEventSink,
} from '../src/index.ts';
import { fullOptions, harness, request, T0 } from './fixtures.ts';

const ajv = new Ajv2020({ strict: true });
const validDecision = ajv.compile(decisionSchema);
const validIntent = ajv.compile(intentSchema);

function withoutId<T extends object>(o: T, id: keyof T): Omit<T, typeof id> {
  const { [id]: _drop, ...rest } = o;
  return rest;
}

function checkEvaluation(g: Guardian, e: Evaluation): void {
  const verified = verifyEnvelope(e.decision, DECISION_TYPE, g.publicKeys);
  expect(verified.body).toEqual(e.record);
  expect(validDecision(e.record), JSON.stringify(validDecision.errors)).toBe(true);
  expect(e.record.decision_id).toBe(digest(canonicalBytes(withoutId(e.record, 'decision_id'))));
  expect(REASON_CODES[e.record.reason_code].verdict).toBe(e.record.verdict);
  if (e.effect) expect(e.record.effect_digest).toBe(digest(canonicalBytes(e.effect)));
  if (e.record.verdict === 'ALLOW') {
    const intent = verifyEnvelope(e.intent!, INTENT_TYPE, g.publicKeys).body;
    expect(intent).toEqual(e.intentBody);
    expect(validIntent(e.intentBody)).toBe(true);
    expect(e.intentBody!.intent_id).toBe(digest(canonicalBytes(withoutId(e.intentBody!, 'intent_id'))));
    expect(e.intentBody!.decision_id).toBe(e.record.decision_id);
    expect(e.intentBody!.effect_digest).toBe(e.record.effect_digest);
    expect(e.intentBody!.args_hash).toBe(e.record.args_hash);
    expect(e.intentBody!.expires_at_ms - e.intentBody!.issued_at_ms).toBe(30_000);
  } else {
    expect(e.intentBody).toBeNull();
    expect(e.intent).toBeNull();
  }
}

describe('signed decisions', () => {
  it('ALLOW, DENY and ESCALATE are all signed, schema-valid records with content-derived ids', () => {
    const { guardian } = harness();
    const reqs = [
      request(),
      request({ resource: '/data/secret/x' }),
      request({ tool: 'deploy', effect_type: 'compute', risk_tier: 'HIGH' }),
      request({}, { environment_fingerprint: 'nope' }),
      { ...request(), principal: 7 } as never,
    ];
    const verdicts = reqs.map((r) => {
      const e = guardian.evaluate(r);
      checkEvaluation(guardian, e);
      return e.record.verdict;
    });
    expect(verdicts).toEqual(['ALLOW', 'DENY', 'ESCALATE', 'DENY', 'DENY']);
  });

  it('binds args hash, effect digest, policy stack hash, gate roster hash and the request', () => {
    const { guardian } = harness();
    const a = guardian.evaluate(request()).record;
    expect(a.policy_stack_hash).toBe(guardian.policyStack!.stackHash);
    expect(a.gate_roster_hash).toBe(guardian.gateRosterHash);
    const b = guardian.evaluate(request({}, { attributes: { ticket_priority: 1 } })).record;
    expect(b.request_hash).not.toBe(a.request_hash);
    expect(b.effect_digest).toBe(a.effect_digest);
    const c = guardian.evaluate(request({ args: { path: '/data/other.csv' } })).record;
    expect(c.args_hash).not.toBe(a.args_hash);
    expect(c.effect_digest).not.toBe(a.effect_digest);
  });

  it('a tampered decision envelope does not verify', () => {
    const { guardian } = harness();
    const e = guardian.evaluate(request({ resource: '/data/secret/x' }));
    const allowBody = { ...e.record, verdict: 'ALLOW', reason_code: 'ALLOW' };
    const forged = { ...e.decision, payload: Buffer.from(canonicalBytes(allowBody)).toString('base64url') };
    expect(() => verifyEnvelope(forged, DECISION_TYPE, guardian.publicKeys)).toThrow();
    expect(() => verifyEnvelope(e.decision, INTENT_TYPE, guardian.publicKeys)).toThrow();
  });

  it('replay: the same request against the same state reproduces the same bytes', () => {
    const run = () => {
      const clock = new ManualClock(T0);
      const g = new Guardian(fullOptions(clock, new MemoryEventSink(), new InMemoryBudgetLedger()));
      const out = [
        request(),
        request({ resource: '/data/secret/x' }),
        request({ tool: 'deploy', effect_type: 'compute', risk_tier: 'HIGH' }),
      ].map((r) => g.evaluate(r));
      return out.map((e) => [e.decision, e.intent, e.challenge]);
    };
    expect(JSON.stringify(run())).toBe(JSON.stringify(run()));
  });

  it('the injected clock (never ambient time) stamps decisions and intent expiry', () => {
    const { guardian, clock } = harness({ intentTtlMs: 5_000 });
    clock.set(T0 + 123);
    const e = guardian.evaluate(request());
    expect(e.record.decided_at_ms).toBe(T0 + 123);
    expect(e.intentBody!.expires_at_ms).toBe(T0 + 5_123);
  });

  it('content ids and the effect digest are SHA-256 over RFC 8785 JCS of the body without its id', () => {
    const { guardian } = harness();
    const e = guardian.evaluate(request());
    const { decision_id, ...body } = e.record;
    expect(decision_id).toBe(digest(canonicalBytes(body)));
    const { intent_id, ...ibody } = e.intentBody!;
    expect(intent_id).toBe(digest(canonicalBytes(ibody)));
    expect(e.record.effect_digest).toBe(digest(canonicalBytes(e.effect)));
  });
});
