// The context fields a gate establishes authority from — the environment fingerprint (stage 1),
// the credential (stage 2) and the delegation presentation (stage 5) — are checked by that gate.
// Absent or malformed, each is that gate's denial, never ARGS_MALFORMED from the request schema:
// an unbound caller must learn that the identity gate refused it, not that its JSON was bad.
import { describe, expect, it } from 'vitest';
import { harness, request } from './fixtures.ts';

type Context = Record<string, unknown>;

function withContext(edit: (c: Context) => void) {
  const r = request() as unknown as { context: Context };
  const context = { ...r.context };
  edit(context);
  return { ...r, context } as unknown as ReturnType<typeof request>;
}

describe('I-RULES-1: gate-owned context fields are decided by their gate', () => {
  const malformed: readonly unknown[] = [null, 42, '', {}, [], true, 'x'.repeat(5000)];

  it('an absent credential is GATE_IDENTITY_ISOLATION at stage identity', () => {
    const { guardian } = harness();
    const r = guardian.evaluate(withContext((c) => delete c.credential_id));
    expect(r.record).toMatchObject({ reason_code: 'GATE_IDENTITY_ISOLATION', decided_by: 'identity' });
    // the record binds the call (its effect), unlike an ARGS_MALFORMED record
    expect(r.record.effect_digest).not.toBeNull();
  });

  it.each(malformed)('a credential of %j is GATE_IDENTITY_ISOLATION', (value) => {
    const { guardian } = harness();
    const r = guardian.evaluate(withContext((c) => (c.credential_id = value)));
    expect(r.record).toMatchObject({ reason_code: 'GATE_IDENTITY_ISOLATION', decided_by: 'identity' });
  });

  it('an object credential cannot collide with a bound string credential', () => {
    const { guardian } = harness();
    const r = guardian.evaluate(
      withContext((c) => (c.credential_id = { toString: () => 'cred-alice' } as unknown)),
    );
    // not even JSON-representable as the string: denied either way, never ALLOW
    expect(r.record.verdict).toBe('DENY');
  });

  it('an absent fingerprint is GATE_CONTEXT_MISMATCH at stage context', () => {
    const { guardian } = harness();
    const r = guardian.evaluate(withContext((c) => delete c.environment_fingerprint));
    expect(r.record).toMatchObject({ reason_code: 'GATE_CONTEXT_MISMATCH', decided_by: 'context' });
  });

  it.each(malformed)('a fingerprint of %j is GATE_CONTEXT_MISMATCH', (value) => {
    const { guardian } = harness();
    const r = guardian.evaluate(withContext((c) => (c.environment_fingerprint = value)));
    expect(r.record.reason_code).toBe('GATE_CONTEXT_MISMATCH');
  });

  it.each(malformed)('a delegation presentation of %j is DELEGATION_INVALID at stage delegation', (value) => {
    const { guardian } = harness();
    const r = guardian.evaluate(withContext((c) => (c.delegation = value)));
    expect(r.record).toMatchObject({ reason_code: 'DELEGATION_INVALID', decided_by: 'delegation' });
  });

  it('a context that is not an object, an unknown context field, or args that do not hash stay ARGS_MALFORMED', () => {
    const { guardian } = harness();
    expect(guardian.evaluate({ ...request(), context: 'x' } as never).record.reason_code).toBe(
      'ARGS_MALFORMED',
    );
    expect(guardian.evaluate(withContext((c) => (c.credential = 'cred-alice'))).record.reason_code).toBe(
      'ARGS_MALFORMED',
    );
    expect(guardian.evaluate(request({ args_hash: `sha256:${'0'.repeat(64)}` })).record.reason_code).toBe(
      'ARGS_MALFORMED',
    );
  });
});
