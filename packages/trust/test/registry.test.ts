import type { SignedEnvelope } from '@helm/contracts';
import { CryptoError, fromBase64Url, signEnvelope, toBase64Url } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  commitTrustEvent,
  createGenesisEvent,
  exportTrustSnapshot,
  importTrustSnapshot,
  prepareTrustEvent,
  reasonCodeFor,
  TrustError,
  type TrustErrorCode,
  TrustRegistry,
  trustEventDigest,
} from '../src/index.ts';
import { signer } from './helpers.ts';

const root1 = signer(1);
const root2 = signer(2);
const root3 = signer(3);
const exec = signer(10);
const approver = signer(11);
const exec2 = signer(12);
const attacker = signer(99);

function genesis(): SignedEnvelope {
  return createGenesisEvent(
    {
      registry: 'helm-test',
      rootKeys: [root1.publicKey, root2.publicKey, root3.publicKey],
      rootThreshold: 2,
    },
    [root1, root2],
  );
}

/**
 * A history (registry sequence numbers): genesis 1, executor published at 2, approver at 3,
 * executor rotated at 4, approver revoked at 5.
 */
function history(): { registry: TrustRegistry; events: SignedEnvelope[] } {
  const registry = TrustRegistry.fromGenesis(genesis());
  commitTrustEvent(registry, { kind: 'key_publish', publicKey: exec.publicKey, roles: ['executor'] }, [
    root1,
  ]);
  commitTrustEvent(registry, { kind: 'key_publish', publicKey: approver.publicKey, roles: ['approver'] }, [
    root2,
  ]);
  commitTrustEvent(registry, { kind: 'key_rotate', keyid: exec.keyId, newPublicKey: exec2.publicKey }, [
    exec,
    exec2,
  ]);
  commitTrustEvent(registry, { kind: 'key_revoke', keyid: approver.keyId }, [root3]);
  return { registry, events: [...registry.events()] };
}

