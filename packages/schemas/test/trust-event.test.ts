// The trust registry schemas accept what @helm/trust produces (its published vectors) and reject
// near misses. Vectors: packages/trust/test/vectors/trust-registry.json (docs/spec/trust-event.md).
import { readFileSync } from 'node:fs';
import { TRUST_EVENT_TYPE, TRUST_GENESIS_PREV, TRUST_ROLES } from '@helm/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { trustEventSchema, trustSnapshotSchema, trustStateSchema } from '../src/index.ts';

const vectors = JSON.parse(
  readFileSync(new URL('../../trust/test/vectors/trust-registry.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv2020({ strict: true, allErrors: true });
const event = ajv.compile(trustEventSchema);
const state = ajv.compile(trustStateSchema);
const snapshot = ajv.compile(trustSnapshotSchema);
const bodies: Record<string, unknown>[] = vectors.events.map((e: { body_jcs: string }) =>
  JSON.parse(e.body_jcs),
);

describe('trust registry schemas', () => {
  it('accept every published event body, the state and the snapshot', () => {
    expect(bodies.map((b) => b.kind)).toEqual(['genesis', 'key_publish', 'key_rotate', 'key_revoke']);
    for (const b of bodies) expect(event(b), JSON.stringify(event.errors)).toBe(true);
    expect(state(JSON.parse(vectors.state_at_head.jcs)), JSON.stringify(state.errors)).toBe(true);
    expect(state(JSON.parse(vectors.state_at_seq_3.jcs))).toBe(true);
    expect(snapshot(vectors.snapshot), JSON.stringify(snapshot.errors)).toBe(true);
    expect(bodies[0]?.prev).toBe(TRUST_GENESIS_PREV);
    expect(bodies[0]?.type).toBe(TRUST_EVENT_TYPE);
  });

  it('accept the remaining kinds', () => {
    const common = { type: TRUST_EVENT_TYPE, registry: 'r', seq: 5, prev: TRUST_GENESIS_PREV };
    const keyid = (bodies[1] as { key: { keyid: string } }).key.keyid;
    for (const role of TRUST_ROLES) {
      expect(event({ ...common, kind: 'role_grant', keyid, role })).toBe(true);
      expect(event({ ...common, kind: 'role_revoke', keyid, role })).toBe(true);
    }
    expect(event({ ...common, kind: 'root_threshold_set', threshold: 3 })).toBe(true);
  });

  it('reject near misses', () => {
    const [genesis, publish, rotate] = bodies as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    expect(event({ ...publish, roles: ['superuser'] })).toBe(false);
    expect(event({ ...publish, roles: ['executor', 'executor'] })).toBe(false);
    expect(event({ ...publish, extra: 1 })).toBe(false);
    expect(event({ ...rotate, new_key: { keyid: 'ed25519:00', public_key: 'x' } })).toBe(false);
    expect(event({ ...genesis, root_threshold: 0 })).toBe(false);
    expect(event({ ...genesis, root_keys: [] })).toBe(false);
    expect(event({ ...genesis, kind: 'key_publish' })).toBe(false);
    expect(event({ ...publish, prev: 'sha256:abc' })).toBe(false);
    // heights are sequence numbers (genesis = 1); a signer-chosen Lamport height is not a field
    expect(event({ ...publish, lamport: 2 })).toBe(false);
    expect(event({ ...publish, seq: 0 })).toBe(false);
    expect(event({ ...genesis, seq: 0 })).toBe(false);
    expect(event({ ...publish, type: 'helm.trust.event.v2' })).toBe(false);
    expect(snapshot({ ...vectors.snapshot, events: [] })).toBe(false);
    expect(snapshot({ ...vectors.snapshot, state_hash: 'x' })).toBe(false);
    const s = JSON.parse(vectors.state_at_head.jcs);
    s.keys[0].revocation = 'lost';
    expect(state(s)).toBe(false);
  });
});
