// I-EVIDENCE-5 (trust side). Key validity over registry sequence numbers (docs/spec/trust-event.md §3): a registry height is
// the number of events applied (genesis = 1) and advances by exactly one per event, so no signer
// can choose a height, leave room between events or answer for a state the registry never reached;
// every state is named by its sequence number and its head digest (`headAt`), which is what a
// receipt commits to (`trust_seq`, `trust_head`).
import type { SignedEnvelope } from '@helm/contracts';
import { fromBase64Url, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  commitTrustEvent,
  createGenesisEvent,
  exportTrustSnapshot,
  importTrustSnapshot,
  prepareTrustEvent,
  TrustError,
  TrustRegistry,
  trustEventDigest,
} from '../src/index.ts';
import { signer } from './helpers.ts';

const root = signer(1);
const exec = signer(10);
const exec2 = signer(12);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof TrustError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

/** genesis (seq 1), executor published (2), executor rotated to exec2 (3). */
function rotated(): TrustRegistry {
  const registry = TrustRegistry.fromGenesis(
    createGenesisEvent({ registry: 'seq', rootKeys: [root.publicKey], rootThreshold: 1 }, [root]),
  );
  commitTrustEvent(registry, { kind: 'key_publish', publicKey: exec.publicKey, roles: ['executor'] }, [root]);
  commitTrustEvent(registry, { kind: 'key_rotate', keyid: exec.keyId, newPublicKey: exec2.publicKey }, [
    root,
    exec2,
  ]);
  return registry;
}

function body(envelope: SignedEnvelope): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fromBase64Url(envelope.payload)));
}

describe('trust heights are registry sequence numbers', () => {
  it('the genesis is seq 1 and every event advances the height by exactly one', () => {
    const registry = rotated();
    expect(registry.events().map((e) => body(e).seq)).toEqual([1, 2, 3]);
    expect(registry.seq).toBe(3);
    for (const e of registry.events()) expect(Object.keys(body(e))).not.toContain('lamport');
    expect(registry.stateAt(2).seq).toBe(2);
  });

  it('a key is valid from the seq of its publication up to (excluding) the seq of its rotation', () => {
    const registry = rotated();
    expect(registry.keyValidFor(exec.keyId, 'executor', 1)).toEqual({ ok: false, code: 'TRUST_KEY_UNKNOWN' });
    expect(registry.keyValidFor(exec.keyId, 'executor', 2).ok).toBe(true);
    expect(registry.keyValidFor(exec.keyId, 'executor', 3)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
    expect(registry.keyValidFor(exec2.keyId, 'executor', 2)).toEqual({
      ok: false,
      code: 'TRUST_KEY_UNKNOWN',
    });
    expect(registry.keyValidFor(exec2.keyId, 'executor', 3).ok).toBe(true);
  });

  it('never answers for a state beyond the head (heights are bounded by the history)', () => {
    const registry = rotated();
    expect(registry.keyValidFor(exec2.keyId, 'executor', 4)).toEqual({
      ok: false,
      code: 'TRUST_KEY_UNKNOWN',
    });
    expect(registry.keyValidFor(exec2.keyId, 'executor', 1_000_000)).toEqual({
      ok: false,
      code: 'TRUST_KEY_UNKNOWN',
    });
    expect(registry.keyLookup()(exec2.keyId, 'receipt-signer', 4)).toBeUndefined();
    expect(registry.lookupFor('executor', 4)(exec2.keyId)).toBeUndefined();
    expect(code(() => registry.stateAt(4))).toBe('TRUST_SEQUENCE_INVALID');
    // once the registry reaches that state, it answers for it
    commitTrustEvent(registry, { kind: 'role_grant', keyid: exec2.keyId, role: 'guardian' }, [root]);
    expect(registry.keyValidFor(exec2.keyId, 'executor', 4).ok).toBe(true);
  });

  it('headAt names every state by its event digest, and only states the registry reached', () => {
    const registry = rotated();
    const events = registry.events();
    expect([1, 2, 3].map((s) => registry.headAt(s))).toEqual(events.map(trustEventDigest));
    expect(registry.headAt(3)).toBe(registry.head);
    expect(registry.headAt(1)).toBe(registry.genesis);
    expect(registry.stateAt(2).head).toBe(registry.headAt(2));
    for (const bad of [0, -1, 4, 2.5, Number.NaN]) expect(registry.headAt(bad), String(bad)).toBeUndefined();
    // an imported snapshot answers the same
    const imported = importTrustSnapshot(JSON.parse(JSON.stringify(exportTrustSnapshot(registry))), {
      genesis: registry.genesis,
    });
    expect([1, 2, 3].map((s) => imported.headAt(s))).toEqual(events.map(trustEventDigest));
  });

  it('a signer cannot back-date or skip: an event must carry exactly the next seq and no other height', () => {
    const registry = rotated();
    const next = prepareTrustEvent(registry, { kind: 'key_revoke', keyid: exec2.keyId }, [root]);
    const resign = (patch: Record<string, unknown>) =>
      signEnvelope({ ...body(next), ...patch } as { type: string }, [root]);
    // back-dating the revocation to the seq where the key was still valid
    expect(code(() => registry.append(resign({ seq: 3 })))).toBe('TRUST_SEQUENCE_INVALID');
    // leaving room for later events below it
    expect(code(() => registry.append(resign({ seq: 1000 })))).toBe('TRUST_SEQUENCE_INVALID');
    // a signer-chosen Lamport height is not part of the format any more
    expect(code(() => registry.append(resign({ lamport: 2 })))).toBe('TRUST_EVENT_MALFORMED');
    registry.append(next);
    expect(registry.keyValidFor(exec2.keyId, 'executor', 3).ok).toBe(true);
    expect(registry.keyValidFor(exec2.keyId, 'executor', 4)).toEqual({
      ok: false,
      code: 'TRUST_KEY_REVOKED',
    });
  });
});