/** The code of a failed verifier answer, or of the TrustError / CryptoError a loader or builder throws. */
function code(fn: () => unknown): TrustErrorCode | string {
  try {
    const answer = fn() as { ok?: unknown; code?: string } | undefined;
    if (answer?.ok === false) return answer.code as string;
  } catch (error) {
    if (error instanceof TrustError || error instanceof CryptoError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

/** Re-sign a modified body of an existing event with the given signers. */
function reforge(
  envelope: SignedEnvelope,
  patch: Record<string, unknown>,
  signers = [root1, root2],
): SignedEnvelope {
  const body = JSON.parse(new TextDecoder().decode(fromBase64Url(envelope.payload)));
  const merged: Record<string, unknown> = { ...body, ...patch };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return signEnvelope(merged as { type: string }, signers);
}

describe('trust registry: replay and queries', () => {
  it('loads a verified history and answers keyValidFor over sequence numbers', () => {
    const { registry, events } = history();
    const loaded = TrustRegistry.load(events, { genesis: trustEventDigest(events[0] as SignedEnvelope) });
    expect(loaded.seq).toBe(5);
    expect(loaded.head).toBe(trustEventDigest(events[4] as SignedEnvelope));
    expect(loaded.stateHash()).toBe(registry.stateHash());
    expect(loaded.registryName).toBe('helm-test');
    expect(loaded.rootThreshold).toBe(2);

    // executor key: valid in [2, 4), rotated afterwards
    expect(loaded.keyValidFor(exec.keyId, 'executor', 1)).toEqual({ ok: false, code: 'TRUST_KEY_UNKNOWN' });
    const ok = loaded.keyValidFor(exec.keyId, 'executor', 3);
    expect(ok.ok && Buffer.from(ok.publicKey).equals(Buffer.from(exec.publicKey))).toBe(true);
    expect(loaded.keyValidFor(exec.keyId, 'executor', 4)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
    expect(loaded.keyValidFor(exec.keyId, 'guardian', 3)).toEqual({ ok: false, code: 'TRUST_ROLE_MISSING' });
    // the successor inherits the role from 4
    expect(loaded.keyValidFor(exec2.keyId, 'executor', 3)).toEqual({ ok: false, code: 'TRUST_KEY_UNKNOWN' });
    expect(loaded.keyValidFor(exec2.keyId, 'executor', 4).ok).toBe(true);
    expect(loaded.keyValidFor(exec2.keyId, 'executor', 5).ok).toBe(true);
    // approver revoked at 5
    expect(loaded.keyValidFor(approver.keyId, 'approver', 4).ok).toBe(true);
    expect(loaded.keyValidFor(approver.keyId, 'approver', 5)).toEqual({
      ok: false,
      code: 'TRUST_KEY_REVOKED',
    });
    // unknown keys and nonsense sequence numbers never answer yes
    expect(loaded.keyValidFor(attacker.keyId, 'executor', 3)).toEqual({
      ok: false,
      code: 'TRUST_KEY_UNKNOWN',
    });
    expect(loaded.keyValidFor(exec.keyId, 'executor', -1)).toEqual({ ok: false, code: 'TRUST_KEY_UNKNOWN' });
    expect(loaded.keyValidFor(exec.keyId, 'executor', 0)).toEqual({ ok: false, code: 'TRUST_KEY_UNKNOWN' });
    expect(loaded.keyValidFor(exec.keyId, 'executor', 2.5)).toEqual({ ok: false, code: 'TRUST_KEY_UNKNOWN' });
    expect(loaded.keyValidFor(root1.keyId, 'root', 1).ok).toBe(true);
  });

  it('replays to any sequence number with a state hash; the state records intervals', () => {
    const { registry, events } = history();
    const s2 = registry.stateAt(2);
    expect(s2.seq).toBe(2);
    expect(s2.head).toBe(trustEventDigest(events[1] as SignedEnvelope));
    expect(s2.keys.map((k) => k.keyid)).toContain(exec.keyId);
    expect(s2.keys.map((k) => k.keyid)).not.toContain(approver.keyId);
    expect(registry.stateAt(1).seq).toBe(1);
    expect(registry.stateAt(4).seq).toBe(4);
    expect(registry.stateHash(5)).toBe(registry.stateHash());
    expect(registry.stateHash(4)).not.toBe(registry.stateHash());
    const head = registry.stateAt();
    const old = head.keys.find((k) => k.keyid === exec.keyId);
    expect(old).toMatchObject({ revoked_at: 4, revocation: 'rotated', rotated_to: exec2.keyId });
    expect(old?.roles).toEqual([{ role: 'executor', granted_at: 2, revoked_at: 4 }]);
    expect(head.keys.find((k) => k.keyid === exec2.keyId)).toMatchObject({
      rotated_from: exec.keyId,
      published_at: 4,
    });
    // only states the registry went through have a sequence number
    for (const bad of [0, -1, 1.5, 6, Number.NaN])
      expect(
        code(() => registry.stateAt(bad)),
        String(bad),
      ).toBe('TRUST_SEQUENCE_INVALID');
    expect(code(() => registry.stateHash(6))).toBe('TRUST_SEQUENCE_INVALID');
    // keys are sorted by keyid in the canonical state
    const ids = head.keys.map((k) => k.keyid);
    expect([...ids].sort()).toEqual(ids);
  });

  it('is deterministic: same events, same bytes and state hash', () => {
    expect(history().registry.stateHash()).toBe(history().registry.stateHash());
    expect(JSON.stringify(history().events)).toBe(JSON.stringify(history().events));
  });

  it('serves as a key lookup callback and verifies role-bound envelopes at a sequence number', () => {
    const { registry } = history();
    const lookup = registry.keyLookup();
    expect(lookup(exec.keyId, 'executor', 3)).toBeInstanceOf(Uint8Array);
    expect(lookup(exec.keyId, 'executor', 4)).toBeUndefined();
    expect(registry.lookupFor('approver', 3)(approver.keyId)).toBeInstanceOf(Uint8Array);

    // a receipt signed by the executor key before and after rotation
    const receipt = signEnvelope({ type: 'helm.receipt.v1', lamport: 15, status: 'ok' }, [exec]);
    expect(registry.verifyEnvelopeAt(receipt, 'helm.receipt.v1', 'executor', 3)).toMatchObject({
      ok: true,
      keyIds: [exec.keyId],
    });
    expect(code(() => registry.verifyEnvelopeAt(receipt, 'helm.receipt.v1', 'executor', 4))).toBe(
      'TRUST_KEY_REVOKED',
    );
    // a decision signed by the approver after its revocation fails; before it verifies
    const approval = signEnvelope({ type: 'helm.approval.v1', lamport: 31 }, [approver]);
    expect(code(() => registry.verifyEnvelopeAt(approval, 'helm.approval.v1', 'approver', 5))).toBe(
      'TRUST_KEY_REVOKED',
    );
    expect(registry.verifyEnvelopeAt(approval, 'helm.approval.v1', 'approver', 4)).toMatchObject({
      ok: true,
      keyIds: [approver.keyId],
    });
    // never throws on its input: junk is a failure with a code
    for (const junk of [null, undefined, 1, 'x', {}, { signatures: [null] }, { signatures: 'x' }])
      expect(code(() => registry.verifyEnvelopeAt(junk as never, 'helm.receipt.v1', 'executor', 3))).toMatch(
        /^(TRUST_KEY_UNKNOWN|ENVELOPE_MALFORMED)$/,
      );
    // a key that never held the role
    expect(code(() => registry.verifyEnvelopeAt(approval, 'helm.approval.v1', 'executor', 4))).toBe(
      'TRUST_ROLE_MISSING',
    );
    // a valid key id with a bad signature still fails (crypto error)
    const tampered = {
      ...receipt,
      payload: toBase64Url(new TextEncoder().encode('{"lamport":15,"status":"no","type":"helm.receipt.v1"}')),
    };
    expect(code(() => registry.verifyEnvelopeAt(tampered, 'helm.receipt.v1', 'executor', 3))).toBe(
      'ENVELOPE_SIGNATURE_INVALID',
    );
  });

  it('supports role grant/revoke, threshold changes and root rotation under quorum', () => {
    const registry = TrustRegistry.fromGenesis(genesis());
    commitTrustEvent(registry, { kind: 'key_publish', publicKey: exec.publicKey, roles: [] }, [root1]);
    expect(registry.keyValidFor(exec.keyId, 'guardian', 2).ok).toBe(false);
    commitTrustEvent(registry, { kind: 'role_grant', keyid: exec.keyId, role: 'guardian' }, [root1]);
    expect(registry.keyValidFor(exec.keyId, 'guardian', 3).ok).toBe(true);
    commitTrustEvent(registry, { kind: 'role_revoke', keyid: exec.keyId, role: 'guardian' }, [root2]);
    expect(registry.keyValidFor(exec.keyId, 'guardian', 4)).toEqual({
      ok: false,
      code: 'TRUST_ROLE_MISSING',
    });
    expect(registry.keyValidFor(exec.keyId, 'guardian', 3).ok).toBe(true);
    commitTrustEvent(registry, { kind: 'role_grant', keyid: exec.keyId, role: 'guardian' }, [root2]);
    expect(registry.stateAt().keys.find((k) => k.keyid === exec.keyId)?.roles).toHaveLength(2);

    // root rotation needs quorum + the new key
    const newRoot = signer(4);
    expect(
      code(() =>
        commitTrustEvent(
          registry,
          { kind: 'key_rotate', keyid: root3.keyId, newPublicKey: newRoot.publicKey },
          [root3, newRoot],
        ),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    commitTrustEvent(registry, { kind: 'key_rotate', keyid: root3.keyId, newPublicKey: newRoot.publicKey }, [
      root1,
      root3,
      newRoot,
    ]);
    expect(registry.keyValidFor(newRoot.keyId, 'root', 6).ok).toBe(true);
    expect(registry.keyValidFor(root3.keyId, 'root', 6)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
    // the rotated-in root counts toward the quorum
    commitTrustEvent(registry, { kind: 'root_threshold_set', threshold: 3 }, [root1, newRoot]);
    expect(registry.rootThreshold).toBe(3);
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_grant', keyid: exec.keyId, role: 'root' }, [root1, root2]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    commitTrustEvent(registry, { kind: 'role_grant', keyid: exec.keyId, role: 'root' }, [
      root1,
      root2,
      newRoot,
    ]);
    commitTrustEvent(registry, { kind: 'role_revoke', keyid: exec.keyId, role: 'root' }, [
      root1,
      root2,
      newRoot,
    ]);
    // revoking root so that quorum becomes unreachable is refused
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'key_revoke', keyid: root1.keyId }, [root1, root2, newRoot]),
      ),
    ).toBe('TRUST_QUORUM_UNREACHABLE');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_revoke', keyid: root1.keyId, role: 'root' }, [
          root1,
          root2,
          newRoot,
        ]),
      ),
    ).toBe('TRUST_QUORUM_UNREACHABLE');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'root_threshold_set', threshold: 4 }, [root1, root2, newRoot]),
      ),
    ).toBe('TRUST_QUORUM_UNREACHABLE');
    commitTrustEvent(registry, { kind: 'root_threshold_set', threshold: 2 }, [root1, root2, newRoot]);
    commitTrustEvent(registry, { kind: 'key_revoke', keyid: root1.keyId }, [root2, newRoot]);
    expect(registry.keyValidFor(root1.keyId, 'root', 11)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
    // publishing a new root key needs quorum; a non-root key can revoke itself
    const root5 = signer(5);
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'key_publish', publicKey: root5.publicKey, roles: ['root'] }, [
          root2,
        ]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    commitTrustEvent(
      registry,
      { kind: 'key_publish', publicKey: root5.publicKey, roles: ['root', 'checkpoint'] },
      [root2, newRoot],
    );
    commitTrustEvent(registry, { kind: 'key_revoke', keyid: exec.keyId }, [exec]);
    // reloading verifies everything again and reaches the same state
    const again = TrustRegistry.load(registry.events(), { genesis: registry.genesis });
    expect(again.stateHash()).toBe(registry.stateHash());
  });

  it('rotation of a non-root key by root (key lost) is allowed; by a stranger is not', () => {
    const registry = TrustRegistry.fromGenesis(genesis());
    commitTrustEvent(registry, { kind: 'key_publish', publicKey: exec.publicKey, roles: ['executor'] }, [
      root1,
    ]);
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'key_rotate', keyid: exec.keyId, newPublicKey: exec2.publicKey }, [
          exec2,
        ]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'key_rotate', keyid: exec.keyId, newPublicKey: exec2.publicKey }, [
          root1,
        ]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    commitTrustEvent(registry, { kind: 'key_rotate', keyid: exec.keyId, newPublicKey: exec2.publicKey }, [
      root1,
      exec2,
    ]);
    expect(registry.keyValidFor(exec2.keyId, 'executor', 3).ok).toBe(true);
  });
});

