// Spec vectors (docs/spec/trust-event.md, docs/spec/trust-snapshot.md). The committed file
// test/vectors/trust-registry.json is what the specs quote; this test regenerates every value and
// requires byte equality (set UPDATE_VECTORS=1 to rewrite the file after an intended change).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SignedEnvelope } from '@helm/contracts';
import {
  canonicalBytes,
  fromBase64Url,
  keyPairFromSeed,
  preAuthEncoding,
  sha256Hex,
  toHex,
  verifyEd25519,
} from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  commitTrustEvent,
  createGenesisEvent,
  exportTrustSnapshot,
  importTrustSnapshot,
  TrustRegistry,
  trustEventDigest,
} from '../src/index.ts';
import { seed, signer } from './helpers.ts';

const FILE = new URL('./vectors/trust-registry.json', import.meta.url);

function describeEvent(envelope: SignedEnvelope) {
  const payload = fromBase64Url(envelope.payload) as Uint8Array;
  return {
    body_jcs: new TextDecoder().decode(payload),
    payload_hex: toHex(payload),
    payload_sha256: sha256Hex(payload),
    pae_sha256: sha256Hex(preAuthEncoding(envelope.type, payload)),
    envelope,
    event_digest: trustEventDigest(envelope),
  };
}

function build() {
  const keys = Object.fromEntries(
    [1, 2, 3, 10, 12].map((i) => [
      `seed_${i}`,
      {
        seed_hex: toHex(seed(i)),
        keyid: keyPairFromSeed(seed(i)).keyId,
        public_key_hex: toHex(keyPairFromSeed(seed(i)).publicKey),
      },
    ]),
  );
  const genesis = createGenesisEvent(
    {
      registry: 'helm-example',
      rootKeys: [signer(1).publicKey, signer(2).publicKey, signer(3).publicKey],
      rootThreshold: 2,
    },
    [signer(1), signer(2)],
  );
  const registry = TrustRegistry.fromGenesis(genesis);
  const publish = commitTrustEvent(
    registry,
    { kind: 'key_publish', publicKey: signer(10).publicKey, roles: ['executor'] },
    [signer(1)],
  );
  const rotate = commitTrustEvent(
    registry,
    { kind: 'key_rotate', keyid: signer(10).keyId, newPublicKey: signer(12).publicKey },
    [signer(10), signer(12)],
  );
  const revoke = commitTrustEvent(registry, { kind: 'key_revoke', keyid: signer(12).keyId }, [signer(2)]);
  const snapshot = exportTrustSnapshot(registry);
  return {
    description:
      'HELM trust registry vectors: seeds are 32 bytes of the value i (published test keys, never use in production).',
    keys,
    events: [genesis, publish, rotate, revoke].map(describeEvent),
    state_at_seq_3: {
      jcs: new TextDecoder().decode(canonicalBytes(registry.stateAt(3))),
      state_hash: registry.stateHash(3),
    },
    state_at_head: {
      jcs: new TextDecoder().decode(canonicalBytes(registry.stateAt())),
      state_hash: registry.stateHash(),
    },
    snapshot,
    queries: [
      { keyid: signer(10).keyId, role: 'executor', seq: 2, answer: 'ok' },
      { keyid: signer(10).keyId, role: 'executor', seq: 3, answer: 'TRUST_KEY_REVOKED' },
      { keyid: signer(12).keyId, role: 'executor', seq: 3, answer: 'ok' },
      { keyid: signer(12).keyId, role: 'executor', seq: 4, answer: 'TRUST_KEY_REVOKED' },
      { keyid: signer(12).keyId, role: 'executor', seq: 2, answer: 'TRUST_KEY_UNKNOWN' },
      { keyid: signer(1).keyId, role: 'executor', seq: 3, answer: 'TRUST_ROLE_MISSING' },
      { keyid: signer(1).keyId, role: 'root', seq: 5, answer: 'TRUST_KEY_UNKNOWN' },
    ].map((q) => {
      const a = registry.keyValidFor(q.keyid, q.role, q.seq);
      return { ...q, answer: a.ok ? 'ok' : a.code };
    }),
  };
}

describe('published vectors', () => {
  it('the spec pages quote every published value', () => {
    const v = JSON.parse(readFileSync(FILE, 'utf8'));
    const events = readFileSync(new URL('../../../docs/spec/trust-event.md', import.meta.url), 'utf8');
    const snapshot = readFileSync(new URL('../../../docs/spec/trust-snapshot.md', import.meta.url), 'utf8');
    const [genesis, publish, rotate, revoke] = v.events;
    for (const e of [genesis, publish, rotate]) expect(events).toContain(e.body_jcs);
    for (const e of v.events) expect(events).toContain(e.event_digest);
    for (const e of [genesis, publish, rotate])
      for (const s of e.envelope.signatures) expect(events).toContain(s.sig);
    expect(events).toContain(genesis.payload_sha256);
    expect(events).toContain(genesis.pae_sha256);
    expect(events).toContain(publish.payload_sha256);
    expect(events).toContain(revoke.event_digest);
    expect(events).toContain(v.state_at_seq_3.state_hash);
    expect(events).toContain(v.state_at_head.state_hash);
    for (const value of [v.snapshot.genesis, v.snapshot.head, v.snapshot.state_hash, v.state_at_head.jcs])
      expect(snapshot).toContain(value);
  });

  it('regenerate byte-for-byte', () => {
    const vectors = build();
    const text = `${JSON.stringify(vectors, null, 2)}\n`;
    if (process.env.UPDATE_VECTORS === '1' || !existsSync(FILE)) writeFileSync(FILE, text);
    expect(readFileSync(FILE, 'utf8')).toBe(text);
  });

  it('verify independently: signatures over PAE, hash links, snapshot import', () => {
    const v = JSON.parse(readFileSync(FILE, 'utf8'));
    const byKeyid = new Map<string, string>(
      Object.values(v.keys as Record<string, { keyid: string; public_key_hex: string }>).map((k) => [
        k.keyid,
        k.public_key_hex,
      ]),
    );
    let prev = `sha256:${'0'.repeat(64)}`;
    for (const e of v.events) {
      const payload = Buffer.from(e.payload_hex, 'hex');
      expect(JSON.parse(e.body_jcs).prev).toBe(prev);
      const head = Buffer.from(
        `HELMSIG1 ${'helm.trust.event.v1'.length} helm.trust.event.v1 ${payload.length} `,
      );
      const pae = Buffer.concat([head, payload]);
      for (const s of e.envelope.signatures) {
        const pk = Buffer.from(byKeyid.get(s.keyid) as string, 'hex');
        expect(verifyEd25519(pk, pae, Buffer.from(s.sig, 'base64url')).ok).toBe(true);
      }
      prev = e.event_digest;
    }
    expect(v.queries.map((q: { answer: string }) => q.answer)).toEqual([
      'ok',
      'TRUST_KEY_REVOKED',
      'ok',
      'TRUST_KEY_REVOKED',
      'TRUST_KEY_UNKNOWN',
      'TRUST_ROLE_MISSING',
      'TRUST_KEY_UNKNOWN',
    ]);
    expect(importTrustSnapshot(v.snapshot, { genesis: v.events[0].event_digest }).stateHash()).toBe(
      v.state_at_head.state_hash,
    );
    expect(`sha256:${sha256Hex(new TextEncoder().encode(v.state_at_head.jcs))}`).toBe(
      v.state_at_head.state_hash,
    );
  });
});
