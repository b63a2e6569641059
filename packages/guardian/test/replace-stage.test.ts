// Administrative edits of stage 2 (identity bindings) and stage 3 (egress allowlist) between
// decisions: the next decision sees them, the gate roster hash names them, and an edit that does
// not validate changes nothing (all-or-nothing).
import { describe, expect, it } from 'vitest';
import type { GuardianError } from '../src/index.ts';
import { harness, request } from './fixtures.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as GuardianError).code;
  }
  return undefined;
}

const BINDINGS = [
  { credential_id: 'cred-alice', principal: 'alice' },
  { credential_id: 'cred-bob', principal: 'bob' },
  { credential_id: 'cred-agent', principal: 'agent-7' },
];

const httpCall = (host: string) =>
  request(
    { tool: 'http', effect_type: 'net.egress' },
    { destination: { host, protocol: 'https', payload_bytes: 1 } },
  );

describe('I-RULES-1: replaceIdentity', () => {
  it('a removed credential is refused at the very next decision, a new one accepted', () => {
    const { guardian, sink } = harness();
    expect(guardian.evaluate(request()).record.reason_code).toBe('ALLOW');
    const before = guardian.gateRosterHash;
    guardian.replaceIdentity(
      BINDINGS.filter((b) => b.credential_id !== 'cred-alice'),
      'ops',
    );
    const denied = guardian.evaluate(request());
    expect(denied.record).toMatchObject({ reason_code: 'GATE_IDENTITY_ISOLATION', decided_by: 'identity' });
    expect(denied.record.gate_roster_hash).not.toBe(before);
    guardian.replaceIdentity(
      [...BINDINGS.slice(1), { credential_id: 'cred-alice-2', principal: 'alice' }],
      'ops',
    );
    expect(guardian.evaluate(request({}, { credential_id: 'cred-alice-2' })).record.reason_code).toBe(
      'ALLOW',
    );
    expect(sink.events.filter((e) => e.event === 'identity.replaced')).toHaveLength(2);
  });

  it('the roster hash is a function of the bindings, not of their history', () => {
    const a = harness();
    const b = harness();
    b.guardian.replaceIdentity([BINDINGS[0]!], 'ops');
    b.guardian.replaceIdentity([...BINDINGS].reverse(), 'ops');
    expect(b.guardian.gateRosterHash).toBe(a.guardian.gateRosterHash);
  });

  it('bindings that do not validate change nothing', () => {
    const { guardian } = harness();
    const before = guardian.gateRosterHash;
    for (const bad of [
      [
        { credential_id: 'cred-alice', principal: 'alice' },
        { credential_id: 'cred-alice', principal: 'bob' },
      ],
      [{ credential_id: '', principal: 'alice' }],
      [{ credential_id: 'c', principal: 'alice', tenant: 't1' }],
      [null],
      'cred-alice',
    ]) {
      expect(code(() => guardian.replaceIdentity(bad as never, 'ops'))).toBe('CONFIG_INVALID');
    }
    expect(guardian.gateRosterHash).toBe(before);
    expect(guardian.evaluate(request()).record.reason_code).toBe('ALLOW');
  });
});

describe('replaceEgress', () => {
  it('a host allowed by an edit is allowed at the next decision; removed, it is denied again', () => {
    const { guardian } = harness();
    expect(guardian.evaluate(httpCall('new.example.net')).record.reason_code).toBe('GATE_EGRESS_DENIED');
    const rule = { hosts: ['new.example.net'], protocols: ['https'], max_payload_bytes: 10 };
    guardian.replaceEgress({ rules: [rule] }, 'ops');
    expect(guardian.evaluate(httpCall('new.example.net')).record.reason_code).toBe('ALLOW');
    // the old allowlist is gone with the replacement
    expect(guardian.evaluate(httpCall('api.example.com')).record.reason_code).toBe('GATE_EGRESS_DENIED');
    guardian.replaceEgress({ rules: [] }, 'ops');
    expect(guardian.evaluate(httpCall('new.example.net')).record.reason_code).toBe('GATE_EGRESS_DENIED');
  });

  it('a configuration that does not compile changes nothing', () => {
    const { guardian } = harness();
    const before = guardian.gateRosterHash;
    expect(
      code(() =>
        guardian.replaceEgress(
          { rules: [{ hosts: ['127.0.0.1'], protocols: ['https'], max_payload_bytes: 1 }] },
          'o',
        ),
      ),
    ).toBe('CONFIG_INVALID');
    expect(guardian.gateRosterHash).toBe(before);
    expect(guardian.evaluate(httpCall('api.example.com')).record.reason_code).toBe('ALLOW');
  });
});