describe('trust registry: adversarial histories', () => {
  const anchor = () => ({ genesis: trustEventDigest(genesis()) });

  it('refuses a forged event (tampered payload, attacker key, unsigned)', () => {
    const { events } = history();
    const e1 = events[1] as SignedEnvelope;
    const body = JSON.parse(new TextDecoder().decode(fromBase64Url(e1.payload)));
    const tamperedPayload = toBase64Url(
      new TextEncoder().encode(
        JSON.stringify({ ...body, roles: ['executor', 'guardian'] }).replace(/\s/g, ''),
      ),
    );
    // canonical key order so only the signature check can catch it
    const canon = signEnvelope({ ...body, roles: ['executor', 'guardian'] }, [root1]).payload;
    expect(tamperedPayload.length).toBeGreaterThan(0);
    const forged = { ...e1, payload: canon };
    expect(code(() => TrustRegistry.load([events[0] as SignedEnvelope, forged], anchor()))).toBe(
      'TRUST_EVENT_SIGNATURE_INVALID',
    );
    const byAttacker = reforge(e1, {}, [attacker]);
    expect(code(() => TrustRegistry.load([events[0] as SignedEnvelope, byAttacker], anchor()))).toBe(
      'TRUST_KEY_UNKNOWN',
    );
    const unsigned = { ...e1, signatures: [] };
    expect(code(() => TrustRegistry.load([events[0] as SignedEnvelope, unsigned], anchor()))).toBe(
      'TRUST_EVENT_MALFORMED',
    );
    // an attacker-made genesis is not the anchor
    const fake = createGenesisEvent(
      { registry: 'helm-test', rootKeys: [attacker.publicKey], rootThreshold: 1 },
      [attacker],
    );
    expect(code(() => TrustRegistry.load([fake], anchor()))).toBe('TRUST_ANCHOR_MISMATCH');
  });

  it('refuses a re-ordered, duplicated or truncated-at-the-front history', () => {
    const { events } = history();
    const [g, a, b, c, d] = events as [
      SignedEnvelope,
      SignedEnvelope,
      SignedEnvelope,
      SignedEnvelope,
      SignedEnvelope,
    ];
    expect(code(() => TrustRegistry.load([g, b, a, c, d], anchor()))).toBe('TRUST_CHAIN_BROKEN');
    expect(code(() => TrustRegistry.load([g, a, a, b, c, d], anchor()))).toBe('TRUST_EVENT_DUPLICATE');
    expect(code(() => TrustRegistry.load([g, g], anchor()))).toBe('TRUST_EVENT_DUPLICATE');
    expect(code(() => TrustRegistry.load([a, b, c, d], anchor()))).toBe('TRUST_GENESIS_INVALID');
    expect(code(() => TrustRegistry.load([], anchor()))).toBe('TRUST_GENESIS_INVALID');
    expect(code(() => TrustRegistry.load([g, b], anchor()))).toBe('TRUST_CHAIN_BROKEN');
  });

  it('refuses bad sequence numbers, a lamport field and foreign registries', () => {
    const registry = TrustRegistry.fromGenesis(genesis());
    const ok = prepareTrustEvent(
      registry,
      { kind: 'key_publish', publicKey: exec.publicKey, roles: ['executor'] },
      [root1],
    );
    // a height advances by exactly one per event: no gaps, no repeats
    expect(code(() => registry.append(reforge(ok, { seq: 3 }, [root1])))).toBe('TRUST_SEQUENCE_INVALID');
    expect(code(() => registry.append(reforge(ok, { seq: 1 }, [root1])))).toBe('TRUST_SEQUENCE_INVALID');
    expect(code(() => registry.append(reforge(ok, { seq: 1_000_000 }, [root1])))).toBe(
      'TRUST_SEQUENCE_INVALID',
    );
    // heights are sequence numbers: a signer-chosen height is not part of the format
    expect(code(() => registry.append(reforge(ok, { lamport: 2 }, [root1])))).toBe('TRUST_EVENT_MALFORMED');
    expect(code(() => registry.append(reforge(ok, { registry: 'other' }, [root1])))).toBe(
      'TRUST_CHAIN_BROKEN',
    );
    expect(
      code(() =>
        registry.append(
          reforge(
            ok,
            { kind: 'genesis', root_keys: [], root_threshold: 1, key: undefined, roles: undefined },
            [root1],
          ),
        ),
      ),
    ).toBe('TRUST_EVENT_MALFORMED');
    const genesisKind = reforge(
      ok,
      {
        kind: 'genesis',
        root_keys: [{ keyid: root1.keyId, public_key: toBase64Url(root1.publicKey) }],
        root_threshold: 1,
        key: undefined,
        roles: undefined,
      },
      [root1],
    );
    expect(code(() => registry.append(genesisKind))).toBe('TRUST_GENESIS_INVALID');
    expect(code(() => registry.append(genesis()))).toBe('TRUST_EVENT_DUPLICATE');
    const second = createGenesisEvent(
      { registry: 'helm-test', rootKeys: [root1.publicKey], rootThreshold: 1 },
      [root1],
    );
    expect(code(() => registry.append(second))).toBe('TRUST_GENESIS_INVALID');
    expect(registry.seq).toBe(1); // nothing applied
    registry.append(ok);
    expect(registry.seq).toBe(2);
    expect(registry.headAt(2)).toBe(trustEventDigest(ok));
  });

  it('refuses an event signed by a revoked key', () => {
    const { registry } = history();
    // the approver key was revoked at 30; the old executor key was rotated at 20
    expect(
      code(() => commitTrustEvent(registry, { kind: 'key_revoke', keyid: approver.keyId }, [approver])),
    ).toBe('TRUST_KEY_REVOKED');
    expect(code(() => commitTrustEvent(registry, { kind: 'key_revoke', keyid: exec2.keyId }, [exec]))).toBe(
      'TRUST_KEY_REVOKED',
    );
    // a revoked root key cannot contribute to a quorum either
    const r = TrustRegistry.fromGenesis(genesis());
    commitTrustEvent(r, { kind: 'root_threshold_set', threshold: 1 }, [root1, root2]);
    commitTrustEvent(r, { kind: 'key_revoke', keyid: root3.keyId }, [root1]);
    expect(
      code(() => commitTrustEvent(r, { kind: 'key_publish', publicKey: exec.publicKey, roles: [] }, [root3])),
    ).toBe('TRUST_KEY_REVOKED');
  });

  it('refuses a rotation loop and key reuse', () => {
    const { registry } = history();
    // exec -> exec2 happened; exec2 -> exec would resurrect a retired key
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'key_rotate', keyid: exec2.keyId, newPublicKey: exec.publicKey }, [
          exec2,
          exec,
        ]),
      ),
    ).toBe('TRUST_KEY_EXISTS');
    expect(
      code(() =>
        commitTrustEvent(
          registry,
          { kind: 'key_rotate', keyid: exec2.keyId, newPublicKey: exec2.publicKey },
          [exec2],
        ),
      ),
    ).toBe('TRUST_KEY_EXISTS');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'key_publish', publicKey: approver.publicKey, roles: [] }, [
          root1,
        ]),
      ),
    ).toBe('TRUST_KEY_EXISTS');
    expect(
      code(() =>
        commitTrustEvent(
          registry,
          { kind: 'key_rotate', keyid: approver.keyId, newPublicKey: signer(13).publicKey },
          [root1, signer(13)],
        ),
      ),
    ).toBe('TRUST_KEY_REVOKED');
    expect(
      code(() =>
        commitTrustEvent(
          registry,
          { kind: 'key_rotate', keyid: attacker.keyId, newPublicKey: signer(13).publicKey },
          [root1, signer(13)],
        ),
      ),
    ).toBe('TRUST_KEY_UNKNOWN');
  });

  it('refuses role escalation by a non-root key', () => {
    const { registry } = history();
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_grant', keyid: exec2.keyId, role: 'guardian' }, [exec2]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_grant', keyid: exec2.keyId, role: 'root' }, [exec2]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_grant', keyid: exec2.keyId, role: 'root' }, [root1]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    expect(
      code(() =>
        commitTrustEvent(
          registry,
          { kind: 'key_publish', publicKey: attacker.publicKey, roles: ['executor'] },
          [exec2, attacker],
        ),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    expect(
      code(() => commitTrustEvent(registry, { kind: 'root_threshold_set', threshold: 1 }, [root1])),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_revoke', keyid: root1.keyId, role: 'root' }, [exec2]),
      ),
    ).toBe('TRUST_EVENT_UNAUTHORIZED');
    const once = prepareTrustEvent(registry, { kind: 'key_revoke', keyid: exec2.keyId }, [root1]);
    const twice = { ...once, signatures: [...once.signatures, ...once.signatures] };
    expect(code(() => registry.append(twice))).toBe('TRUST_EVENT_MALFORMED');
    // conflicting grants / revokes
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_grant', keyid: exec2.keyId, role: 'executor' }, [root1]),
      ),
    ).toBe('TRUST_ROLE_CONFLICT');
    expect(
      code(() =>
        commitTrustEvent(registry, { kind: 'role_revoke', keyid: exec2.keyId, role: 'guardian' }, [root1]),
      ),
    ).toBe('TRUST_ROLE_CONFLICT');
    expect(code(() => commitTrustEvent(registry, { kind: 'key_revoke', keyid: root1.keyId }, [root1]))).toBe(
      'TRUST_EVENT_UNAUTHORIZED',
    );
    expect(registry.seq).toBe(5);
  });

  it('validates genesis events', () => {
    const g = genesis();
    expect(code(() => TrustRegistry.fromGenesis(reforge(g, {}, [root1])))).toBe('TRUST_GENESIS_INVALID');
    expect(code(() => TrustRegistry.fromGenesis(reforge(g, {}, [root1, attacker])))).toBe(
      'TRUST_KEY_UNKNOWN',
    );
    expect(code(() => TrustRegistry.fromGenesis(reforge(g, { root_threshold: 4 })))).toBe(
      'TRUST_EVENT_MALFORMED',
    );
    expect(code(() => TrustRegistry.fromGenesis(reforge(g, { seq: 2 })))).toBe('TRUST_GENESIS_INVALID');
    expect(code(() => TrustRegistry.fromGenesis(reforge(g, { seq: 0 })))).toBe('TRUST_EVENT_MALFORMED');
    expect(
      code(() =>
        createGenesisEvent({ registry: '', rootKeys: [root1.publicKey], rootThreshold: 1 }, [root1]),
      ),
    ).toBe('TRUST_EVENT_MALFORMED');
    const sevenRoots = createGenesisEvent({ registry: 'r', rootKeys: [root1.publicKey], rootThreshold: 1 }, [
      root1,
    ]);
    const dupRoot = reforge(
      sevenRoots,
      {
        root_keys: [
          JSON.parse(new TextDecoder().decode(fromBase64Url(sevenRoots.payload))).root_keys[0],
          JSON.parse(new TextDecoder().decode(fromBase64Url(sevenRoots.payload))).root_keys[0],
        ],
      },
      [root1],
    );
    expect(code(() => TrustRegistry.fromGenesis(dupRoot))).toBe('TRUST_EVENT_MALFORMED');
  });

  it('validates event structure strictly', () => {
    const registry = TrustRegistry.fromGenesis(genesis());
    const ok = prepareTrustEvent(registry, { kind: 'role_grant', keyid: root1.keyId, role: 'checkpoint' }, [
      root1,
    ]);
    const bad: Record<string, unknown>[] = [
      { role: 'superuser' },
      { keyid: 'ed25519:xyz' },
      { extra: 1 },
      { prev: 'sha256:abc' },
      { seq: -1 },
      { seq: 0 },
      { seq: 2.5 },
      { lamport: 2 },
      { kind: 'nope' },
      { type: 'helm.other.v1' },
    ];
    for (const patch of bad)
      expect(
        code(() => registry.append(reforge(ok, patch, [root1]))),
        JSON.stringify(patch),
      ).toBe('TRUST_EVENT_MALFORMED');
    const pub = prepareTrustEvent(registry, { kind: 'key_publish', publicKey: exec.publicKey, roles: [] }, [
      root1,
    ]);
    const badPub: Record<string, unknown>[] = [
      { key: { keyid: exec.keyId, public_key: 'AAAA' } },
      { key: { keyid: approver.keyId, public_key: toBase64Url(exec.publicKey) } },
      { key: 'x' },
      { roles: 'executor' },
      { roles: ['executor', 'executor'] },
    ];
    for (const patch of badPub)
      expect(
        code(() => registry.append(reforge(pub, patch, [root1]))),
        JSON.stringify(patch),
      ).toBe('TRUST_EVENT_MALFORMED');
    const thr = prepareTrustEvent(registry, { kind: 'root_threshold_set', threshold: 1 }, [root1, root2]);
    expect(code(() => registry.append(reforge(thr, { threshold: 0 })))).toBe('TRUST_EVENT_MALFORMED');
    const notJson = {
      type: 'helm.trust.event.v1',
      payload: toBase64Url(new TextEncoder().encode('{')),
      signatures: ok.signatures,
    };
    expect(code(() => registry.append(notJson))).toBe('TRUST_EVENT_MALFORMED');
    expect(code(() => registry.append({ ...ok, type: 'helm.receipt.v1' }))).toBe('TRUST_EVENT_MALFORMED');
    expect(code(() => registry.append({ ...ok, payload: '***' }))).toBe('TRUST_EVENT_MALFORMED');
    expect(code(() => registry.append(null as unknown as SignedEnvelope))).toBe('TRUST_EVENT_MALFORMED');
    expect(code(() => registry.append({ ...ok, signatures: [{ keyid: root1.keyId, sig: 'AAAA' }] }))).toBe(
      'TRUST_EVENT_SIGNATURE_INVALID',
    );
    expect(
      code(() => prepareTrustEvent(registry, { kind: 'root_threshold_set', threshold: 0 }, [root1])),
    ).toBe('TRUST_EVENT_MALFORMED');
    registry.append(ok);
  });
});

