// Signed decisions (an ALLOW decision is the AuthorizedExecutionIntent): signatures, schemas,
// content-derived ids, expiry and grant fields, one-pass id signing, determinism (replay).
import { DECISION_TYPE, REASON_CODES } from '@helm/contracts';
import { canonicalBytes, digest, fromBase64Url, openVerifiedEnvelope, signEnvelope } from '@helm/crypto';
import { decisionSchema } from '@helm/schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { type Evaluation, Guardian, InMemoryBudgetLedger, ManualClock } from '../src/index.ts';
import {
  fullOptions,
  guardianSigner,
  harness,
  MemoryEventSink,
  outsiderSigner,
  request,
  T0,
} from './fixtures.ts';

const ajv = new Ajv2020({ strict: true });
const validDecision = ajv.compile(decisionSchema);

function withoutId<T extends object>(o: T, id: keyof T): Omit<T, typeof id> {
  const { [id]: _drop, ...rest } = o;
  return rest;
}

function checkEvaluation(g: Guardian, e: Evaluation): void {
  const verified = openVerifiedEnvelope(e.decision, DECISION_TYPE, g.publicKeys);
  expect(verified.body).toEqual(e.record);
  expect(validDecision(e.record), JSON.stringify(validDecision.errors)).toBe(true);
  expect(e.record.decision_id).toBe(digest(canonicalBytes(withoutId(e.record, 'decision_id'))));
  expect(REASON_CODES[e.record.reason_code].verdict).toBe(e.record.verdict);
  if (e.effect) expect(e.record.effect_digest).toBe(digest(canonicalBytes(e.effect)));
  // the signed payload is exactly JCS(record): the one-pass id signing matches the two-pass rule
  expect(new TextDecoder().decode(fromBase64Url(e.decision.payload)!)).toBe(
    new TextDecoder().decode(canonicalBytes(e.record)),
  );
  expect(Object.keys(e).sort()).toEqual(['challenge', 'decision', 'effect', 'record']);
  if (e.record.verdict === 'ALLOW') {
    // the ALLOW decision is the execution authorization: bound to an effect, with an expiry
    expect(e.effect).not.toBeNull();
    expect(e.record.effect_digest).toBe(digest(canonicalBytes(e.effect)));
    expect(e.record.reason_code).toBe('ALLOW');
    expect(e.record.decided_by).toBe('approval');
    expect(e.record.expires_at_ms! - e.record.decided_at_ms).toBe(30_000);
  } else {
    expect(e.record.expires_at_ms).toBeNull();
    expect(e.record.approval_grant_id).toBeNull();
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
    expect(() => openVerifiedEnvelope(forged, DECISION_TYPE, guardian.publicKeys)).toThrow();
    expect(() => openVerifiedEnvelope(e.decision, 'helm.intent.v1', guardian.publicKeys)).toThrow();
    expect(() => openVerifiedEnvelope(forged, DECISION_TYPE, guardian.publicKeys)).toThrow();
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
      return out.map((e) => [e.decision, e.challenge]);
    };
    expect(JSON.stringify(run())).toBe(JSON.stringify(run()));
  });

  it('the injected clock (never ambient time) stamps decisions and the ALLOW expiry', () => {
    const { guardian, clock } = harness({ intentTtlMs: 5_000 });
    clock.set(T0 + 123);
    const e = guardian.evaluate(request());
    expect(e.record.verdict).toBe('ALLOW');
    expect(e.record.decided_at_ms).toBe(T0 + 123);
    expect(e.record.expires_at_ms).toBe(T0 + 5_123);
    expect(e.record.approval_grant_id).toBeNull();
    clock.advance(1);
    const later = guardian.evaluate(request());
    expect(later.record.expires_at_ms).toBe(T0 + 5_124);
    expect(later.record.decision_id).not.toBe(e.record.decision_id);
  });

  it('content ids and the effect digest are SHA-256 over RFC 8785 JCS of the body without its id', () => {
    const { guardian } = harness();
    const e = guardian.evaluate(request());
    const { decision_id, ...body } = e.record;
    expect(decision_id).toBe(digest(canonicalBytes(body)));
    expect(e.record.effect_digest).toBe(digest(canonicalBytes(e.effect)));
  });
});

describe('the ALLOW decision is the execution authorization', () => {
  const reqs = () => [
    request(),
    request({ resource: '/data/secret/x' }),
    request({ tool: 'deploy', effect_type: 'compute', risk_tier: 'HIGH' }),
    request({}, { environment_fingerprint: 'nope' }),
    { ...request(), principal: 7 } as never,
  ];

  it('ALLOW carries expires_at_ms = decided_at_ms + TTL; DENY and ESCALATE carry null expiry and grant', () => {
    for (const ttl of [1, 30_000, 300_000]) {
      const { guardian, clock } = harness({ intentTtlMs: ttl });
      clock.set(T0 + 7);
      const [allow, deny, escalate, mismatch, malformed] = reqs().map((r) => guardian.evaluate(r).record);
      expect(allow!.verdict).toBe('ALLOW');
      expect(allow!.expires_at_ms).toBe(T0 + 7 + ttl);
      expect(allow!.approval_grant_id).toBeNull(); // no ceremony
      expect(allow!.budget_reservation_id).not.toBeNull();
      for (const r of [deny!, escalate!, mismatch!, malformed!]) {
        expect(r.verdict).not.toBe('ALLOW');
        expect(r.expires_at_ms).toBeNull();
        expect(r.approval_grant_id).toBeNull();
        expect(r.budget_reservation_id).toBeNull();
      }
      expect(escalate!.verdict).toBe('ESCALATE');
      expect(escalate!.approval_challenge_id).not.toBeNull();
    }
  });

  it('two fresh guardians give identical evaluations; the signed bytes equal the two-pass rule', () => {
    const fresh = () => {
      const clock = new ManualClock(T0);
      return new Guardian(fullOptions(clock, new MemoryEventSink(), new InMemoryBudgetLedger()));
    };
    const first = fresh();
    const second = fresh();
    for (const r of reqs()) {
      const e = first.evaluate(r);
      const again = second.evaluate(r);
      expect(again.record).toStrictEqual(e.record);
      expect(again.effect).toStrictEqual(e.effect);
      expect(again.decision).toStrictEqual(e.decision);
      expect(Object.keys(e).sort()).toEqual(['challenge', 'decision', 'effect', 'record']);
      // two-pass: id = digest(JCS(body without id)), then sign {...body, decision_id}
      const { decision_id, ...body } = e.record;
      expect(decision_id).toBe(digest(canonicalBytes(body)));
      const twoPass = signEnvelope({ ...body, decision_id: digest(canonicalBytes(body)) }, [guardianSigner]);
      expect(twoPass).toStrictEqual(e.decision);
      expect(fromBase64Url(e.decision.payload)).toEqual(canonicalBytes(e.record));
    }
  });

  it('a decision envelope is frozen (type, payload and signatures cannot be swapped)', () => {
    const { guardian } = harness();
    for (const r of [request(), request({ resource: '/data/secret/x' })]) {
      const e = guardian.evaluate(r);
      const original = JSON.stringify(e.decision);
      expect(Object.isFrozen(e.decision)).toBe(true);
      expect(Object.isFrozen(e.decision.signatures)).toBe(true);
      expect(Object.isFrozen(e.decision.signatures[0])).toBe(true);
      const env = e.decision as { payload: string; type: string; signatures: { sig: string }[] };
      expect(() => {
        env.payload = 'e30';
      }).toThrow(TypeError);
      expect(() => {
        env.type = 'helm.intent.v1';
      }).toThrow(TypeError);
      expect(() => {
        env.signatures[0]!.sig = 'AAAA';
      }).toThrow(TypeError);
      expect(() => env.signatures.push({ sig: 'AAAA' })).toThrow(TypeError);
      expect(JSON.stringify(e.decision)).toBe(original);
      // still verifies on both paths, to the same body
      const full = openVerifiedEnvelope(e.decision, DECISION_TYPE, guardian.publicKeys);
      const fast = openVerifiedEnvelope(e.decision, DECISION_TYPE, guardian.publicKeys);
      expect(fast.body).toStrictEqual(full.body);
      expect(fast.keyIds).toEqual(full.keyIds);
      expect(full.body).toStrictEqual(e.record);
    }
  });

  it('a copy of a self-issued decision, or one checked against another key, takes the full path', () => {
    const { guardian } = harness();
    const e = guardian.evaluate(request());
    const copy = JSON.parse(JSON.stringify(e.decision));
    expect(openVerifiedEnvelope(copy, DECISION_TYPE, guardian.publicKeys).body).toStrictEqual(e.record);
    const wrongKey = (id: string) => (id === guardianSigner.keyId ? outsiderSigner.publicKey : undefined);
    expect(() => openVerifiedEnvelope(e.decision, DECISION_TYPE, wrongKey)).toThrow();
    expect(() => openVerifiedEnvelope(e.decision, DECISION_TYPE, () => undefined)).toThrow();
    const forged = {
      ...copy,
      payload: Buffer.from(canonicalBytes({ ...e.record, tool: 'bank' })).toString('base64url'),
    };
    expect(() => openVerifiedEnvelope(forged, DECISION_TYPE, guardian.publicKeys)).toThrow();
  });
});