describe('trust snapshots', () => {
  it('round-trips and re-verifies the whole history', () => {
    const { registry } = history();
    const snapshot = exportTrustSnapshot(registry);
    expect(snapshot.type).toBe('helm.trust.snapshot.v1');
    const json = JSON.parse(JSON.stringify(snapshot));
    const imported = importTrustSnapshot(json, { genesis: registry.genesis });
    expect(imported.stateHash()).toBe(snapshot.state_hash);
    expect(imported.keyValidFor(exec2.keyId, 'executor', 5).ok).toBe(true);
    expect(imported.headAt(5)).toBe(snapshot.head);
  });

  it('refuses a wrong state hash, a truncated history, a wrong anchor and malformed snapshots', () => {
    const { registry } = history();
    const snapshot = exportTrustSnapshot(registry);
    const anchor = { genesis: registry.genesis };
    expect(
      code(() => importTrustSnapshot({ ...snapshot, state_hash: `sha256:${'1'.repeat(64)}` }, anchor)),
    ).toBe('TRUST_SNAPSHOT_HASH_MISMATCH');
    expect(
      code(() => importTrustSnapshot({ ...snapshot, events: snapshot.events.slice(0, 4) }, anchor)),
    ).toBe('TRUST_SNAPSHOT_TRUNCATED');
    expect(code(() => importTrustSnapshot({ ...snapshot, seq: 3 }, anchor))).toBe(
      'TRUST_SNAPSHOT_HASH_MISMATCH',
    );
    expect(code(() => importTrustSnapshot({ ...snapshot, head: snapshot.genesis }, anchor))).toBe(
      'TRUST_SNAPSHOT_HASH_MISMATCH',
    );
    expect(code(() => importTrustSnapshot(snapshot, { genesis: `sha256:${'2'.repeat(64)}` }))).toBe(
      'TRUST_ANCHOR_MISMATCH',
    );
    // a consistent header over a truncated history still has to replay to the declared hash
    const truncated = TrustRegistry.load(snapshot.events.slice(0, 4), anchor);
    expect(
      code(() =>
        importTrustSnapshot({ ...exportTrustSnapshot(truncated), state_hash: snapshot.state_hash }, anchor),
      ),
    ).toBe('TRUST_SNAPSHOT_HASH_MISMATCH');
    // swapping events breaks the chain during import
    const swapped = [...snapshot.events];
    [swapped[2], swapped[3]] = [swapped[3] as SignedEnvelope, swapped[2] as SignedEnvelope];
    expect(code(() => importTrustSnapshot({ ...snapshot, events: swapped }, anchor))).toBe(
      'TRUST_CHAIN_BROKEN',
    );
    for (const bad of [
      null,
      [],
      'x',
      { ...snapshot, extra: 1 },
      { ...snapshot, type: 'helm.trust.state.v1' },
      { ...snapshot, head: 'x' },
      { ...snapshot, seq: 'x' },
      { ...snapshot, events: [] },
    ]) {
      expect(code(() => importTrustSnapshot(bad, anchor))).toBe('TRUST_SNAPSHOT_MALFORMED');
    }
  });

  it('maps error codes onto the reason-code registry', () => {
    expect(reasonCodeFor('TRUST_KEY_REVOKED')).toBe('TRUST_KEY_REVOKED');
    expect(reasonCodeFor('TRUST_CHAIN_BROKEN')).toBe('TRUST_HISTORY_INVALID');
    expect(reasonCodeFor('TUF_ROLLBACK')).toBe('TUF_METADATA_INVALID');
    expect(reasonCodeFor('SLSA_BUILDER_MISMATCH')).toBe('ARTIFACT_PROVENANCE_INVALID');
    expect(reasonCodeFor('ANCHOR_INPUT_INVALID')).toBe('SIGNATURE_INVALID');
    expect(new TrustError('TRUST_KEY_UNKNOWN', 'x').reason).toBe('TRUST_KEY_UNKNOWN');
  });
});
